#![no_main]
//! Fuzz target `sandbox_events`: see `isola_fuzz::targets::sandbox_events`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| isola_fuzz::targets::sandbox_events(data));
