//! `isola_error_t`: owned error objects with a stable code and a message.

use std::ffi::{CString, c_char};

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, handle, write_out},
    guard_value,
};
use crate::sandbox::{Error, ErrorKind};

/// Stable error codes. Values never change meaning between releases.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum isola_error_code_t {
    /// A NULL pointer, invalid UTF-8, malformed JSON/CBOR, an unknown
    /// function, an out-of-range enum value or option.
    ISOLA_ERROR_INVALID_ARGUMENT = 1,
    /// The object cannot do this now: the sandbox is unusable after a
    /// timeout, cancel or trap, or is in use by another thread.
    ISOLA_ERROR_INVALID_STATE = 2,
    /// Python code raised; the message holds the traceback.
    ISOLA_ERROR_GUEST_EXCEPTION = 3,
    /// The call ran past its time limit; discard the sandbox.
    ISOLA_ERROR_TIMEOUT = 4,
    /// The call was cancelled; discard the sandbox.
    ISOLA_ERROR_CANCELLED = 5,
    /// The sandbox hit its memory limit.
    ISOLA_ERROR_MEMORY_LIMIT = 6,
    /// A value or the call's output exceeded its limit.
    ISOLA_ERROR_OUTPUT_LIMIT = 7,
    /// A host file or OS operation failed (runtime file, mount, cache).
    ISOLA_ERROR_IO = 8,
    /// The guest trapped (for example a stack overflow); discard the sandbox.
    ISOLA_ERROR_TRAP = 9,
    /// A bug or an unexpected runtime failure.
    ISOLA_ERROR_INTERNAL = 10,
    /// A process-wide capacity is used up: every sandbox place is taken
    /// (see `isola_configure_engine`, `isola_capacity`). Free a sandbox and
    /// retry.
    ISOLA_ERROR_RESOURCE_EXHAUSTED = 11,
}

use isola_error_code_t as Code;

/// An error returned by an isola function. Owned by the caller, who frees
/// it with `isola_error_free`. Safe to read from any thread.
pub struct isola_error_t {
    code: Code,
    message: CString,
    guest_type: CString,
    exit_status: Option<i32>,
}

impl Castable for isola_error_t {
    type Ownership = OwnedByBox;
}

/// An error on its way to C.
#[derive(Debug)]
pub(crate) struct FfiError {
    code: Code,
    message: String,
    guest_type: String,
    exit_status: Option<i32>,
}

impl FfiError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            guest_type: String::new(),
            exit_status: None,
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(Code::ISOLA_ERROR_INVALID_ARGUMENT, message)
    }

    pub(crate) fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(Code::ISOLA_ERROR_INVALID_STATE, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(Code::ISOLA_ERROR_INTERNAL, message)
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn into_raw(self) -> *mut isola_error_t {
        // Interior NULs cannot be represented in a C string; show them.
        let c = |s: String| CString::new(s.replace('\0', "\\0")).unwrap_or_default();
        isola_error_t {
            code: self.code,
            message: c(self.message),
            guest_type: c(self.guest_type),
            exit_status: self.exit_status,
        }
        .into_raw()
    }
}

/// The one place mapping sandbox errors to C codes.
impl From<Error> for FfiError {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::GuestException => Code::ISOLA_ERROR_GUEST_EXCEPTION,
            ErrorKind::Timeout => Code::ISOLA_ERROR_TIMEOUT,
            ErrorKind::Cancelled => Code::ISOLA_ERROR_CANCELLED,
            ErrorKind::MemoryLimit => Code::ISOLA_ERROR_MEMORY_LIMIT,
            ErrorKind::OutputLimit => Code::ISOLA_ERROR_OUTPUT_LIMIT,
            ErrorKind::InvalidArgument => Code::ISOLA_ERROR_INVALID_ARGUMENT,
            ErrorKind::InvalidState => Code::ISOLA_ERROR_INVALID_STATE,
            ErrorKind::Trap => Code::ISOLA_ERROR_TRAP,
            ErrorKind::Io => Code::ISOLA_ERROR_IO,
            ErrorKind::ResourceExhausted => Code::ISOLA_ERROR_RESOURCE_EXHAUSTED,
            ErrorKind::Internal => Code::ISOLA_ERROR_INTERNAL,
        };
        let guest_type = match &e {
            Error::UserCode { kind, .. } => kind.clone(),
            _ => String::new(),
        };
        let exit_status = e.exit_status();
        // The code already names these kinds; Rust's Display repeats it as
        // a prefix ("invalid argument: ..."), which C would show twice.
        let message = match e {
            Error::InvalidArgument(message)
            | Error::Internal(message)
            | Error::ResourceExhausted(message) => message,
            Error::Io(io) => io.to_string(),
            other => other.to_string(),
        };
        Self {
            code,
            exit_status,
            message,
            guest_type,
        }
    }
}

