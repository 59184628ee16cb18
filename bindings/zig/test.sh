#!/usr/bin/env bash
# Build and run the Zig binding tests with the pinned Zig from PyPI
# (ziglang==0.17.0 in the project's .venv). Needs `cargo build --lib`.
# Extra arguments go to `zig build` (e.g. -Disola-lib-dir=DIR).
# The tests use the library's default compile cache, as the Rust, C, C++
# and Go tests do, so the runtimes, the scientific runtime and the shared
# prelude snapshot compiled by those are not compiled again here.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="$root/.venv/bin/python"
if ! "$python" -m ziglang version 2>/dev/null | grep -qx '0.17.0'; then
  "$root/.venv/bin/pip" install --quiet --disable-pip-version-check ziglang==0.17.0
fi
export ZIG_GLOBAL_CACHE_DIR="$root/target/zig-cache/global"
export ZIG_LOCAL_CACHE_DIR="$root/target/zig-cache/local"
cd "$here"
"$python" -m ziglang build test --summary all \
  --prefix "$root/target/zig-out" \
  -Disola-lib-dir="${ISOLA_LIB_DIR:-$root/target/debug}" \
  -Disola-include-dir="$root/include" "$@"
