#!/usr/bin/env bash
# Build the isola Python runtime component.
#   runtime/python/build.sh [OUTPUT.wasm]   (default: runtime/python/out/isola-python.wasm)
# Works from any directory. What goes into the component is decided by
# src/isola_guest/stdlib_policy.py (and lazy_stdlib.ENABLED).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/out/isola-python.wasm}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
mkdir -p "$(dirname "$out")"

cd "$root"
# Native extension modules (_bz2, _lzma) built for the guest; cached, so this
# is quick after the first build. componentize-py links every
# *.cpython-314-wasm32-wasi.so it finds on a -p path into the component.
native="$here/out/native"
bash runtime/native/build.sh "$native"
# Pure-Python packages bundled into the runtime (guest-requirements.txt),
# reinstalled only when that file changes.
site="$here/out/site"
bash runtime/python/guest_site.sh "$site"
# componentize-py also puts a site-packages directory on the guest's path at
# build time: $VIRTUAL_ENV's, else that of the first python3 on PATH, so what
# the snapshot could import would depend on the builder's machine. An empty
# one keeps the runtime to the -p paths (runtime/sci/component.sh does the same).
no_site="$(mktemp -d)"
trap 'rm -rf "$no_site"' EXIT
mkdir -p "$no_site/lib/site-packages"
start=$(date +%s)
VIRTUAL_ENV="$no_site" .venv/bin/componentize-py -d wit -w sandbox componentize app \
  -p runtime/python/src -p "$native" -p "$site" -o "$out"
end=$(date +%s)
echo "built $out ($(stat -c %s "$out") bytes) in $((end - start))s"
