//! The default Python runtime component, embedded at build time by build.rs.

/// Runtime component bytes and their SHA-256 (computed at build time so
/// loading the cache does not hash 20 MB per process).
pub(crate) fn runtime() -> (&'static [u8], [u8; 32]) {
    static BYTES: &[u8] = include_bytes!(env!("ISOLA_RUNTIME_WASM"));
    const DIGEST_HEX: &str = env!("ISOLA_RUNTIME_SHA256");
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&DIGEST_HEX[2 * i..2 * i + 2], 16).expect("build.rs writes hex");
    }
    (BYTES, digest)
}
