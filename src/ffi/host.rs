//! `isola_host_t`: C callbacks answering guest host calls and HTTP
//! requests, and the reply objects that deliver their answers.

use std::ffi::{c_char, c_void};

use tokio::sync::{oneshot, watch};

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, c_str, check_out, handle, write_out},
    error::{FfiError, isola_error_t},
    guard, guard_value,
    http_body::isola_http_body_t,
    sink::{ISOLA_FORMAT_CBOR, ISOLA_FORMAT_JSON},
};
use crate::{
    host::{BoxError, Host, HttpRequest, HttpResponse},
    value::Value,
};

/// Receives a guest host call: `name` (UTF-8, NUL-terminated, `name_len`
/// bytes) and the payload in the host's format (`payload_len` bytes), both
/// valid only during the callback. The callback takes ownership of `reply`
/// and must complete it exactly once, now or later from any thread, with
/// `isola_reply_ok_json`, `isola_reply_ok_cbor` or `isola_reply_error`.
pub type isola_hostcall_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        name: *const c_char,
        name_len: usize,
        payload: *const u8,
        payload_len: usize,
        reply: *mut isola_reply_t,
    ),
>;

/// Receives a guest HTTP request (valid only during the callback). The
/// callback takes ownership of `reply` and must complete it exactly once,
/// now or later from any thread, with `isola_http_reply_ok`,
/// `isola_http_reply_start` (a streamed body) or `isola_http_reply_error`.
pub type isola_http_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        request: *const isola_http_request_t,
        reply: *mut isola_http_reply_t,
    ),
>;

/// Frees `user_data` once nothing refers to the host any more.
pub type isola_free_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

/// The host side of privileged guest operations. Pass it to
/// `isola_sandbox_options_set_host`. Callbacks run on the thread that made
/// the eval/call, never concurrently for one sandbox; with several
/// sandboxes on several threads they may run concurrently, so `user_data`
/// must tolerate that. Any callback may be NULL: that operation is refused
/// with a clear guest exception. The same re-entrancy rules as for sinks
/// apply; a callback that blocks stalls its call, whose time limit is only
/// checked again once the callback returns: reply later from another
/// thread instead. Callbacks must return normally (no C++ exception,
/// `longjmp` or Go panic may unwind out of them).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct isola_host_t {
    /// `sizeof(isola_host_t)`, set by the caller (for example
    /// `isola_host_t host = {sizeof(isola_host_t)};`): lets the table grow
    /// in later versions. Any other value is `ISOLA_ERROR_INVALID_ARGUMENT`.
    pub struct_size: usize,
    /// Passed unchanged to every callback.
    pub user_data: *mut c_void,
    /// Called exactly once with `user_data` when the last options object,
    /// template or sandbox using it is freed, however many host tables name
    /// the same `user_data` (the first table's function is the one called).
    /// Never called for a NULL `user_data`. May be NULL.
    pub user_data_free: isola_free_fn,
    /// `ISOLA_FORMAT_JSON` or `ISOLA_FORMAT_CBOR`: how host call payloads
    /// are delivered to `on_hostcall`.
    pub format: u32,
    /// Answers `await sandbox.hostcall(name, payload)`.
    pub on_hostcall: isola_hostcall_fn,
    /// Answers `sandbox.http` requests and `urllib.request.urlopen`.
    pub on_http_request: isola_http_fn,
}

// SAFETY: `#[repr(C)]`, `struct_size` first, and all-zero bytes are valid
// (NULL pointers, `None` callbacks, format 0).
unsafe impl super::args::Versioned for isola_host_t {
    const NAME: &'static str = "isola_host_t";
    const MIN_SIZE: usize = std::mem::size_of::<Self>();
}

/// One HTTP header, NUL-terminated UTF-8 strings.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct isola_header_t {
    /// Header name.
    pub name: *const c_char,
    /// Header value.
    pub value: *const c_char,
}

/// A guest HTTP request, borrowed for the duration of the callback.
#[repr(C)]
#[derive(Debug)]
pub struct isola_http_request_t {
    /// Method, e.g. `"GET"`.
    pub method: *const c_char,
    /// Absolute URL.
    pub url: *const c_char,
    /// `header_count` headers.
    pub headers: *const isola_header_t,
    /// Number of headers.
    pub header_count: usize,
    /// Request body (`body_len` bytes); NULL when the request has none.
    pub body: *const u8,
    /// Length of `body`.
    pub body_len: usize,
}

