#![no_main]
//! Fuzz target `cbor_value`: see `isola_fuzz::targets::cbor_value`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| isola_fuzz::targets::cbor_value(data));
