#!/usr/bin/env bash
# Build numpy for the guest: its Python files and its extension modules as
# wasm32-wasi shared libraries that componentize-py links into the
# scientific runtime component (runtime/sci/component.sh).
#   runtime/sci/build.sh [SITE_DIR]   (default: runtime/python/out/sci-site)
#
# Inputs: the numpy sdist of inputs.lock (sha256-checked), the sysroot and
# CPython headers of runtime/native (runtime/native/headers.sh), Debian's
# clang-19/lld-19 and libc++-19-dev-wasm32 headers, Cython from .venv.
# numpy's own (vendored) meson cross-compiles it: wasm32-cc is the compiler,
# guest_python.py answers meson's questions about the guest's Python. No
# BLAS (numpy's bundled lapack_lite), no SIMD dispatch, no threads, no
# signals. patches/ holds the source changes, each explained in its header.
#
# Output cached under $ISOLA_BUILD_CACHE (default ~/.cache/isola-build)/
# sci-<hash of every input>/site and copied to SITE_DIR. Cold build: see
# manifest.txt ("built in").  ISOLA_BUILD_JOBS (default 2) compile jobs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
here_native="$root/runtime/native"
out="${1:-$root/runtime/python/out/sci-site}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

cache_root="${ISOLA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isola-build}"
downloads="$cache_root/downloads"
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "sci build: $python is missing (make setup)" >&2; exit 1; }
cpy_so="$("$python" -c 'import componentize_py, os; print(os.path.join(os.path.dirname(componentize_py.__file__), "componentize_py.abi3.so"))')"
jobs="${ISOLA_BUILD_JOBS:-2}"

for tool in clang-19 clang++-19 wasm-ld-19 llvm-ar-19 llvm-ranlib-19 dpkg-deb patch; do
  command -v "$tool" >/dev/null || { echo "sci build: '$tool' is missing (make setup installs it with apt)" >&2; exit 1; }
done
libcxx=/usr/lib/llvm-19/include/wasm32-wasi/c++/v1
[ -d "$libcxx" ] || { echo "sci build: $libcxx is missing (apt: libc++-19-dev-wasm32)" >&2; exit 1; }
for tool in cython ninja; do
  [ -x "$root/.venv/bin/$tool" ] || { echo "sci build: .venv/bin/$tool is missing (make setup)" >&2; exit 1; }
done