/// The call a host callback serves: its sandbox's `call_data` and whether
/// it has ended. Set on the calling thread for the duration of a blocking
/// call; host callbacks start on that thread, so each reply picks it up.
#[derive(Clone)]
pub(crate) struct CallContext {
    call_data: *mut c_void,
    /// Turns true when the call is over (also when its sender is gone).
    ended: watch::Receiver<bool>,
}

// SAFETY: `call_data` is only handed back to C (`isola_reply_call_data`),
// which the C API documents may happen on any thread.
unsafe impl Send for CallContext {}
// SAFETY: as above; the pointer is never dereferenced here.
unsafe impl Sync for CallContext {}

impl CallContext {
    /// Whether the call is over.
    pub(crate) fn has_ended(&self) -> bool {
        *self.ended.borrow() || self.ended.has_changed().is_err()
    }

    /// A receiver that turns true when the call is over.
    pub(crate) fn ended(&self) -> watch::Receiver<bool> {
        self.ended.clone()
    }
}

thread_local! {
    static CURRENT_CALL: std::cell::RefCell<Option<CallContext>> =
        const { std::cell::RefCell::new(None) };
}

/// Marks the call running on this thread; when dropped (the call is over,
/// whatever the outcome) its replies report themselves abandoned.
pub(crate) struct CallScope {
    ended: watch::Sender<bool>,
    outer: Option<CallContext>,
}

impl CallScope {
    pub(crate) fn enter(call_data: *mut c_void) -> Self {
        let (ended, receiver) = watch::channel(false);
        let context = CallContext {
            call_data,
            ended: receiver,
        };
        let outer = CURRENT_CALL.with(|current| current.replace(Some(context)));
        Self { ended, outer }
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        self.ended.send_replace(true);
        let outer = self.outer.take();
        CURRENT_CALL.with(|current| *current.borrow_mut() = outer);
    }
}

pub(crate) fn current_call() -> Option<CallContext> {
    CURRENT_CALL.with(|current| current.borrow().clone())
}

/// What a reply knows about its call.
fn abandoned<T>(call: Option<&CallContext>, sender: &oneshot::Sender<T>) -> bool {
    sender.is_closed() || call.is_some_and(CallContext::has_ended)
}

/// The pending answer of one host call; completing it frees it.
pub struct isola_reply_t {
    sender: oneshot::Sender<Result<Value, String>>,
    call: Option<CallContext>,
}

impl Castable for isola_reply_t {
    type Ownership = OwnedByBox;
}

impl isola_reply_t {
    /// Hand `value` to the waiting guest; a value the host failed to give
    /// fails the guest's call and is reported to the host as well.
    fn complete(self, value: Result<Value, FfiError>) -> Result<(), FfiError> {
        let answer = match &value {
            Ok(value) => Ok(value.clone()),
            Err(e) => Err(format!("invalid host reply: {}", e.message())),
        };
        let _ = self.sender.send(answer);
        value.map(drop)
    }
}

/// The pending answer of one HTTP request; completing it frees it.
pub struct isola_http_reply_t {
    sender: oneshot::Sender<Result<HttpResponse, String>>,
    call: Option<CallContext>,
}

impl Castable for isola_http_reply_t {
    type Ownership = OwnedByBox;
}

impl isola_http_reply_t {
    /// Hand `response` to the waiting guest; a response the host failed to
    /// give fails the guest's request and is reported to the host as well.
    fn answer(self, response: Result<HttpResponse, FfiError>) -> Result<(), FfiError> {
        match response {
            Ok(response) => {
                let _ = self.sender.send(Ok(response));
                Ok(())
            }
            Err(e) => {
                let _ = self.sender.send(Err(format!(
                    "invalid HTTP reply from host: {}",
                    e.message()
                )));
                Err(e)
            }
        }
    }
}

/// A host's `user_data` and the function freeing it. One owner exists per
/// distinct `user_data` pointer in the whole process, shared by every host
/// table naming it, so `user_data_free` runs exactly once, when the last
/// options object, template or sandbox using it is gone.
struct UserData {
    ptr: *mut c_void,
    free: isola_free_fn,
}

// SAFETY: `user_data` is only handed back to C callbacks, which the C API
// documents may run on any thread.
unsafe impl Send for UserData {}
// SAFETY: as above; the owner itself is never mutated.
unsafe impl Sync for UserData {}

