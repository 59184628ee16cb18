# Sourced by runtime/sci/build.sh (numpy) and runtime/sci/pandas/build.sh:
# the cross toolchain both packages build with, their inputs and their cache.
#   sci_setup LABEL        checks tools, sets cache_root downloads python cpy_so jobs
#   sci_key_inputs         prints what every cached build depends on (for its key)
#   sci_fetch LOCK WORK    downloads and checks the inputs of LOCK into $downloads
#   sci_toolchain WORK DEFINE...
#                          headers, the guest's Python for meson, the C++ throw
#                          shim, the environment of wasm32-cc and WORK/cross.ini
#                          (DEFINE...: the c_args/cpp_args of every compile)
#   sci_store WORK DEST OUT   moves WORK/site and WORK/manifest.txt to DEST
#                          (the cache entry) and copies them to OUT
# needs: $sci (runtime/sci), $root (the repository).
here_native="$root/runtime/native"
libcxx=/usr/lib/llvm-19/include/wasm32-wasi/c++/v1

sci_setup() {
  sci_label="$1"
  cache_root="${ISOLA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isola-build}"
  downloads="$cache_root/downloads"
  python="$root/.venv/bin/python"
  [ -x "$python" ] || { echo "$sci_label build: $python is missing (make setup)" >&2; exit 1; }
  cpy_so="$("$python" -c 'import componentize_py, os; print(os.path.join(os.path.dirname(componentize_py.__file__), "componentize_py.abi3.so"))')"
  jobs="${ISOLA_BUILD_JOBS:-2}"
  local tool
  for tool in clang-19 clang++-19 wasm-ld-19 llvm-ar-19 llvm-ranlib-19 dpkg-deb patch; do
    command -v "$tool" >/dev/null || { echo "$sci_label build: '$tool' is missing (make setup installs it with apt)" >&2; exit 1; }
  done
  [ -d "$libcxx" ] || { echo "$sci_label build: $libcxx is missing (apt: libc++-19-dev-wasm32)" >&2; exit 1; }
  for tool in cython ninja meson; do
    [ -x "$root/.venv/bin/$tool" ] || { echo "$sci_label build: .venv/bin/$tool is missing (make setup)" >&2; exit 1; }
  done
}

sci_key_inputs() {
  grep -v '^#' "$here_native/inputs.lock"
  cat "$sci/common.sh" "$sci/wasm32-cc" "$sci/guest_python.py" "$sci/cxx_throw.c" "$sci/merge_extensions.py" \
      "$here_native/headers.sh" "$here_native/pyconfig_from_bundle.py"
  sha256sum < "$cpy_so"
  clang-19 --version | head -1
  "$root/.venv/bin/cython" --version 2>&1
  "$root/.venv/bin/meson" --version
  dpkg-query -W -f='${Version}\n' libc++-19-dev-wasm32
}

sci_fetch() {
  local lock="$1" work="$2" kind name version file sha url
  mkdir -p "$downloads"
  while read -r kind name version file sha url; do
    if ! { [ -f "$downloads/$file" ] && echo "$sha  $downloads/$file" | sha256sum -c --quiet - 2>/dev/null; }; then
      echo "$sci_label build: fetching $file"
      "$python" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=600).read())' \
        "$url" "$work/$file"
      echo "$sha  $work/$file" | sha256sum -c --quiet - || { echo "$sci_label build: checksum mismatch for $file" >&2; exit 1; }
      mv "$work/$file" "$downloads/$file"
    fi
  done < <(grep -v '^#' "$lock" | grep .)
}

# The file (4th column) of NAME in runtime/native/inputs.lock (headers.sh).
lock_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $5 }' "$here_native/inputs.lock"; }

sci_toolchain() {
  local work="$1"
  shift
  # The native build fetches and checks the shared Debian inputs.
  bash "$here_native/build.sh" "$work/native" >/dev/null
  # shellcheck source=runtime/native/headers.sh
  . "$here_native/headers.sh"
  guest_headers "$work"
  "$python" -c 'import json, sys; json.dump({"variables": json.load(open(sys.argv[1])), "include": sys.argv[2]}, open(sys.argv[3], "w"))' \
    "$pyinc/sysconfig.json" "$pyinc" "$work/guest-sysconfig.json"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$python" "$sci/guest_python.py" > "$work/guest-python"
  chmod +x "$work/guest-python"
  clang-19 --target=wasm32-wasip2 "--sysroot=$sysroot" -fPIC -O2 -Wall -Wextra -Werror -c "$sci/cxx_throw.c" -o "$work/cxx_throw.o"
  llvm-ar-19 rcs "$work/libcxx_throw.a" "$work/cxx_throw.o"
  export ISOLA_WASM_SYSROOT="$sysroot" ISOLA_WASM_LIBCXX="$libcxx" ISOLA_WASM_SHIM="$work/libcxx_throw.a"
  export ISOLA_GUEST_SYSCONFIG="$work/guest-sysconfig.json"
  export PATH="$root/.venv/bin:$PATH"
  local args
  args="$(printf "'%s', " "$@" | sed 's/, $//; s/^/[/; s/$/]/')"
  cat > "$work/cross.ini" <<INI
[binaries]
c = '$sci/wasm32-cc'
cpp = '$sci/wasm32-c++'
ar = 'llvm-ar-19'
ranlib = 'llvm-ranlib-19'
nm = 'llvm-nm-19'
strip = 'llvm-strip-19'
python = '$work/guest-python'
cython = '$root/.venv/bin/cython'

[built-in options]
c_args = $args
cpp_args = $args

[properties]
longdouble_format = 'IEEE_QUAD_LE'

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
INI
}

sci_store() {
  local work="$1" dest="$2" out="$3"
  rm -rf "$dest.new"
  mkdir -p "$dest.new"
  mv "$work/site" "$dest.new/site"
  mv "$work/manifest.txt" "$dest.new/manifest.txt"
  rm -rf "$dest"
  mv "$dest.new" "$dest"
  sci_install "$dest" "$out"
}

# Copies a cache entry's site and manifest to OUT.
sci_install() {
  local dest="$1" out="$2"
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  cp -r "$dest/site" "$out"
  cp "$dest/manifest.txt" "$out/"
}
