//! Files in and out of a sandbox's in-memory scratch file system (`/tmp`
//! and the home directory `/home/user`): `isola_sandbox_write_file`,
//! `isola_sandbox_read_file` (→ `isola_buffer_t`) and
//! `isola_sandbox_list_dir` (→ `isola_dir_listing_t`).

use std::ffi::{CString, c_char};

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, c_str, check_out, handle, write_out},
    error::{FfiError, isola_error_t},
    guard, guard_value,
    sandbox::{isola_sandbox_t, with_sandbox},
};
use crate::sandbox::FileKind;

/// Bytes owned by isola (a file read with `isola_sandbox_read_file`).
/// Read them with `isola_buffer_data` / `isola_buffer_len`; free with
/// `isola_buffer_free`. Immutable: any thread may read it.
pub struct isola_buffer_t {
    bytes: Vec<u8>,
}

impl Castable for isola_buffer_t {
    type Ownership = OwnedByBox;
}

/// What a directory entry is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum isola_file_kind_t {
    /// A regular file.
    ISOLA_FILE_KIND_FILE = 0,
    /// A directory.
    ISOLA_FILE_KIND_DIRECTORY = 1,
    /// Anything else (a device).
    ISOLA_FILE_KIND_OTHER = 2,
}

/// The entries of one directory (`isola_sandbox_list_dir`), sorted by name.
/// Free with `isola_dir_listing_free`. Immutable: any thread may read it.
pub struct isola_dir_listing_t {
    entries: Vec<(CString, isola_file_kind_t)>,
}

impl Castable for isola_dir_listing_t {
    type Ownership = OwnedByBox;
}

/// Create or replace the file `path` (NUL-terminated UTF-8) in the
/// sandbox's scratch file system with the `len` bytes at `data` (`data` may
/// be NULL when `len` is 0), creating missing parent directories. `path` is
/// absolute under `/tmp` or `/home/user`, or relative to `/home/user`.
/// The sandbox's scratch caps apply as they do to the guest.
///
/// Use it before or between calls, from the thread that uses the sandbox;
/// during a call (or from inside a callback) it fails with
/// `ISOLA_ERROR_INVALID_STATE`. Errors: `ISOLA_ERROR_INVALID_ARGUMENT` for
/// NULL arguments, invalid UTF-8 or a path outside the scratch file system
/// (a mount, `/dev`, `/`); `ISOLA_ERROR_IO` when a cap is hit or a parent
/// is not a directory.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_write_file(
    sandbox: *const isola_sandbox_t,
    path: *const c_char,
    data: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let path = c_str(path, "path")?;
        let data = bytes(data, len, "data")?;
        with_sandbox(sandbox, "isola_sandbox_write_file", |sb| {
            Ok(sb.write_file(path, data)?)
        })
    })
}

/// Read the file `path` of the sandbox's scratch file system (rules for
/// `path` as in `isola_sandbox_write_file`) into a new buffer stored in
/// `*out`, which the caller frees with `isola_buffer_free`. `*out` is
/// untouched on error.
///
/// Use it before or between calls (also after a call that failed, to
/// collect what the guest wrote). Errors: `ISOLA_ERROR_INVALID_ARGUMENT`
/// for NULL arguments or a path not below `/tmp` or `/home/user` (those
/// two directories themselves included); `ISOLA_ERROR_IO` when the file
/// does not exist or is a directory;
/// `ISOLA_ERROR_INVALID_STATE` during a call.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_read_file(
    sandbox: *const isola_sandbox_t,
    path: *const c_char,
    out: *mut *mut isola_buffer_t,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let path = c_str(path, "path")?;
        check_out(out, "out")?;
        let bytes = with_sandbox(sandbox, "isola_sandbox_read_file", |sb| {
            Ok(sb.read_file(path)?)
        })?;
        write_out(out, isola_buffer_t { bytes }.into_raw(), "out")
    })
}

