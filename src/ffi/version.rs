//! Library version.

use std::ffi::c_char;

/// Major version of the header. The SONAME is `libisola.so.MAJOR`, and
/// `libisola.so.0.MINOR` while the major version is 0 (unstable ABI).
pub const ISOLA_VERSION_MAJOR: u32 = 0;
/// Minor version of the header.
pub const ISOLA_VERSION_MINOR: u32 = 1;
/// Patch version of the header.
pub const ISOLA_VERSION_PATCH: u32 = 0;

/// The library version as `"MAJOR.MINOR.PATCH"`, static storage. Compare
/// with the `ISOLA_VERSION_*` macros to detect a header/library mismatch.
#[unsafe(no_mangle)]
pub extern "C" fn isola_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macros_match_the_crate_version() {
        let expected = format!("{ISOLA_VERSION_MAJOR}.{ISOLA_VERSION_MINOR}.{ISOLA_VERSION_PATCH}");
        assert_eq!(env!("CARGO_PKG_VERSION"), expected);
    }
}
