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
# Same toolchain as numpy (runtime/sci/common.sh: wasm32-cc, guest_python.py,
# cxx_throw.c: a C++ throw traps), meson from .venv, numpy's C headers and
# .pxd files from NUMPY_SITE. patches/ holds the source changes, each
# explained in its header. Kept apart from runtime/sci/build.sh so that
# numpy's cache key (which covers that script and its inputs.lock) does not
# change with pandas. The extension modules are linked into one library,
# isola-ext/pandas.cpython-314-wasm32-wasi.so (runtime/sci/merge_extensions.py).
#
# Output cached under $ISOLA_BUILD_CACHE (default ~/.cache/isola-build)/
# sci-pandas-<hash of every input>/site and copied to SITE_DIR. Cold build:
# see manifest.txt ("built in"). ISOLA_BUILD_JOBS (default 2) compile jobs.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sci="$(cd "$here/.." && pwd)"
root="$(cd "$sci/../.." && pwd)"
numpy_site="${1:?usage: runtime/sci/pandas/build.sh NUMPY_SITE [SITE_DIR]}"
numpy_site="$(cd "$numpy_site" && pwd)"
out="${2:-$root/runtime/python/out/sci-pandas-site}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
[ -f "$numpy_site/manifest.txt" ] || { echo "pandas build: $numpy_site has no numpy build (manifest.txt)" >&2; exit 1; }

# shellcheck source=runtime/sci/common.sh
. "$sci/common.sh"
sci_setup pandas
"$python" -c 'import versioneer' 2>/dev/null || { echo "pandas build: versioneer is missing from .venv (make setup)" >&2; exit 1; }
# What pandas takes from numpy: its C headers and .pxd files (the rest of
# numpy's build, such as how its modules are linked, does not concern it).
numpy_api="$(cd "$numpy_site/numpy" && find _core/include -type f | LC_ALL=C sort | xargs sha256sum; sha256sum ./*.pxd)"
key="$( { grep -v '^#' "$here/inputs.lock"; cat "$here/build.sh" "$here/guest-requirements.txt" "$here"/patches/*;
          echo "$numpy_api"; sci_key_inputs; } | sha256sum | cut -c1-16)"
dest="$cache_root/sci-pandas-$key"

if [ -f "$dest/manifest.txt" ]; then
  echo "pandas site: cached $dest"
  sci_install "$dest" "$out"
  exit 0
fi

start=$(date +%s)
mkdir -p "$cache_root"
work="$(mktemp -d "$cache_root/sci-pandas-$key.tmp.XXXXXX")"
trap 'rm -rf "$work"' EXIT
sci_fetch "$here/inputs.lock" "$work"
version="$(awk '$1 !~ /^#/ && $2 == "pandas" { print $3 }' "$here/inputs.lock")"
file="$(awk '$1 !~ /^#/ && $2 == "pandas" { print $4 }' "$here/inputs.lock")"

# The guest CPython's feature-test macro (see runtime/sci/build.sh).
sci_toolchain "$work" -D_GNU_SOURCE
# numpy's headers and, for Cython's `cimport numpy` (Cython looks on
# sys.path), its .pxd files alone: nothing native imports the guest numpy.
export PANDAS_NUMPY_INCLUDE="$numpy_site/numpy/_core/include"
mkdir -p "$work/pxd/numpy"
cp "$numpy_site"/numpy/*.pxd "$work/pxd/numpy/"

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
  # One library for all of pandas' extension modules (see runtime/sci/merge_extensions.py).
  "$python" "$sci/merge_extensions.py" pandas "$work/build" "$work/site" meson \
    > "$work/merge.log" 2>&1 || { tail -40 "$work/merge.log" >&2; exit 1; }
)
"$root/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary :all: --target "$work/site" -r "$here/guest-requirements.txt"
find "$work/site" -name '*.a' -delete
find "$work/site" -name __pycache__ -prune -exec rm -rf {} +

end=$(date +%s)
{
  echo "# isola scientific site (pandas), key $key, built in $((end - start))s"
  echo "compiler: $(clang-19 --version | head -1); $("$root/.venv/bin/cython" --version 2>&1); meson $(meson --version)"
  echo "numpy headers and .pxd files: $(echo "$numpy_api" | sha256sum | cut -c1-16) (first built with: $(head -1 "$numpy_site/manifest.txt"))"
  grep -v '^#' "$here/inputs.lock" | grep . | awk '{print "input " $2 " " $3 " " $5}'
  grep -v '^#' "$here/guest-requirements.txt" | grep . | awk '{print "bundled " $1 " " $2}'
  (cd "$work/site" && find . -name '*.so' | sort | xargs sha256sum | sed 's/^/output /')
  sed 's/^/module /' "$work/site/isola-ext/pandas.modules"
} > "$work/manifest.txt"

sci_store "$work" "$dest" "$out"
echo "pandas site: built $dest in $((end - start))s"