/// Live `user_data` owners by pointer address.
static USER_DATA: std::sync::LazyLock<
    parking_lot::Mutex<std::collections::HashMap<usize, std::sync::Weak<UserData>>>,
> = std::sync::LazyLock::new(Default::default);

impl UserData {
    /// The owner of `ptr`: the live one when another table already names
    /// it (its free function wins), else a new one. `None` for NULL, which
    /// is never freed.
    fn shared(ptr: *mut c_void, free: isola_free_fn) -> Option<std::sync::Arc<Self>> {
        if ptr.is_null() {
            return None;
        }
        let mut owners = USER_DATA.lock();
        if let Some(owner) = owners
            .get(&(ptr as usize))
            .and_then(std::sync::Weak::upgrade)
        {
            return Some(owner);
        }
        let owner = std::sync::Arc::new(Self { ptr, free });
        owners.insert(ptr as usize, std::sync::Arc::downgrade(&owner));
        Some(owner)
    }
}

impl Drop for UserData {
    fn drop(&mut self) {
        {
            let mut owners = USER_DATA.lock();
            let key = self.ptr as usize;
            if owners
                .get(&key)
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), &raw const *self))
            {
                owners.remove(&key);
            }
        }
        if let Some(free) = self.free {
            // SAFETY: the caller's `user_data_free`, called once for its
            // non-NULL `user_data` now that no table uses it (see
            // `isola_host_t`).
            unsafe { free(self.ptr) };
        }
    }
}

/// A validated host table and the shared owner of its `user_data`.
pub(crate) struct CHost {
    table: isola_host_t,
    _user_data: Option<std::sync::Arc<UserData>>,
}

// SAFETY: the C API documents that callbacks may be invoked from the
// threads that drive sandbox calls and that `user_data` must allow that.
unsafe impl Send for CHost {}
// SAFETY: as above.
unsafe impl Sync for CHost {}

impl CHost {
    pub(crate) fn new(table: isola_host_t) -> Result<Self, FfiError> {
        match table.format {
            ISOLA_FORMAT_JSON | ISOLA_FORMAT_CBOR => Ok(Self {
                _user_data: UserData::shared(table.user_data, table.user_data_free),
                table,
            }),
            other => Err(FfiError::invalid_argument(format!(
                "unknown host payload format {other}"
            ))),
        }
    }
}

impl CHost {
    /// Hand `request` to the C callback; the C views of it live only here.
    fn start_http(
        user_data: *mut c_void,
        callback: unsafe extern "C" fn(
            *mut c_void,
            *const isola_http_request_t,
            *mut isola_http_reply_t,
        ),
        request: &HttpRequest,
    ) -> oneshot::Receiver<Result<HttpResponse, String>> {
        let (sender, receiver) = oneshot::channel();
        let method = c_string(&request.method);
        let url = c_string(&request.url);
        let header_strings: Vec<_> = request
            .headers
            .iter()
            .map(|(n, v)| (c_string(n), c_string(v)))
            .collect();
        let headers: Vec<_> = header_strings
            .iter()
            .map(|(n, v)| isola_header_t {
                name: n.as_ptr(),
                value: v.as_ptr(),
            })
            .collect();
        let body = request.body.as_deref();
        let c_request = isola_http_request_t {
            method: method.as_ptr(),
            url: url.as_ptr(),
            headers: headers.as_ptr(),
            header_count: headers.len(),
            body: body.map_or(std::ptr::null(), <[u8]>::as_ptr),
            body_len: body.map_or(0, <[u8]>::len),
        };
        let reply = isola_http_reply_t {
            sender,
            call: current_call(),
        }
        .into_raw();
        // SAFETY: the caller's `on_http_request`, called as `isola_http_fn`
        // documents: the request and every string it points to live until
        // it returns; the reply is the callback's to complete.
        unsafe { callback(user_data, &raw const c_request, reply) };
        receiver
    }
}

/// Text that must reach C as a NUL-terminated string.
fn c_string(text: &str) -> std::ffi::CString {
    std::ffi::CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}

async fn wait<T>(
    receiver: oneshot::Receiver<Result<T, String>>,
    what: &str,
) -> Result<T, BoxError> {
    match receiver.await {
        Ok(answer) => answer.map_err(Into::into),
        Err(_) => Err(format!("the host dropped the {what} reply without answering").into()),
    }
}

