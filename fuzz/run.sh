#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET...]: run each fuzz target for SECONDS with
# cargo-fuzz (nightly toolchain), starting from the stored corpus
# (fuzz/corpus/TARGET, read only: new inputs go to a temporary directory).
# A finding is written to fuzz/artifacts/TARGET/ and fails the run, naming
# the input; fix the bug, then copy the input to fuzz/regressions/TARGET/ so
# `cargo test --test fuzz_regressions` keeps checking it on stable.
#
# Environment: CARGO_FUZZ (path to cargo-fuzz), ISOLA_FUZZ_TARGET_DIR (the
# instrumented build; default ~/.cache/isola-build/fuzz-HASH, HASH over the
# nightly compiler and cargo-fuzz, which decide how every crate is built),
# FUZZ_TIMEOUT (seconds one input may take, 60).
set -euo pipefail
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cbor_value json_value c_buffers sandbox_events)
: "${CARGO_FUZZ:=cargo-fuzz}"
# `cargo +nightly fuzz` finds cargo-fuzz on PATH.
if [ "$CARGO_FUZZ" != cargo-fuzz ]; then PATH="$(dirname "$CARGO_FUZZ"):$PATH"; fi
# The instrumented build (wasmtime included) is large and slow (about half
# an hour on 2 cores): keep it outside the repository, shared by every
# checkout and keyed by the tools that would rebuild all of it. Within one
# toolchain cargo itself keys each compiled crate by its version, features
# and flags, and rebuilds only what changed (isola's sources, an updated
# dependency in fuzz/Cargo.lock).
key=$({ rustc +nightly -vV; cargo fuzz --version; } | sha256sum | cut -c1-16)
target_dir=${ISOLA_FUZZ_TARGET_DIR:-$HOME/.cache/isola-build/fuzz-$key}
work=$(mktemp -d "${TMPDIR:-/tmp}/isola-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# --sanitizer none: the library is Rust (memory-safe outside src/ffi and
# src/engine, whose unsafe blocks the C tests run under ASan); coverage
# instrumentation of isola itself is what guides the fuzzer.
fuzz_opts=(--fuzz-dir fuzz --sanitizer none --target-dir "$target_dir")
[ -d "$target_dir" ] || echo "fuzz: first build of the instrumented targets into $target_dir (slow; cached afterwards)"
start=$(date +%s)
if ! cargo +nightly fuzz build "${fuzz_opts[@]}" >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log"
  echo "fuzz: building the fuzz targets failed" >&2
  exit 1
fi
echo "fuzz: targets built in $(($(date +%s) - start)) s ($target_dir)"
# sandbox_events builds its template on the first input; with a cold compile
# cache (a new runtime, a clean machine) that compiles the runtime, which
# takes minutes in this instrumented build: do it once, outside the
# per-input time limit, so the cache is warm when the clock runs.
if [[ " ${targets[*]} " == *" sandbox_events "* ]]; then
  seed=$(find fuzz/corpus/sandbox_events -type f | sort | head -1)
  if ! cargo +nightly fuzz run "${fuzz_opts[@]}" sandbox_events "$seed" -- -timeout=3600 \
      >"$work/warm.log" 2>&1; then
    tail -40 "$work/warm.log"
    echo "fuzz: sandbox_events failed on its first seed ($seed)" >&2
    exit 1
  fi
fi
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "fuzz/artifacts/$t"
  log="$work/$t.log"
  if ! cargo +nightly fuzz run "${fuzz_opts[@]}" \
      "$t" "$work/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout="${FUZZ_TIMEOUT:-60}" \
      -rss_limit_mb=4096 -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1; then
    tail -40 "$log"
    input=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | cut -d' ' -f5)
    echo "fuzz target $t found a problem; reproducer: ${input:-fuzz/artifacts/$t/ (see the log above)}" >&2
    echo "replay it: cargo +nightly fuzz run ${fuzz_opts[*]} $t ${input:-INPUT}" >&2
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  total=$((total + execs))
  echo "fuzz $t: $execs executions in ${seconds} s, coverage ${cov:-?} edges, no finding"
done
echo "fuzz: $total executions in total"
