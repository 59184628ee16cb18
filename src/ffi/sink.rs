//! `isola_sink_t`: the callback table receiving a call's output.

use std::ffi::{c_char, c_void};

use crate::{
    host::{LogLevel, OutputSink},
    value::Value,
};

/// Deliver values to the sink as JSON text (NUL-terminated; `len` excludes
/// the NUL). Integers keep full precision; byte strings become arrays of
/// numbers; NaN and infinities become `null`.
pub const ISOLA_FORMAT_JSON: u32 = 0;
/// Deliver values to the sink as CBOR bytes (RFC 8949).
pub const ISOLA_FORMAT_CBOR: u32 = 1;

/// Receives a value: `data[0..len]` in the sink's format, valid only during
/// the callback.
pub type isola_value_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize)>;

/// Receives guest text (UTF-8, NUL-terminated, `len` excludes the NUL),
/// valid only during the callback.
pub type isola_text_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, text: *const c_char, len: usize)>;

/// Receives a Python `logging` record: numeric level (10 DEBUG, 20 INFO,
/// 30 WARNING, 40 ERROR, 50 CRITICAL), logger name and formatted message,
/// both NUL-terminated UTF-8, valid only during the callback.
pub type isola_log_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: u32,
        logger: *const c_char,
        logger_len: usize,
        message: *const c_char,
        message_len: usize,
    ),
>;

/// Callbacks receiving the output of one eval or call, in the order the
/// guest produced it. Every callback may be NULL (that output is dropped).
/// Callbacks run on the thread that made the call, before the call
/// returns, never concurrently. Inside a callback only non-blocking
/// functions may be used (replies, cancel, free, stream close and
/// try-push, error accessors); blocking ones fail with
/// `ISOLA_ERROR_INVALID_STATE` (see docs/c-api.md, "Callbacks and
/// re-entrancy"). Callbacks must return normally: unwinding out of one
/// (a C++ exception, `longjmp`, a Go panic) is undefined behaviour; catch
/// inside the callback. The sink is only borrowed for the duration of the
/// call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct isola_sink_t {
    /// `sizeof(isola_sink_t)`, set by the caller (for example
    /// `isola_sink_t sink = {sizeof(isola_sink_t)};`): lets the table grow
    /// in later versions. Any other value is `ISOLA_ERROR_INVALID_ARGUMENT`.
    pub struct_size: usize,
    /// Passed unchanged to every callback.
    pub user_data: *mut c_void,
    /// `ISOLA_FORMAT_JSON` or `ISOLA_FORMAT_CBOR`, for `on_item` and `on_result`.
    pub format: u32,
    /// A value yielded by a generator, as it is produced.
    pub on_item: isola_value_fn,
    /// Delivered once per successful eval or call: a call's return value
    /// (`null` when a function or generator returns nothing), or a script's
    /// last expression value (`null` when it does not end with an
    /// expression; the `repr` text when the value has no JSON/CBOR form).
    pub on_result: isola_value_fn,
    /// Text the guest wrote to `sys.stdout`.
    pub on_stdout: isola_text_fn,
    /// Text the guest wrote to `sys.stderr`.
    pub on_stderr: isola_text_fn,
    /// A record of the guest's `logging` module.
    pub on_log: isola_log_fn,
}

// SAFETY: `#[repr(C)]`, `struct_size` first, and all-zero bytes are valid
// (NULL pointers, `None` callbacks, format 0).
unsafe impl super::args::Versioned for isola_sink_t {
    const NAME: &'static str = "isola_sink_t";
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
}

/// A validated sink forwarding to C callbacks.
pub(crate) struct CSink {
    table: isola_sink_t,
}

// SAFETY: the C API documents that sink callbacks run on the calling thread
// while the call is in progress; the table is only used during that call.
unsafe impl Send for CSink {}
// SAFETY: as above; the sandbox never invokes callbacks concurrently.
unsafe impl Sync for CSink {}

impl CSink {
    pub(crate) fn new(table: isola_sink_t) -> Result<Self, super::error::FfiError> {
        match table.format {
            ISOLA_FORMAT_JSON | ISOLA_FORMAT_CBOR => Ok(Self { table }),
            other => Err(super::error::FfiError::invalid_argument(format!(
                "unknown sink format {other} (expected ISOLA_FORMAT_JSON or ISOLA_FORMAT_CBOR)"
            ))),
        }
    }

    fn deliver_value(&self, callback: isola_value_fn, value: &Value) {
        let Some(callback) = callback else { return };
        if self.table.format == ISOLA_FORMAT_CBOR {
            let bytes = value.as_cbor();
            // SAFETY: a C function from the caller's sink table, called as
            // `isola_value_fn` documents: `user_data` unchanged, `len`
            // readable bytes that live until it returns.
            unsafe { callback(self.table.user_data, bytes.as_ptr(), bytes.len()) };
        } else {
            let mut json = value
                .to_json_string()
                .unwrap_or_else(|_| "null".into())
                .into_bytes();
            let len = json.len();
            json.push(0);
            // SAFETY: as above; `json` also holds the terminating NUL.
            unsafe { callback(self.table.user_data, json.as_ptr(), len) };
        }
    }

    fn deliver_text(&self, callback: isola_text_fn, text: &str) {
        let Some(callback) = callback else { return };
        let owned = nul_terminated(text);
        // SAFETY: a C function from the caller's sink table, called as
        // `isola_text_fn` documents: NUL-terminated text of `len` bytes
        // that lives until it returns.
        unsafe { callback(self.table.user_data, owned.as_ptr().cast(), text.len()) };
    }
}

fn nul_terminated(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(0);
    bytes
}

impl OutputSink for CSink {
    fn on_item(&self, value: &Value) {
        self.deliver_value(self.table.on_item, value);
    }
    fn on_result(&self, value: &Value) {
        self.deliver_value(self.table.on_result, value);
    }
    fn on_stdout(&self, text: &str) {
        self.deliver_text(self.table.on_stdout, text);
    }
    fn on_stderr(&self, text: &str) {
        self.deliver_text(self.table.on_stderr, text);
    }
    fn on_log(&self, level: LogLevel, logger: &str, message: &str) {
        let Some(callback) = self.table.on_log else {
            return;
        };
        let logger_c = nul_terminated(logger);
        let message_c = nul_terminated(message);
        // SAFETY: a C function from the caller's sink table, called as
        // `isola_log_fn` documents: both strings NUL-terminated, of the
        // given lengths, alive until it returns.
        unsafe {
            callback(
                self.table.user_data,
                level,
                logger_c.as_ptr().cast(),
                logger.len(),
                message_c.as_ptr().cast(),
                message.len(),
            );
        }
    }
}
