#!/usr/bin/env bash
# fuzz/run.sh SECONDS [TARGET...]: run each fuzz target for SECONDS with
# cargo-fuzz (nightly toolchain), starting from the stored corpus
# (fuzz/corpus/TARGET, read only: new inputs go to a temporary directory).
# A finding is written to fuzz/artifacts/TARGET/ and fails the run; fix it,
# then copy the input to fuzz/regressions/TARGET/ so `cargo test --test
# fuzz_regressions` keeps checking it on stable.
set -euo pipefail
seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(cbor_value json_value c_buffers sandbox_events)
: "${CARGO_FUZZ:=cargo-fuzz}"
# `cargo +nightly fuzz` finds cargo-fuzz on PATH.
if [ "$CARGO_FUZZ" != cargo-fuzz ]; then PATH="$(dirname "$CARGO_FUZZ"):$PATH"; fi
# The instrumented build (wasmtime included) is large: keep it outside the
# repository, shared by every checkout.
target_dir=${ISOLA_FUZZ_TARGET_DIR:-$HOME/.cache/isola-build/fuzz-target}
work=$(mktemp -d "${TMPDIR:-/tmp}/isola-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
# --sanitizer none: the library is Rust (memory-safe outside src/ffi and
# src/engine, whose unsafe blocks the C tests run under ASan); coverage
# instrumentation of isola itself is what guides the fuzzer.
cargo +nightly fuzz build --fuzz-dir fuzz --sanitizer none --target-dir "$target_dir" 2>&1 \
  | tail -3 >&2
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "fuzz/artifacts/$t"
  log="$work/$t.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz --sanitizer none --target-dir "$target_dir" \
      "$t" "$work/$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 \
      -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $t found a problem; the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  total=$((total + execs))
  echo "fuzz $t: $execs executions in ${seconds}s, no finding"
done
echo "fuzz: $total executions in total"
