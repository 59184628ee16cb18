//! Validators turning raw C arguments into Rust values or an
//! `ISOLA_ERROR_INVALID_ARGUMENT` error.

use std::ffi::{CStr, c_char};

use super::error::FfiError;

/// Borrow a handle; NULL is an invalid argument.
pub(crate) fn handle<'a, T: Castable>(ptr: *const T, what: &str) -> Result<&'a T, FfiError> {
    // SAFETY: callers of the C API promise that a non-NULL handle came from
    // the matching `_new` function and has not been freed.
    unsafe { ptr.as_ref() }.ok_or_else(|| FfiError::invalid_argument(format!("{what} is NULL")))
}

/// Borrow a handle mutably; NULL is an invalid argument.
pub(crate) fn handle_mut<'a, T: Castable>(ptr: *mut T, what: &str) -> Result<&'a mut T, FfiError> {
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

/// An array of `len` NUL-terminated UTF-8 strings (`const char *const *`);
/// a NULL array (with `len` > 0), a NULL string or invalid UTF-8 is an
/// invalid argument naming the index (`what[i]`).
pub(crate) fn c_str_array<'a>(
    ptr: *const *const c_char,
    len: usize,
    what: &str,
) -> Result<Vec<&'a str>, FfiError> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if ptr.is_null() {
        return Err(FfiError::invalid_argument(format!(
            "{what} is NULL with length {len}"
        )));
    }
    // SAFETY: non-NULL; the caller promises `len` readable string pointers
    // that stay valid for the duration of the call.
    let pointers = unsafe { std::slice::from_raw_parts(ptr, len) };
    pointers
        .iter()
        .enumerate()
        .map(|(i, &arg)| c_str(arg, &format!("{what}[{i}]")))
        .collect()
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

/// A Rust type that C holds by pointer, and how C holds it (the `Castable`
/// pattern of rustls-ffi): only such types can be read back from a C
/// pointer ([`handle`], [`handle_mut`]), and only box-owned ones can be
/// created for and freed by C ([`BoxedHandle`]).
pub(crate) trait Castable: Sized {
    /// [`OwnedByBox`], the one kind of ownership the C API hands out today
    /// (every handle is a `Box` created by a `_new` function and destroyed
    /// by its `_free`).
    type Ownership;
}

/// C owns the value through a `Box`: created by `into_raw`, destroyed
/// exactly once by `free_raw`.
pub(crate) enum OwnedByBox {}

/// Ownership of a box-owned handle behind a C pointer: created by
/// `into_raw`, destroyed exactly once by `free_raw`. Implemented for every
/// `Castable<Ownership = OwnedByBox>`.
pub(crate) trait BoxedHandle: Castable<Ownership = OwnedByBox> {
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

impl<T: Castable<Ownership = OwnedByBox>> BoxedHandle for T {}

/// A C table that starts with `size_t struct_size` (set by the caller to
/// `sizeof` the table as its header declares it), so the table can grow
/// in later versions without breaking programs built against older
/// headers.
///
/// # Safety
/// `Self` is `#[repr(C)]`, its first field is `struct_size: usize`, and
/// all-zero bytes are a valid value of it (raw pointers, `Option` of
/// function pointers, integers).
pub(crate) unsafe trait Versioned: Copy {
    /// The C name of the table, for error messages.
    const NAME: &'static str;
    /// The size of the smallest layout this library accepts: the first
    /// published one (later fields read as zero when a caller's table is
    /// shorter).
    const MIN_SIZE: usize;
}

/// Copy a versioned table: `struct_size` must lie between the oldest
/// layout and this library's; fields a shorter (older) table lacks read
/// as zero (NULL). NULL is an invalid argument.
pub(crate) fn versioned<T: Versioned>(ptr: *const T, what: &str) -> Result<T, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::invalid_argument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL; the caller promises a table of this type, which
    // begins with a `size_t struct_size` (see `Versioned`).
    let size = unsafe { ptr.cast::<usize>().read_unaligned() };
    let max = std::mem::size_of::<T>();
    if size < T::MIN_SIZE || size > max {
        let hint = if size == 0 {
            format!("; set it to sizeof({})", T::NAME)
        } else if size > max {
            "; the program was built against a newer isola.h than this library".to_string()
        } else {
            String::new()
        };
        return Err(FfiError::invalid_argument(format!(
            "{what}->struct_size is {size}, but this library accepts {} tables of {} to {max} \
             bytes{hint}",
            T::NAME,
            T::MIN_SIZE
        )));
    }
    let mut table = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: the caller's table has `size` readable bytes (its
    // `struct_size`), `size <= size_of::<T>()`, and the regions are
    // distinct objects.
    unsafe {
        std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), table.as_mut_ptr().cast::<u8>(), size);
    }
    // SAFETY: all-zero bytes are a valid `T` (see `Versioned`), and the
    // copied prefix holds the caller's values of the fields it declares.
    Ok(unsafe { table.assume_init() })
}