key="$( { grep -v '^#' "$here/inputs.lock"; grep -v '^#' "$here_native/inputs.lock";
          cat "$here/build.sh" "$here/wasm32-cc" "$here/guest_python.py" "$here/cxx_throw.c" "$here"/patches/* \
              "$here_native/headers.sh" "$here_native/pyconfig_from_bundle.py";
          sha256sum < "$cpy_so"; clang-19 --version | head -1; "$root/.venv/bin/cython" --version 2>&1;
          dpkg-query -W -f='${Version}\n' libc++-19-dev-wasm32; } | sha256sum | cut -c1-16)"
dest="$cache_root/sci-$key"

install_out() {
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  cp -r "$dest/site" "$out"
  cp "$dest/manifest.txt" "$out/"
}

if [ -f "$dest/manifest.txt" ]; then
  echo "sci site: cached $dest"
  install_out
  exit 0
fi

start=$(date +%s)
mkdir -p "$downloads"
work="$(mktemp -d "$cache_root/sci-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- inputs: the native build fetches and checks the shared Debian inputs
bash "$here_native/build.sh" "$work/native" >/dev/null
lock_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $5 }' "$here_native/inputs.lock"; }
while read -r kind name version file sha url; do
  if ! { [ -f "$downloads/$file" ] && echo "$sha  $downloads/$file" | sha256sum -c --quiet - 2>/dev/null; }; then
    echo "sci build: fetching $file"
    "$python" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=600).read())' \
      "$url" "$work/$file"
    echo "$sha  $work/$file" | sha256sum -c --quiet - || { echo "sci build: checksum mismatch for $file" >&2; exit 1; }
    mv "$work/$file" "$downloads/$file"
  fi
done < <(grep -v '^#' "$here/inputs.lock" | grep .)
sci_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $4 }' "$here/inputs.lock"; }

# --- toolchain: headers, the guest's Python for meson, the throw shim
# shellcheck source=runtime/native/headers.sh
. "$here_native/headers.sh"
guest_headers "$work"
"$python" -c 'import json, sys; json.dump({"variables": json.load(open(sys.argv[1])), "include": sys.argv[2]}, open(sys.argv[3], "w"))' \
  "$pyinc/sysconfig.json" "$pyinc" "$work/guest-sysconfig.json"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$python" "$here/guest_python.py" > "$work/guest-python"
chmod +x "$work/guest-python"
clang-19 --target=wasm32-wasip2 "--sysroot=$sysroot" -fPIC -O2 -Wall -Wextra -Werror -c "$here/cxx_throw.c" -o "$work/cxx_throw.o"
llvm-ar-19 rcs "$work/libcxx_throw.a" "$work/cxx_throw.o"
export ISOLA_WASM_SYSROOT="$sysroot" ISOLA_WASM_LIBCXX="$libcxx" ISOLA_WASM_SHIM="$work/libcxx_throw.a"
export ISOLA_GUEST_SYSCONFIG="$work/guest-sysconfig.json"
export PATH="$root/.venv/bin:$PATH"

# The feature-test macros of the guest CPython's configure (sysconfig does not
# record names with a leading underscore, so pyconfig.h lacks them): POSIX and
# GNU declarations of wasi-libc. NPY_NO_SIGNAL: the guest has no signals.
guest_defines=(-D_GNU_SOURCE -DNPY_NO_SIGNAL)
cat > "$work/cross.ini" <<INI
[binaries]
c = '$here/wasm32-cc'
cpp = '$here/wasm32-c++'
ar = 'llvm-ar-19'
ranlib = 'llvm-ranlib-19'
nm = 'llvm-nm-19'
strip = 'llvm-strip-19'
python = '$work/guest-python'
cython = '$root/.venv/bin/cython'

[built-in options]
c_args = $(printf "'%s', " "${guest_defines[@]}" | sed 's/, $//; s/^/[/; s/$/]/')
cpp_args = $(printf "'%s', " "${guest_defines[@]}" | sed 's/, $//; s/^/[/; s/$/]/')

[properties]
longdouble_format = 'IEEE_QUAD_LE'

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
INI

# --- numpy
mkdir -p "$work/src" "$work/site"
tar xzf "$downloads/$(sci_file numpy)" -C "$work/src"
numpy_src="$work/src/numpy-$(awk '$1 !~ /^#/ && $2 == "numpy" { print $3 }' "$here/inputs.lock")"
for p in "$here"/patches/numpy-*.patch; do
  patch -s -p1 -d "$numpy_src" < "$p"
done
(
  cd "$numpy_src"
  "$python" vendored-meson/meson/meson.py setup "$work/build-numpy" --cross-file "$work/cross.ini" \
    --prefix "$work/prefix" -Dpython.platlibdir="$work/site" -Dpython.purelibdir="$work/site" \
    --buildtype=release -Db_ndebug=if-release \
    -Dblas=none -Dlapack=none -Dallow-noblas=true -Ddisable-optimization=true \
    -Ddisable-highway=true -Ddisable-intel-sort=true -Ddisable-svml=true -Ddisable-threading=true \
    > "$work/numpy-setup.log" 2>&1 || { tail -40 "$work/numpy-setup.log" >&2; exit 1; }
  ninja -C "$work/build-numpy" -j"$jobs" > "$work/numpy-build.log" 2>&1 || { grep -A20 FAILED "$work/numpy-build.log" | head -60 >&2; exit 1; }
  "$python" vendored-meson/meson/meson.py install -C "$work/build-numpy" --no-rebuild --quiet > /dev/null
)
find "$work/site" -name '*.a' -delete
find "$work/site" -name __pycache__ -prune -exec rm -rf {} +

end=$(date +%s)
{
  echo "# isola scientific site, key $key, built in $((end - start))s"
  echo "compiler: $(clang-19 --version | head -1); $("$root/.venv/bin/cython" --version 2>&1)"
  sed 's/^/bundled /' "$pyinc/bundle.txt"
  grep -v '^#' "$here/inputs.lock" | grep . | awk '{print "input " $2 " " $3 " " $5}'
  (cd "$work/site" && find . -name '*.so' | sort | xargs sha256sum | sed 's/^/output /')
} > "$work/manifest.txt"

rm -rf "$dest.new"
mkdir -p "$dest.new"
mv "$work/site" "$dest.new/site"
mv "$work/manifest.txt" "$dest.new/manifest.txt"
rm -rf "$dest"
mv "$dest.new" "$dest"
echo "sci site: built $dest in $((end - start))s"
install_out
