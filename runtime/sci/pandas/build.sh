#!/usr/bin/env bash
# Build pandas for the guest, against the guest numpy of runtime/sci/build.sh:
# its Python files and its Cython/C/C++ extension modules as wasm32-wasi
# shared libraries (componentize-py links them into the scientific runtime,
# runtime/sci/component.sh), plus its pure-Python dependencies
# (guest-requirements.txt).
#   runtime/sci/pandas/build.sh NUMPY_SITE [SITE_DIR]
#     NUMPY_SITE  the output of runtime/sci/build.sh (numpy, its manifest.txt)
#     SITE_DIR    default: runtime/python/out/sci-pandas-site
#
# Same toolchain as numpy (runtime/sci/wasm32-cc, guest_python.py,
# cxx_throw.c: a C++ throw traps), meson from .venv, numpy's C headers and
# .pxd files from NUMPY_SITE. patches/ holds the source changes, each
# explained in its header. Kept apart from runtime/sci/build.sh so that
# numpy's cache key (which covers that script and its inputs.lock) does not
# change with pandas.
#
# Output cached under $ISOLA_BUILD_CACHE (default ~/.cache/isola-build)/
# sci-pandas-<hash of every input>/site and copied to SITE_DIR. Cold build:
# see manifest.txt ("built in"). ISOLA_BUILD_JOBS (default 2) compile jobs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sci="$(cd "$here/.." && pwd)"
root="$(cd "$sci/../.." && pwd)"
here_native="$root/runtime/native"
numpy_site="${1:?usage: runtime/sci/pandas/build.sh NUMPY_SITE [SITE_DIR]}"
numpy_site="$(cd "$numpy_site" && pwd)"
out="${2:-$root/runtime/python/out/sci-pandas-site}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
[ -f "$numpy_site/manifest.txt" ] || { echo "pandas build: $numpy_site has no numpy build (manifest.txt)" >&2; exit 1; }

cache_root="${ISOLA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isola-build}"
downloads="$cache_root/downloads"
python="$root/.venv/bin/python"
[ -x "$python" ] || { echo "pandas build: $python is missing (make setup)" >&2; exit 1; }
cpy_so="$("$python" -c 'import componentize_py, os; print(os.path.join(os.path.dirname(componentize_py.__file__), "componentize_py.abi3.so"))')"
jobs="${ISOLA_BUILD_JOBS:-2}"
for tool in cython ninja meson; do
  [ -x "$root/.venv/bin/$tool" ] || { echo "pandas build: .venv/bin/$tool is missing (make setup)" >&2; exit 1; }
done
"$python" -c 'import versioneer' 2>/dev/null || { echo "pandas build: versioneer is missing from .venv (make setup)" >&2; exit 1; }