/// The first byte of the buffer (NULL for a NULL buffer; may be dangling
/// but non-NULL for an empty one: read `isola_buffer_len` bytes). Valid
/// until `isola_buffer_free`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_buffer_data(buffer: *const isola_buffer_t) -> *const u8 {
    guard_value(std::ptr::null(), || {
        handle(buffer, "buffer").map_or(std::ptr::null(), |b| b.bytes.as_ptr())
    })
}

/// How many bytes the buffer holds (0 for a NULL buffer).
#[unsafe(no_mangle)]
pub extern "C" fn isola_buffer_len(buffer: *const isola_buffer_t) -> usize {
    guard_value(0, || handle(buffer, "buffer").map_or(0, |b| b.bytes.len()))
}

/// Free a buffer from `isola_sandbox_read_file`; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn isola_buffer_free(buffer: *mut isola_buffer_t) {
    guard_value((), || isola_buffer_t::free_raw(buffer));
}

/// List the directory `path` of the sandbox's scratch file system (rules
/// for `path` as in `isola_sandbox_write_file`; `/tmp`, `/home/user` or a
/// directory below them) into a new listing stored in `*out`, which the
/// caller frees with `isola_dir_listing_free`. `*out` is untouched on
/// error. Errors as for `isola_sandbox_read_file` (`ISOLA_ERROR_IO` when
/// the directory does not exist or is a file).
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_list_dir(
    sandbox: *const isola_sandbox_t,
    path: *const c_char,
    out: *mut *mut isola_dir_listing_t,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let path = c_str(path, "path")?;
        check_out(out, "out")?;
        let listed = with_sandbox(sandbox, "isola_sandbox_list_dir", |sb| {
            Ok(sb.list_dir(path)?)
        })?;
        let entries = listed
            .into_iter()
            .map(|entry| {
                let kind = match entry.kind {
                    FileKind::File => isola_file_kind_t::ISOLA_FILE_KIND_FILE,
                    FileKind::Directory => isola_file_kind_t::ISOLA_FILE_KIND_DIRECTORY,
                    FileKind::Other => isola_file_kind_t::ISOLA_FILE_KIND_OTHER,
                };
                CString::new(entry.name)
                    .map(|name| (name, kind))
                    .map_err(|_| FfiError::internal("a file name contains a NUL byte"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        write_out(out, isola_dir_listing_t { entries }.into_raw(), "out")
    })
}

/// How many entries the listing holds (0 for a NULL listing).
#[unsafe(no_mangle)]
pub extern "C" fn isola_dir_listing_len(listing: *const isola_dir_listing_t) -> usize {
    guard_value(0, || {
        handle(listing, "listing").map_or(0, |l| l.entries.len())
    })
}

/// The name (NUL-terminated UTF-8, no directory part) of entry `index`, or
/// NULL when `listing` is NULL or `index` is out of range. Valid until
/// `isola_dir_listing_free`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_dir_listing_name(
    listing: *const isola_dir_listing_t,
    index: usize,
) -> *const c_char {
    guard_value(std::ptr::null(), || {
        handle(listing, "listing")
            .ok()
            .and_then(|l| l.entries.get(index))
            .map_or(std::ptr::null(), |(name, _)| name.as_ptr())
    })
}

/// What entry `index` is; `ISOLA_FILE_KIND_OTHER` when `listing` is NULL or
/// `index` is out of range.
#[unsafe(no_mangle)]
pub extern "C" fn isola_dir_listing_kind(
    listing: *const isola_dir_listing_t,
    index: usize,
) -> isola_file_kind_t {
    guard_value(isola_file_kind_t::ISOLA_FILE_KIND_OTHER, || {
        handle(listing, "listing")
            .ok()
            .and_then(|l| l.entries.get(index))
            .map_or(isola_file_kind_t::ISOLA_FILE_KIND_OTHER, |(_, kind)| *kind)
    })
}

/// Free a listing from `isola_sandbox_list_dir`; NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn isola_dir_listing_free(listing: *mut isola_dir_listing_t) {
    guard_value((), || isola_dir_listing_t::free_raw(listing));
}
