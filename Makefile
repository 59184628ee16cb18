# isola build entry point. Two commands matter:
#   make demo   install pinned tools, build runtime + library + C examples, run hello
#   make test   run every test (lint, Rust, Python guest units, C via CTest, bindings,
#               the installed release build, header drift)
#   make install PREFIX=/opt/isola   install the release build (lib, header, isola.pc, CMake package)
#   make bench  release build, isola beside its peers, writes docs/performance.md
# Everything goes into .venv/, target/ and build/; nothing is installed system-wide
# except the C/C++ compilers, which `make setup` checks for.

SHELL        := /bin/bash
VENV         := .venv
PYTHON       ?= python3
RUNTIME_WASM := runtime/python/out/isola-python.wasm
LIB_DIR      := $(CURDIR)/target/debug
BUILD_DIR    := build
# Compiled runtimes go to the library's default cache (~/.cache/isola unless
# ISOLA_CACHE_DIR or XDG_CACHE_HOME say otherwise), so `make demo` also warms
# the cache that isola-run and your own programs use afterwards.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

RUNTIME_SOURCES := $(shell find runtime/python/src runtime/native wit -type f -not -path '*/__pycache__/*' 2>/dev/null) \
                   runtime/python/guest-requirements.txt runtime/python/build.sh
# The scientific runtime (numpy, pandas), a second component installed beside
# the library; hosts choose it by name ("sci") or path. See runtime/sci/.
SCI_WASM     := runtime/python/out/isola-python-sci.wasm
SCI_SOURCES  := $(shell find runtime/sci -type f -not -path '*/__pycache__/*' 2>/dev/null)

.PHONY: demo test http-clients setup native runtime runtime-sci lib c clean check-header lint bench memcheck test-asan fuzz fuzz-short test-pytest test-sci test-bindings release install test-install

demo: c
	./$(BUILD_DIR)/examples-c/hello

setup: $(VENV)/.installed

# apt only for what PyPI cannot give: the C/C++ compilers, pkg-config (the
# Go binding links through it), Catch2 (the
# C++ binding's test framework) and the wasm32 toolchain for the guest's
# native modules (clang/lld 19, compiler-rt's wasi builtins, libc++'s wasm32
# headers for numpy's C++ parts, zstd to read componentize-py's bundled
# CPython configuration).
NATIVE_APT   := clang-19 lld-19 llvm-19 libclang-rt-19-dev-wasm32 libc++-19-dev-wasm32 libc++abi-19-dev-wasm32 zstd
APT_PACKAGES := $(if $(shell command -v cc >/dev/null && command -v c++ >/dev/null && echo y),,build-essential) \
                $(if $(shell command -v pkg-config >/dev/null && echo y),,pkg-config) \
                $(if $(wildcard /usr/include/catch2/catch.hpp),,catch2) \
                $(if $(shell command -v clang-19 >/dev/null && command -v wasm-ld-19 >/dev/null && \
                  command -v llvm-ar-19 >/dev/null && command -v zstd >/dev/null && \
                  test -f /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a && \
                  test -d /usr/lib/llvm-19/include/wasm32-wasi/c++/v1 && echo y),,$(NATIVE_APT))
APT := $(shell [ "$$(id -u)" = 0 ] || echo sudo) apt-get

