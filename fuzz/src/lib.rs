//! isola's fuzz targets. The bodies live in [`targets`], which has no
//! libFuzzer dependency, so the stable test suite runs every stored input
//! through the same code (`tests/fuzz_regressions.rs`).

pub mod targets;
