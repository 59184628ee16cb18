#![no_main]
//! Fuzz target `json_value`: see `isola_fuzz::targets::json_value`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| isola_fuzz::targets::json_value(data));
