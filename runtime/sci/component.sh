#!/usr/bin/env bash
# Build the scientific runtime component: the default runtime plus numpy and
# pandas, imported at build time so they are in the pre-initialised heap.
#   runtime/sci/component.sh [OUTPUT.wasm]   (default: runtime/python/out/isola-python-sci.wasm)
#
# numpy comes from runtime/sci/build.sh, pandas (and its pure-Python
# dependencies) from runtime/sci/pandas/build.sh, the native modules from
# runtime/native/build.sh (all cached), and the pure-Python packages pandas
# uses when present from runtime/sci/guest-requirements.txt and
# guest-sdists.txt. The component itself is cached
# under $ISOLA_BUILD_CACHE (default ~/.cache/isola-build)/sci-runtime-<hash>.wasm,
# keyed by the guest sources, the WIT, both builds' manifests and componentize-py.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/runtime/python/out/isola-python-sci.wasm}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"
cache_root="${ISOLA_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/isola-build}"

cd "$root"
native="$root/runtime/python/out/native"
guest_site="$root/runtime/python/out/site"
site="$root/runtime/python/out/sci-site"
pandas_site="$root/runtime/python/out/sci-pandas-site"
extras_site="$root/runtime/python/out/sci-extras-site"
bash runtime/native/build.sh "$native"
bash runtime/python/guest_site.sh "$guest_site"
bash runtime/sci/build.sh "$site"
bash runtime/sci/pandas/build.sh "$site" "$pandas_site"
bash runtime/python/guest_site.sh "$extras_site" runtime/sci/guest-requirements.txt
# guest-sdists.txt: the Python modules of each sdist's src/NAME (no C).
sdists_stamp="$(sha256sum < runtime/sci/guest-sdists.txt | cut -c1-16)"
if [ "$(cat "$extras_site/.sdists" 2>/dev/null)" != "$sdists_stamp" ]; then
  sdists="$(mktemp -d)"
  .venv/bin/pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --no-binary :all: -d "$sdists" -r runtime/sci/guest-sdists.txt
  for archive in "$sdists"/*.tar.gz; do
    tar xzf "$archive" -C "$sdists"
    src="$(find "$sdists" -mindepth 3 -maxdepth 3 -path '*/src/*' -type d -not -name '*.egg-info' | head -1)"
    mkdir -p "$extras_site/$(basename "$src")"
    cp "$src"/*.py "$extras_site/$(basename "$src")/"
    rm -rf "${archive%.tar.gz}"
  done
  rm -rf "$sdists"
  echo "$sdists_stamp" > "$extras_site/.sdists"
fi

cpy_so="$(.venv/bin/python -c 'import componentize_py, os; print(os.path.join(os.path.dirname(componentize_py.__file__), "componentize_py.abi3.so"))')"
key="$( { find runtime/python/src runtime/sci/src wit -type f -not -path '*/__pycache__/*' | LC_ALL=C sort | xargs sha256sum;
          cat "$native/manifest.txt" "$site/manifest.txt" "$pandas_site/manifest.txt" "$here/component.sh" runtime/python/guest-requirements.txt \
              "$here/guest-requirements.txt" "$here/guest-sdists.txt";
          sha256sum < "$cpy_so"; } | sha256sum | cut -c1-16)"
cached="$cache_root/sci-runtime-$key.wasm"

if [ -f "$cached" ]; then
  echo "sci runtime: cached $cached"
else
  start=$(date +%s)
  # componentize-py also puts a site-packages directory on the guest's path:
  # $VIRTUAL_ENV's, else that of whichever python3 is first on PATH, so
  # what the snapshot can import (pandas imports jinja2 when it finds it)
  # would depend on the caller's environment. An empty one keeps it to -p.
  no_site="$(mktemp -d)"
  trap 'rm -rf "$no_site"' EXIT
  mkdir -p "$no_site/lib/site-packages"
  VIRTUAL_ENV="$no_site" .venv/bin/componentize-py -d wit -w sandbox componentize app_sci \
    -p runtime/sci/src -p runtime/python/src -p "$native" -p "$guest_site" -p "$site" -p "$pandas_site" -p "$extras_site" -o "$cached.tmp"
  mv "$cached.tmp" "$cached"
  end=$(date +%s)
  echo "sci runtime: built $cached in $((end - start))s"
fi
cp "$cached" "$out"
echo "built $out ($(stat -c %s "$out") bytes)"