$(VENV)/.installed: requirements-dev.txt
	@if [ -n "$(strip $(APT_PACKAGES))" ]; then \
	  echo "installing with apt: $(strip $(APT_PACKAGES))"; \
	  $(APT) update -qq && DEBIAN_FRONTEND=noninteractive $(APT) install -y -qq $(APT_PACKAGES); fi
	@command -v cargo >/dev/null || { echo "cargo (Rust 1.95) is required: https://rustup.rs"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

runtime: $(RUNTIME_WASM)

# The guest's native extension modules (_bz2, _lzma) from pinned, checksummed
# Debian sources; cached under ~/.cache/isola-build/native-<input hash>/.
# runtime/python/build.sh runs this too.
native: $(VENV)/.installed
	bash runtime/native/build.sh

$(RUNTIME_WASM): $(VENV)/.installed $(RUNTIME_SOURCES)
	bash runtime/python/build.sh $(RUNTIME_WASM)

# numpy and pandas cross-compiled from their pinned sdists (runtime/sci/build.sh,
# runtime/sci/pandas/build.sh) and the component importing them at build time
# (runtime/sci/component.sh); all are cached by input hash under
# ~/.cache/isola-build, so only the first build on a machine compiles them. The component is laid out beside the library
# (build/lib, target/debug) where isola_template_options_set_runtime_name("sci")
# finds it; also beside the release build (build/release/lib), which
# `make install` and `make bench` use.
runtime-sci: $(SCI_WASM)
	mkdir -p $(BUILD_DIR)/lib target/debug $(RELEASE_BUILD_DIR)/lib
	cp $(SCI_WASM) $(BUILD_DIR)/lib/
	cp $(SCI_WASM) target/debug/
	cp $(SCI_WASM) $(RELEASE_BUILD_DIR)/lib/

$(SCI_WASM): $(VENV)/.installed $(RUNTIME_SOURCES) $(SCI_SOURCES)
	bash runtime/sci/component.sh $(SCI_WASM)

lib: runtime
	cargo build --lib
	@# Let programs linked against target/debug find the library there by
	@# its SONAME (libisola.so.0.MINOR while the ABI is unstable).
	ln -sf libisola.so target/debug/$$(objdump -p target/debug/libisola.so | awk '/SONAME/ {print $$2}')

c: lib
	cmake -S . -B $(BUILD_DIR) -G Ninja -DISOLA_LIB_DIR=$(LIB_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD_DIR)

test: c http-clients
	$(MAKE) --no-print-directory lint
	cargo test
	$(PYTHON) -m unittest discover -s runtime/python/tests -t runtime/python/tests
	ctest --test-dir $(BUILD_DIR) -j2 -LE valgrind --output-on-failure
	$(MAKE) --no-print-directory test-pytest
	$(MAKE) --no-print-directory test-sci
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-bindings
	$(MAKE) --no-print-directory test-install
	$(MAKE) --no-print-directory check-header
	$(MAKE) --no-print-directory fuzz-short

# requests, urllib3 and httpx (pinned pure-Python wheels, hash-checked by pip)
# for tests/http_clients.rs, installed once into ~/.cache/isola-build.
http-clients: $(VENV)/.installed
	$(PYTHON) tests/http_clients/install.py

# pytest, unmodified, runs the own test suites of pinned PyPI packages in a
# sandbox and natively; the outcomes must match test by test (see the script).
# Downloads are hash-checked and cached in ~/.cache/isola-build.
test-pytest: c
	$(PYTHON) tests/pytest_suites/run.py

# The scientific runtime: numpy, pandas (and sqlite3) in a sandbox of
# isola-python-sci.wasm (tests/sci_runtime.rs, ignored by a plain
# `cargo test` because they need this build), then numpy's own tests for
# ufuncs, linalg and the random Generator and pandas' for groupby, merge,
# CSV, timestamps and date ranges under pytest, in a sandbox and natively,
# pass counts side by side (tests/pytest_suites/sci_suites.py).
test-sci: c runtime-sci
	cargo test --test sci_runtime -- --include-ignored
	$(PYTHON) tests/pytest_suites/sci_suites.py

# The C++, Go and Zig bindings' own test suites, against target/debug. Each
# has a test choosing the scientific runtime by name ("sci"), found beside
# target/debug/libisola.so where runtime-sci puts it.
test-bindings: lib runtime-sci
	bash bindings/cpp/test.sh
	bash bindings/go/test.sh
	bash bindings/zig/test.sh

# The committed header must equal a fresh cbindgen generation (build.rs
# rewrites include/isola.h on every library build).
check-header:
	@git diff --quiet -- include/isola.h || { \
	  echo "include/isola.h differs from the generated header; commit the regenerated file"; \
	  git --no-pager diff --stat -- include/isola.h; exit 1; }
	@echo "header up to date"

# The C tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: lib
	cmake -S . -B $(BUILD_DIR)/asan -G Ninja -DISOLA_LIB_DIR=$(LIB_DIR) -DISOLA_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build $(BUILD_DIR)/asan
	ctest --test-dir $(BUILD_DIR)/asan -j2 -LE "valgrind|package|corpus" --output-on-failure

# valgrind over the C examples (hello, isola-run success/exception/timeout/
# usage paths). valgrind reports a different CPU to wasmtime, so its first
# run compiles the runtime under valgrind once (several minutes) and caches it.
memcheck: c
	ctest --test-dir $(BUILD_DIR) -L valgrind --output-on-failure --timeout 3600

# Fuzzing (fuzz/: cargo-fuzz targets for CBOR/JSON decoding, the C entry
# points taking buffers and the guest->host events of a live sandbox).
# Needs the nightly toolchain; cargo-fuzz is installed, pinned, into
# ~/.cache/isola-build. `make fuzz` runs every target for FUZZ_SECONDS;
# `make fuzz-short` (the last step of `make test`) for FUZZ_SHORT_SECONDS
# when nightly is there, and otherwise says so. The instrumented build is
# cached in ~/.cache/isola-build/fuzz-HASH (see fuzz/run.sh); the first one
# takes about half an hour on 2 cores. A finding fails the run and names
# the input. The stored inputs also run on stable in `cargo test`
# (tests/fuzz_regressions.rs).
CARGO_FUZZ_VERSION := 0.13.2
CARGO_FUZZ := $(HOME)/.cache/isola-build/cargo-fuzz-$(CARGO_FUZZ_VERSION)/bin/cargo-fuzz
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 15
HAVE_NIGHTLY = $(shell cargo +nightly --version >/dev/null 2>&1 && echo y)

$(CARGO_FUZZ):
	cargo install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked \
	  --root $(HOME)/.cache/isola-build/cargo-fuzz-$(CARGO_FUZZ_VERSION)

fuzz: runtime
	@[ -n "$(HAVE_NIGHTLY)" ] || { echo "make fuzz needs the nightly toolchain (rustup toolchain install nightly)"; exit 1; }
	$(MAKE) --no-print-directory $(CARGO_FUZZ)
	CARGO_FUZZ=$(CARGO_FUZZ) bash fuzz/run.sh $(FUZZ_SECONDS)

fuzz-short: runtime
	@if [ -n "$(HAVE_NIGHTLY)" ]; then \
	  $(MAKE) --no-print-directory $(CARGO_FUZZ) && \
	  CARGO_FUZZ=$(CARGO_FUZZ) bash fuzz/run.sh $(FUZZ_SHORT_SECONDS); \
	else \
	  echo "fuzz-short: no nightly toolchain here, so no fuzzing; the stored fuzz inputs ran on stable in cargo test (tests/fuzz_regressions.rs)"; \
	fi

# rustfmt, and clippy with every warning an error; Cargo.toml's [lints]
# make undocumented `unsafe` blocks and unsafe operations outside an
# `unsafe {}` block errors too.
lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

# One table: isola through the C ABI (release build) beside native CPython,
# wasmtime-py + WASI CPython and Pyodide, measured in the same run; writes
# docs/performance.md. benches/run.py installs the pinned peers into
# benches/peers/.venv and benches/peers/node_modules. BENCH_ARGS=--quick
# for a shorter, noisier run; --no-write to leave the doc alone.
bench: release runtime-sci
	cmake --build $(RELEASE_BUILD_DIR) --target isola-bench
	$(PYTHON) benches/run.py $(BENCH_ARGS)

# The optimised library (cargo --release) laid out as it is installed, in
# build/release/lib. This, never the debug build, is what `make install`
# installs.
RELEASE_BUILD_DIR := $(BUILD_DIR)/release
PREFIX ?= /usr/local
release: runtime
	cargo build --release --lib
	cmake -S . -B $(RELEASE_BUILD_DIR) -G Ninja -DISOLA_LIB_DIR=$(CURDIR)/target/release \
	  -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(RELEASE_BUILD_DIR) --target isola_lib_layout

# Install the release build into PREFIX: lib/libisola.so.X.Y.Z with its
# SONAME and dev symlinks, lib/libisola.a, include/isola.h,
# lib/pkgconfig/isola.pc and lib/cmake/isola (find_package).
install: release
	cmake --install $(RELEASE_BUILD_DIR) --prefix $(PREFIX)

# The release build installed into a fresh prefix, then outside projects
# built against it with find_package and pkg-config (shared and static)
# and run; also checks that the installed library is the release one.
test-install: release
	cmake --build $(RELEASE_BUILD_DIR)
	ctest --test-dir $(RELEASE_BUILD_DIR) -L package --output-on-failure

clean:
	rm -rf $(BUILD_DIR) runtime/python/out
	cargo clean
