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
# The toolchain set-up is shared with pandas (common.sh). All extension
# modules are linked into one library, isola-ext/numpy.cpython-314-wasm32-wasi.so
# (merge_extensions.py), so a sandbox has one core instance for numpy.
#
# Output cached under $ISOLA_BUILD_CACHE (default ~/.cache/isola-build)/
# sci-<hash of every input>/site and copied to SITE_DIR. Cold build: see
# manifest.txt ("built in").  ISOLA_BUILD_JOBS (default 2) compile jobs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sci="$here"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/runtime/python/out/sci-site}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

# shellcheck source=runtime/sci/common.sh
. "$sci/common.sh"
sci_setup sci
key="$( { grep -v '^#' "$here/inputs.lock"; cat "$here/build.sh" "$here"/patches/*; sci_key_inputs; } | sha256sum | cut -c1-16)"
dest="$cache_root/sci-$key"

if [ -f "$dest/manifest.txt" ]; then
  echo "sci site: cached $dest"
  sci_install "$dest" "$out"
  exit 0
fi

start=$(date +%s)
mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/sci-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
sci_fetch "$here/inputs.lock" "$work"
sci_file() { awk -v p="$1" '$1 !~ /^#/ && $2 == p { print $4 }' "$here/inputs.lock"; }

# The feature-test macros of the guest CPython's configure (sysconfig does not
# record names with a leading underscore, so pyconfig.h lacks them): POSIX and
# GNU declarations of wasi-libc. NPY_NO_SIGNAL: the guest has no signals.
sci_toolchain "$work" -D_GNU_SOURCE -DNPY_NO_SIGNAL

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
  # One library for all of numpy's extension modules (see merge_extensions.py).
  "$python" "$sci/merge_extensions.py" numpy "$work/build-numpy" "$work/site" \
    "$python" vendored-meson/meson/meson.py > "$work/merge.log" 2>&1 || { tail -40 "$work/merge.log" >&2; exit 1; }
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
  sed 's/^/module /' "$work/site/isola-ext/numpy.modules"
} > "$work/manifest.txt"

sci_store "$work" "$dest" "$out"
echo "sci site: built $dest in $((end - start))s"