key="$( { grep -v '^#' "$here/inputs.lock"; grep -v '^#' "$here_native/inputs.lock";
          cat "$here/build.sh" "$here/guest-requirements.txt" "$here"/patches/* "$numpy_site/manifest.txt" \
              "$sci/wasm32-cc" "$sci/guest_python.py" "$sci/cxx_throw.c" \
              "$here_native/headers.sh" "$here_native/pyconfig_from_bundle.py";
          sha256sum < "$cpy_so"; clang-19 --version | head -1; "$root/.venv/bin/cython" --version 2>&1;
          "$root/.venv/bin/meson" --version; dpkg-query -W -f='${Version}\n' libc++-19-dev-wasm32; } | sha256sum | cut -c1-16)"
dest="$cache_root/sci-pandas-$key"

install_out() {
  rm -rf "$out"
  mkdir -p "$(dirname "$out")"
  cp -r "$dest/site" "$out"
  cp "$dest/manifest.txt" "$out/"
}

if [ -f "$dest/manifest.txt" ]; then
  echo "pandas site: cached $dest"
  install_out
  exit 0
fi

start=$(date +%s)
mkdir -p "$downloads"
work="$(mktemp -d "$cache_root/sci-pandas-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- inputs (the native build fetches and checks the shared Debian inputs)
bash "$here_native/build.sh" "$work/native" >/dev/null
lock_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $5 }' "$here_native/inputs.lock"; }
while read -r kind name version file sha url; do
  if ! { [ -f "$downloads/$file" ] && echo "$sha  $downloads/$file" | sha256sum -c --quiet - 2>/dev/null; }; then
    echo "pandas build: fetching $file"
    "$python" -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=600).read())' \
      "$url" "$work/$file"
    echo "$sha  $work/$file" | sha256sum -c --quiet - || { echo "pandas build: checksum mismatch for $file" >&2; exit 1; }
    mv "$work/$file" "$downloads/$file"
  fi
done < <(grep -v '^#' "$here/inputs.lock" | grep .)
version="$(awk '$1 !~ /^#/ && $2 == "pandas" { print $3 }' "$here/inputs.lock")"
file="$(awk '$1 !~ /^#/ && $2 == "pandas" { print $4 }' "$here/inputs.lock")"

# --- toolchain: as runtime/sci/build.sh sets it up for numpy
# shellcheck source=runtime/native/headers.sh
. "$here_native/headers.sh"
guest_headers "$work"
"$python" -c 'import json, sys; json.dump({"variables": json.load(open(sys.argv[1])), "include": sys.argv[2]}, open(sys.argv[3], "w"))' \
  "$pyinc/sysconfig.json" "$pyinc" "$work/guest-sysconfig.json"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$python" "$sci/guest_python.py" > "$work/guest-python"
chmod +x "$work/guest-python"
clang-19 --target=wasm32-wasip2 "--sysroot=$sysroot" -fPIC -O2 -Wall -Wextra -Werror -c "$sci/cxx_throw.c" -o "$work/cxx_throw.o"
llvm-ar-19 rcs "$work/libcxx_throw.a" "$work/cxx_throw.o"
export ISOLA_WASM_SYSROOT="$sysroot" ISOLA_WASM_LIBCXX=/usr/lib/llvm-19/include/wasm32-wasi/c++/v1
export ISOLA_WASM_SHIM="$work/libcxx_throw.a" ISOLA_GUEST_SYSCONFIG="$work/guest-sysconfig.json"
# numpy's headers and, for Cython's `cimport numpy` (Cython looks on
# sys.path), its .pxd files alone: nothing native imports the guest numpy.
export PANDAS_NUMPY_INCLUDE="$numpy_site/numpy/_core/include"
mkdir -p "$work/pxd/numpy"
cp "$numpy_site"/numpy/*.pxd "$work/pxd/numpy/"
export PATH="$root/.venv/bin:$PATH"

# The guest CPython's feature-test macro (see runtime/sci/build.sh).
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
c_args = ['-D_GNU_SOURCE']
cpp_args = ['-D_GNU_SOURCE']

[host_machine]
system = 'wasi'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
INI

# --- pandas
mkdir -p "$work/src" "$work/site"
tar xzf "$downloads/$file" -C "$work/src"
src="$work/src/pandas-$version"
for p in "$here"/patches/pandas-*.patch; do
  patch -s -p1 -d "$src" < "$p"
done
(
  cd "$src"
  meson setup "$work/build" --cross-file "$work/cross.ini" \
    --prefix "$work/prefix" -Dpython.platlibdir="$work/site" -Dpython.purelibdir="$work/site" \
    --buildtype=release -Db_ndebug=if-release \
    > "$work/setup.log" 2>&1 || { tail -40 "$work/setup.log" >&2; exit 1; }
  PYTHONPATH="$work/pxd" ninja -C "$work/build" -j"$jobs" > "$work/build.log" 2>&1 || { grep -A20 FAILED "$work/build.log" | head -60 >&2; exit 1; }
  meson install -C "$work/build" --no-rebuild --quiet > /dev/null
)
"$root/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary :all: --target "$work/site" -r "$here/guest-requirements.txt"
find "$work/site" -name '*.a' -delete
find "$work/site" -name __pycache__ -prune -exec rm -rf {} +

end=$(date +%s)
{
  echo "# isola scientific site (pandas), key $key, built in $((end - start))s"
  echo "compiler: $(clang-19 --version | head -1); $("$root/.venv/bin/cython" --version 2>&1); meson $(meson --version)"
  echo "numpy: $(head -1 "$numpy_site/manifest.txt")"
  grep -v '^#' "$here/inputs.lock" | grep . | awk '{print "input " $2 " " $3 " " $5}'
  grep -v '^#' "$here/guest-requirements.txt" | grep . | awk '{print "bundled " $1 " " $2}'
  (cd "$work/site" && find . -name '*.so' | sort | xargs sha256sum | sed 's/^/output /')
} > "$work/manifest.txt"

rm -rf "$dest.new"
mkdir -p "$dest.new"
mv "$work/site" "$dest.new/site"
mv "$work/manifest.txt" "$dest.new/manifest.txt"
rm -rf "$dest"
mv "$dest.new" "$dest"
echo "pandas site: built $dest in $((end - start))s"
install_out