#[async_trait::async_trait]
impl Host for CHost {
    async fn hostcall(&self, name: &str, payload: Value) -> Result<Value, BoxError> {
        let Some(callback) = self.table.on_hostcall else {
            return Err(format!("host call '{name}' is not supported by this host").into());
        };
        let (sender, receiver) = oneshot::channel();
        let name_c = c_string(name);
        let data = if self.table.format == ISOLA_FORMAT_CBOR {
            payload.into_cbor()
        } else {
            let mut json = payload.to_json_string()?.into_bytes();
            json.push(0);
            json
        };
        let len = if self.table.format == ISOLA_FORMAT_CBOR {
            data.len()
        } else {
            data.len() - 1
        };
        let reply = isola_reply_t {
            sender,
            call: current_call(),
        }
        .into_raw();
        // SAFETY: the caller's `on_hostcall`, called as `isola_hostcall_fn`
        // documents: name and payload live until it returns (JSON payloads
        // NUL-terminated); the reply is the callback's to complete.
        unsafe {
            callback(
                self.table.user_data,
                name_c.as_ptr(),
                name.len(),
                data.as_ptr(),
                len,
                reply,
            );
        }
        wait(receiver, "host call").await
    }

    async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, BoxError> {
        let Some(callback) = self.table.on_http_request else {
            return Err(format!(
                "HTTP requests are not allowed by this host ({})",
                request.url
            )
            .into());
        };
        let receiver = Self::start_http(self.table.user_data, callback, &request);
        wait(receiver, "HTTP").await
    }
}

fn take<T: BoxedHandle>(reply: *mut T) -> Result<Box<T>, FfiError> {
    if reply.is_null() {
        return Err(FfiError::invalid_argument("reply is NULL"));
    }
    // SAFETY: non-NULL replies come from `into_raw` in this module and the
    // C API documents that each is completed (and so consumed) once.
    Ok(unsafe { Box::from_raw(reply) })
}

/// Answer a host call with a JSON value (NUL-terminated). Consumes `reply`,
/// also when the JSON is invalid (the guest then gets the parse error).
/// Callable from any thread. A reply whose call has already ended is
/// accepted and dropped.
#[unsafe(no_mangle)]
pub extern "C" fn isola_reply_ok_json(
    reply: *mut isola_reply_t,
    json: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        reply.complete(c_str(json, "json").and_then(|j| Ok(Value::from_json_str(j)?)))
    })
}

/// Answer a host call with a CBOR value (`len` bytes). Consumes `reply` as
/// `isola_reply_ok_json` does.
#[unsafe(no_mangle)]
pub extern "C" fn isola_reply_ok_cbor(
    reply: *mut isola_reply_t,
    cbor: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        reply.complete(bytes(cbor, len, "cbor").and_then(|b| Ok(Value::from_cbor(b)?)))
    })
}

/// Fail a host call: the guest's `await sandbox.hostcall(...)` raises
/// `sandbox.HostError(message)`. Consumes `reply`; `message` may be NULL.
#[unsafe(no_mangle)]
pub extern "C" fn isola_reply_error(
    reply: *mut isola_reply_t,
    message: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        let message = super::args::opt_c_str(message, "message")?.unwrap_or("host call failed");
        let _ = reply.sender.send(Err(message.to_string()));
        Ok(())
    })
}

/// Answer an HTTP request with a status, `header_count` headers and a body
/// of `body_len` bytes (NULL allowed when 0). Copies everything; consumes
/// `reply`. Callable from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_reply_ok(
    reply: *mut isola_http_reply_t,
    status: u16,
    headers: *const isola_header_t,
    header_count: usize,
    body: *const u8,
    body_len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        let parsed = parse_headers(headers, header_count).and_then(|headers| {
            let body = bytes(body, body_len, "body")?.to_vec();
            Ok(HttpResponse::with_body(status, headers, body))
        });
        reply.answer(parsed)
    })
}