impl From<crate::value::ValueError> for FfiError {
    fn from(e: crate::value::ValueError) -> Self {
        Self::invalid_argument(e.to_string())
    }
}

/// The code of `error`. A NULL `error` yields `ISOLA_ERROR_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_code(error: *const isola_error_t) -> isola_error_code_t {
    guard_value(Code::ISOLA_ERROR_INTERNAL, || {
        handle(error, "error").map_or(Code::ISOLA_ERROR_INVALID_ARGUMENT, |e| e.code)
    })
}

/// The message of `error`: NUL-terminated UTF-8, owned by the error and valid
/// until `isola_error_free`. For guest exceptions it holds the Python
/// traceback. Never NULL (a NULL `error` yields a static text).
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_message(error: *const isola_error_t) -> *const c_char {
    guard_value(c"internal error".as_ptr(), || {
        match handle(error, "error") {
            Ok(e) => e.message.as_ptr(),
            Err(_) => c"error is NULL".as_ptr(),
        }
    })
}

/// The Python exception type name (for example `"ValueError"`) of a
/// `ISOLA_ERROR_GUEST_EXCEPTION` error, else `""`. Owned by the error.
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_guest_type(error: *const isola_error_t) -> *const c_char {
    guard_value(c"".as_ptr(), || match handle(error, "error") {
        Ok(e) => e.guest_type.as_ptr(),
        Err(_) => c"".as_ptr(),
    })
}

/// Whether `error` is a `ISOLA_ERROR_GUEST_EXCEPTION` raised by an
/// uncaught `SystemExit` (`sys.exit(code)` in a script or a called
/// function); if so, writes the status python would exit with to `*status`:
/// an `int` code truncated to a C `int` (a process exiting with it shows
/// `status & 0xff`), or 1 for any other code, which the guest printed on its
/// stderr as python does (`sys.exit("message")`). A `SystemExit` with no
/// code or code 0 is no error: the script or call succeeds. `os._exit(status)`
/// ends the sandbox as it ends a process: the call fails with guest type
/// `SystemExit` and this status, 0 included, and the sandbox is unusable
/// afterwards (C code in the guest calling `exit` likewise, with status 0
/// or 1 only, as WASI keeps no more). Returns false,
/// leaving `*status` alone, for every other error, a NULL `error` or a NULL
/// `status`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_exit_status(error: *const isola_error_t, status: *mut i32) -> bool {
    guard_value(false, || {
        let Ok(e) = handle(error, "error") else {
            return false;
        };
        e.exit_status
            .is_some_and(|code| write_out(status, code, "status").is_ok())
    })
}

/// The stable name of a code, for example `"TIMEOUT"`; `"UNKNOWN"` for a
/// value that is not a code. Static storage; never freed.
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_code_name(code: u32) -> *const c_char {
    let name = match code {
        1 => c"INVALID_ARGUMENT",
        2 => c"INVALID_STATE",
        3 => c"GUEST_EXCEPTION",
        4 => c"TIMEOUT",
        5 => c"CANCELLED",
        6 => c"MEMORY_LIMIT",
        7 => c"OUTPUT_LIMIT",
        8 => c"IO",
        9 => c"TRAP",
        10 => c"INTERNAL",
        11 => c"RESOURCE_EXHAUSTED",
        _ => c"UNKNOWN",
    };
    name.as_ptr()
}

/// Free an error. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn isola_error_free(error: *mut isola_error_t) {
    guard_value((), || isola_error_t::free_raw(error));
}
