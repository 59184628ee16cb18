//! Validators turning raw C arguments into Rust values or an
//! `ISOLA_ERROR_INVALID_ARGUMENT` error.

use std::ffi::{CStr, c_char};

use super::error::FfiError;

/// Borrow a handle; NULL is an invalid argument.
pub(crate) fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, FfiError> {
    // SAFETY: callers of the C API promise that a non-NULL handle came from
    // the matching `_new` function and has not been freed.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::invalid_argument(format!("{what} is NULL")))
}

/// Borrow a handle mutably; NULL is an invalid argument.
pub(crate) fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, FfiError> {
    // SAFETY: as `handle`; the C API documents that a handle is used by one
    // thread at a time, so no other reference exists during the call.
    unsafe { ptr.as_mut() }.ok_or_else(|| FfiError::invalid_argument(format!("{what} is NULL")))
}

/// A NUL-terminated UTF-8 string; NULL or invalid UTF-8 is an invalid argument.
pub(crate) fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::invalid_argument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL; the caller promises a NUL-terminated string that
    // stays valid for the duration of the call.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes)
        .map_err(|e| FfiError::invalid_argument(format!("{what} is not valid UTF-8: {e}")))
}

/// Like [`c_str`], but NULL means "absent".
pub(crate) fn opt_c_str<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, FfiError> {
    if ptr.is_null() {
        Ok(None)
    } else {
        c_str(ptr, what).map(Some)
    }
}

/// A `(ptr, len)` byte buffer; NULL is allowed only when `len` is 0.
pub(crate) fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], FfiError> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::invalid_argument(format!(
            "{what} is NULL with length {len}"
        )));
    }
    // SAFETY: non-NULL; the caller promises `len` readable bytes that stay
    // valid for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Store `value` through an out-pointer; NULL is an invalid argument.
pub(crate) fn write_out<T>(out: *mut T, value: T, what: &str) -> Result<(), FfiError> {
    if out.is_null() {
        return Err(FfiError::invalid_argument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL; the caller provides writable storage for one `T`.
    unsafe { out.write(value) };
    Ok(())
}

/// Check an out-pointer before doing work whose result it will receive.
pub(crate) fn check_out<T>(out: *mut T, what: &str) -> Result<(), FfiError> {
    if out.is_null() {
        Err(FfiError::invalid_argument(format!("{what} is NULL")))
    } else {
        Ok(())
    }
}

/// Ownership of a handle behind a C pointer: created by `into_raw`,
/// destroyed exactly once by `free_raw`.
pub(crate) trait BoxedHandle: Sized {
    /// Move into a heap allocation owned by C.
    fn into_raw(self) -> *mut Self {
        Box::into_raw(Box::new(self))
    }

    /// Destroy a handle from `into_raw`; NULL is ignored.
    fn free_raw(ptr: *mut Self) {
        if !ptr.is_null() {
            // SAFETY: the pointer came from `into_raw` (Box::into_raw) and
            // the C API documents that it is freed once.
            drop(unsafe { Box::from_raw(ptr) });
        }
    }
}
