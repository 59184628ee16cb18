#![no_main]
//! Fuzz target `c_buffers`: see `isola_fuzz::targets::c_buffers`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| isola_fuzz::targets::c_buffers(data));
