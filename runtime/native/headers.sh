# Sourced by runtime/native/build.sh and runtime/sci/build.sh: lays out the
# headers the guest's native code is compiled against.
#   guest_headers WORK
# needs: $downloads (checked inputs of inputs.lock), $python, $cpy_so,
#        lock_file (name -> file in inputs.lock).
# sets:  sysroot  wasi-libc sysroot (WORK/deb/usr)
#        pyinc    CPython 3.14 headers with the bundled CPython's pyconfig.h
#                 (and its sysconfig.json, see pyconfig_from_bundle.py)
guest_headers() {
  local work="$1"
  mkdir -p "$work/deb" "$work/pyinc"
  dpkg-deb -x "$downloads/$(lock_file wasi-libc)" "$work/deb"
  dpkg-deb -x "$downloads/$(lock_file libpython3.14-dev)" "$work/deb"
  sysroot="$work/deb/usr"
  pyinc="$work/pyinc"
  cp -r "$work/deb/usr/include/python3.14/." "$pyinc/"
  "$python" "$here_native/pyconfig_from_bundle.py" "$cpy_so" \
    "$work/deb/usr/include/x86_64-linux-gnu/python3.14/pyconfig.h" "$pyinc"
}
