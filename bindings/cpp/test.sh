#!/usr/bin/env bash
# Configure, build and run the C++ binding tests (CTest) in build/cpp.
# Needs: cargo build --lib (target/debug/libisola.so), cmake + ninja (the
# project's .venv has both), g++ >= 8 and Catch2 v2 (Debian: apt-get install catch2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export PATH="$root/.venv/bin:$PATH"
lib_dir="${ISOLA_LIB_DIR:-$root/target/debug}"
build_dir="${ISOLA_CPP_BUILD_DIR:-$root/build/cpp}"

cmake -S "$here" -B "$build_dir" -G Ninja -DISOLA_LIB_DIR="$lib_dir" \
  -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Debug}" "$@" >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j "${ISOLA_CPP_TEST_JOBS:-4}"