/// Answer an HTTP request with a streamed body: the guest receives
/// `status` and the `header_count` headers (copied) now, and reads the
/// body as the host pushes it into `*body` (see `isola_http_body_push`),
/// up to `capacity` unread chunks (1 to `SIZE_MAX / 8`). Consumes `reply`,
/// also on an error (the guest then gets the error and `*body` is not
/// written). Never blocks: callable from inside the callback or later from
/// any thread. On success free `*body` with `isola_http_body_free` after
/// ending it.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_reply_start(
    reply: *mut isola_http_reply_t,
    status: u16,
    headers: *const isola_header_t,
    header_count: usize,
    capacity: usize,
    body: *mut *mut isola_http_body_t,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        let started = check_out(body, "body").and_then(|()| {
            let headers = parse_headers(headers, header_count)?;
            let (writer, stream) = isola_http_body_t::new(capacity, reply.call.clone())?;
            Ok((
                writer,
                HttpResponse {
                    status,
                    headers,
                    body: stream,
                },
            ))
        });
        let (writer, response) = match started {
            Ok(started) => started,
            Err(e) => return reply.answer(Err(e)),
        };
        reply.answer(Ok(response))?;
        write_out(body, writer.into_raw(), "body")
    })
}

/// Fail an HTTP request: the guest gets `sandbox.http.HTTPError(message)`.
/// Consumes `reply`; `message` may be NULL.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_reply_error(
    reply: *mut isola_http_reply_t,
    message: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let reply = take(reply)?;
        let message = super::args::opt_c_str(message, "message")?.unwrap_or("HTTP request failed");
        let _ = reply.sender.send(Err(message.to_string()));
        Ok(())
    })
}

/// Whether the call that made this host call is over (finished, failed,
/// cancelled or timed out): nobody waits for the answer any more, so
/// expensive work may stop. The reply must still be completed (or it
/// leaks); its answer is then dropped. Does not consume `reply`; any thread.
/// NULL yields true.
#[unsafe(no_mangle)]
pub extern "C" fn isola_reply_is_abandoned(reply: *const isola_reply_t) -> bool {
    guard_value(true, || {
        handle(reply, "reply").map_or(true, |r| abandoned(r.call.as_ref(), &r.sender))
    })
}

/// The `call_data` of the sandbox whose call made this host call (see
/// `isola_sandbox_set_call_data`): tells tenants apart when one host table
/// serves many sandboxes. NULL when none was set (or `reply` is NULL).
#[unsafe(no_mangle)]
pub extern "C" fn isola_reply_call_data(reply: *const isola_reply_t) -> *mut c_void {
    guard_value(std::ptr::null_mut(), || {
        handle(reply, "reply").map_or(std::ptr::null_mut(), |r| {
            r.call
                .as_ref()
                .map_or(std::ptr::null_mut(), |c| c.call_data)
        })
    })
}

/// `isola_reply_is_abandoned` for an HTTP reply.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_reply_is_abandoned(reply: *const isola_http_reply_t) -> bool {
    guard_value(true, || {
        handle(reply, "reply").map_or(true, |r| abandoned(r.call.as_ref(), &r.sender))
    })
}

/// `isola_reply_call_data` for an HTTP reply.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_reply_call_data(reply: *const isola_http_reply_t) -> *mut c_void {
    guard_value(std::ptr::null_mut(), || {
        handle(reply, "reply").map_or(std::ptr::null_mut(), |r| {
            r.call
                .as_ref()
                .map_or(std::ptr::null_mut(), |c| c.call_data)
        })
    })
}

fn parse_headers(
    headers: *const isola_header_t,
    count: usize,
) -> Result<Vec<(String, String)>, FfiError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(FfiError::invalid_argument(
            "headers is NULL with a non-zero count",
        ));
    }
    // SAFETY: non-NULL; the caller promises `count` readable headers.
    let headers = unsafe { std::slice::from_raw_parts(headers, count) };
    headers
        .iter()
        .map(|h| {
            Ok((
                c_str(h.name, "header name")?.to_string(),
                c_str(h.value, "header value")?.to_string(),
            ))
        })
        .collect()
}

/// Attach host callbacks to sandbox options (and so to every sandbox
/// created with them; on template defaults, to every sandbox of the
/// template unless its own options set another host). The table is copied;
/// `user_data_free` runs once per `user_data`, when the last user of it is
/// gone, even when the same `user_data` is set on several objects or
/// several times. Setting a host again replaces the previous one (its
/// `user_data` is freed only if nothing else uses it). On an error nothing
/// is taken: `user_data` stays the caller's.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_options_set_host(
    options: *mut super::options::isola_sandbox_options_t,
    host: *const isola_host_t,
) -> *mut isola_error_t {
    guard(|| {
        let options = super::args::handle_mut(options, "options")?;
        let table = super::args::versioned(host, "host")?;
        options.host = Some(std::sync::Arc::new(CHost::new(table)?));
        Ok(())
    })
}
