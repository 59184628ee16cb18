//! `isola_sandbox_t`: one isolated Python instance, and
//! `isola_cancel_handle_t`, which stops its running call from any thread.

use std::{
    ffi::{c_char, c_void},
    sync::{
        Arc,
        atomic::{AtomicPtr, Ordering},
    },
    thread::ThreadId,
};

use parking_lot::Mutex;

use super::{
    args::{
        BoxedHandle, Castable, OwnedByBox, bytes, c_str, check_out, handle, opt_c_str, write_out,
    },
    error::{FfiError, isola_error_t},
    guard, guard_value,
    host::CallScope,
    options::{isola_sandbox_options_t, timeout_ms},
    runtime::{block_on, ensure_can_block},
    sink::{CSink, isola_sink_t},
    template::isola_template_t,
};
use crate::{
    host::{DiscardSink, Host, NoHost, OutputSink},
    sandbox::{Arg, CancelHandle, CancelOutcome, MemoryGauge, Sandbox, SandboxOptions},
    value::Value,
};

/// A live sandbox. Calls on one sandbox must not overlap: use it from one
/// thread at a time (a second concurrent call fails with
/// `ISOLA_ERROR_INVALID_STATE`). `isola_sandbox_cancel` and
/// `isola_sandbox_free` are the exceptions (see their documentation).
pub struct isola_sandbox_t {
    sandbox: Mutex<Sandbox>,
    cancel: CancelHandle,
    life: Mutex<Life>,
    /// Handed to host callbacks through their replies.
    call_data: AtomicPtr<c_void>,
    /// Memory usage, readable while a call runs.
    memory: MemoryGauge,
}

/// Who is using the sandbox, and whether a free waits for that use to end.
#[derive(Default)]
struct Life {
    /// The thread inside a call on the sandbox, if any.
    busy: Option<ThreadId>,
    /// `isola_sandbox_free` ran during that call: free when it ends.
    free_requested: bool,
}

impl Castable for isola_sandbox_t {
    type Ownership = OwnedByBox;
}

/// Run `body` with exclusive use of the sandbox behind `ptr`. A second use
/// (from another thread, or re-entering from one of the sandbox's own
/// callbacks) is refused with an error saying which; a free requested
/// meanwhile destroys the sandbox when `body` returns.
pub(crate) fn with_sandbox<T>(
    ptr: *const isola_sandbox_t,
    what: &str,
    body: impl FnOnce(&mut Sandbox) -> Result<T, FfiError>,
) -> Result<T, FfiError> {
    let this = handle(ptr, "sandbox")?;
    {
        let mut life = this.life.lock();
        if life.free_requested {
            return Err(FfiError::invalid_state(format!(
                "{what}: the sandbox was freed while a call was running on it"
            )));
        }
        match life.busy {
            Some(owner) if owner == std::thread::current().id() => {
                return Err(FfiError::invalid_state(format!(
                    "{what} cannot be called from inside a callback of the same sandbox's \
                     running call (re-entrancy is not allowed)"
                )));
            }
            Some(_) => {
                return Err(FfiError::invalid_state(format!(
                    "{what}: the sandbox is already running a call on another thread"
                )));
            }
            None => life.busy = Some(std::thread::current().id()),
        }
    }
    let result = {
        let _call = CallScope::enter(this.call_data.load(Ordering::Acquire));
        let mut sandbox = this.sandbox.lock();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut sandbox))) {
            Ok(result) => result,
            Err(_) => {
                // The store may be half-way through a call: never run it again.
                sandbox.mark_unusable("an internal error interrupted an earlier call");
                Err(FfiError::internal(
                    "isola panicked during the call; the sandbox must be discarded",
                ))
            }
        }
    };
    let free_now = {
        let mut life = this.life.lock();
        life.busy = None;
        life.free_requested
    };
    if free_now {
        isola_sandbox_t::free_raw(ptr.cast_mut());
    }
    result
}

/// Create a sandbox from `template` (about a millisecond with a warm
/// template). `options` may be NULL; its settings override the template's
/// defaults and it may be freed afterwards. On success `*out` receives a
/// sandbox to free with `isola_sandbox_free`. Safe to call from many
/// threads at once on one template.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_new(
    template: *const isola_template_t,
    options: *const isola_sandbox_options_t,
    out: *mut *mut isola_sandbox_t,
) -> *mut isola_error_t {
    guard(|| {
        check_out(out, "out")?;
        let template = handle(template, "template")?;
        let (overrides, host) = if options.is_null() {
            (SandboxOptions::default(), None)
        } else {
            let options = handle(options, "options")?;
            (options.inner.clone(), options.host.clone())
        };
        let host: Arc<dyn Host> = match host.or_else(|| template.default_host.clone()) {
            Some(host) => host,
            None => Arc::new(NoHost),
        };
        let sandbox = block_on(template.inner.instantiate_shared(host, &overrides))??;
        let cancel = sandbox.cancel_handle();
        let memory = sandbox.memory_gauge();
        let raw = isola_sandbox_t {
            memory,
            sandbox: Mutex::new(sandbox),
            cancel,
            life: Mutex::default(),
            call_data: AtomicPtr::new(std::ptr::null_mut()),
        }
        .into_raw();
        write_out(out, raw, "out")
    })
}

/// Free a sandbox and everything it holds. NULL is ignored. When a call is
/// running on it (on another thread, or this is one of the call's own
/// callbacks), that call is cancelled and the sandbox is destroyed when the
/// call returns, on the calling thread; the handle must not be used again
/// either way. Cancel handles stay valid (see `isola_cancel_handle_t`).
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_free(sandbox: *mut isola_sandbox_t) {
    guard_value((), || {
        let Ok(this) = handle(sandbox, "sandbox") else {
            return;
        };
        {
            let mut life = this.life.lock();
            life.free_requested = true;
            if life.busy.is_some() {
                drop(life);
                this.cancel.cancel();
                return;
            }
        }
        isola_sandbox_t::free_raw(sandbox);
    });
}

fn sink_from(sink: *const isola_sink_t) -> Result<Arc<dyn OutputSink>, FfiError> {
    if sink.is_null() {
        return Ok(Arc::new(DiscardSink));
    }
    Ok(Arc::new(CSink::new(super::args::versioned(sink, "sink")?)?))
}

/// Run Python source (NUL-terminated UTF-8) in the sandbox's module
/// namespace; definitions persist for later calls. Top-level `await` is
/// allowed. `sink` may be NULL (output dropped); see `isola_sink_t`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_eval(
    sandbox: *const isola_sandbox_t,
    code: *const c_char,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let code = c_str(code, "code")?;
        let sink = sink_from(sink)?;
        with_sandbox(sandbox, "isola_sandbox_eval", |sb| {
            ensure_can_block("isola_sandbox_eval")?;
            Ok(block_on(sb.eval_script(code, sink))??)
        })
    })
}

/// Run Python source like `isola_sandbox_eval`, named `filename`
/// (NUL-terminated UTF-8, e.g. the host path the source was read from) in
/// tracebacks, `linecache` and `inspect`, as python's
/// `compile(code, filename, "exec")` names it. Sources run by
/// `isola_sandbox_eval` are named `<script-1>`, `<script-2>`, ...
/// `__file__` is not set (the namespace outlives the script). NULL
/// `filename` is `ISOLA_ERROR_INVALID_ARGUMENT`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_eval_named(
    sandbox: *const isola_sandbox_t,
    code: *const c_char,
    filename: *const c_char,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let code = c_str(code, "code")?;
        let filename = c_str(filename, "filename")?;
        let sink = sink_from(sink)?;
        with_sandbox(sandbox, "isola_sandbox_eval_named", |sb| {
            ensure_can_block("isola_sandbox_eval_named")?;
            Ok(block_on(sb.eval_script_named(code, filename, sink))??)
        })
    })
}

/// Run the Python file at `guest_path` (a path inside a mount) like
/// `isola_sandbox_eval`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_eval_file(
    sandbox: *const isola_sandbox_t,
    guest_path: *const c_char,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let path = c_str(guest_path, "guest path")?;
        let sink = sink_from(sink)?;
        with_sandbox(sandbox, "isola_sandbox_eval_file", |sb| {
            ensure_can_block("isola_sandbox_eval_file")?;
            Ok(block_on(sb.eval_file(path, sink))??)
        })
    })
}

/// Call the global function `function` with positional arguments from
/// `args_json` (a JSON array, or NULL for none) and keyword arguments from
/// `kwargs_json` (a JSON object, or NULL). Yielded items and the return
/// value go to `sink` as they are produced.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_call_json(
    sandbox: *const isola_sandbox_t,
    function: *const c_char,
    args_json: *const c_char,
    kwargs_json: *const c_char,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    run_call(sandbox, "isola_sandbox_call_json", function, sink, || {
        let mut call_args = Vec::new();
        if let Some(text) = opt_c_str(args_json, "args")? {
            call_args.extend(positional_from_json(text)?);
        }
        if let Some(text) = opt_c_str(kwargs_json, "kwargs")? {
            call_args.extend(named_from_json(text)?);
        }
        Ok(call_args)
    })
}

/// As `isola_sandbox_call_json` with CBOR: `args` is a CBOR array
/// (`args_len` 0 for none), `kwargs` a CBOR map with text keys
/// (`kwargs_len` 0 for none).
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_call_cbor(
    sandbox: *const isola_sandbox_t,
    function: *const c_char,
    args: *const u8,
    args_len: usize,
    kwargs: *const u8,
    kwargs_len: usize,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    run_call(sandbox, "isola_sandbox_call_cbor", function, sink, || {
        let mut call_args = Vec::new();
        let args = bytes(args, args_len, "args")?;
        if !args.is_empty() {
            call_args.extend(positional_from_cbor(Value::from_cbor(args)?)?);
        }
        let kwargs = bytes(kwargs, kwargs_len, "kwargs")?;
        if !kwargs.is_empty() {
            call_args.extend(named_from_cbor(Value::from_cbor(kwargs)?)?);
        }
        Ok(call_args)
    })
}

/// Call the global function `function` with the arguments in `args`
/// (NULL for none). A call that starts empties `args` (free it
/// afterwards); a call refused before it starts (NULL or invalid
/// arguments, an invalid sink, a busy or unusable sandbox, a call from
/// inside a callback) leaves `args` and its streams untouched, ready for a
/// retry. Stream arguments are read while the call runs; push into them
/// from other threads. Items and the result go to `sink` as they are
/// produced.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_call(
    sandbox: *const isola_sandbox_t,
    function: *const c_char,
    args: *mut super::call_args::isola_args_t,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    // Dropped after the call: ends its streams for any pusher still waiting.
    let mut stream_guards = Vec::new();
    let result = run_call(sandbox, "isola_sandbox_call", function, sink, || {
        if args.is_null() {
            return Ok(Vec::new());
        }
        let args = super::args::handle_mut(args, "args")?;
        stream_guards = std::mem::take(&mut args.stream_guards);
        Ok(std::mem::take(&mut args.items))
    });
    drop(stream_guards);
    result
}

/// The shared body of the call exports: validate, build the arguments,
/// run the call on the sandbox.
/// The arguments are built (and taken from an `isola_args_t`) only once
/// everything that can refuse the call has been checked.
fn run_call(
    sandbox: *const isola_sandbox_t,
    what: &str,
    function: *const c_char,
    sink: *const isola_sink_t,
    build_args: impl FnOnce() -> Result<Vec<Arg>, FfiError>,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?;
        let function = c_str(function, "function")?;
        let sink = sink_from(sink)?;
        with_sandbox(sandbox, what, |sb| {
            ensure_can_block(what)?;
            sb.ensure_usable()?;
            let call_args = build_args()?;
            Ok(block_on(sb.call_with_sink(function, call_args, sink))??)
        })
    })
}

/// What a cancel request did.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum isola_cancel_outcome_t {
    /// A call was running: it stops and returns `ISOLA_ERROR_CANCELLED`;
    /// the sandbox must then be freed.
    ISOLA_CANCEL_REQUESTED = 0,
    /// No call was running: nothing happened, the next call is not affected.
    ISOLA_CANCEL_IDLE = 1,
    /// The sandbox has been freed: nothing happened.
    ISOLA_CANCEL_GONE = 2,
}

impl From<CancelOutcome> for isola_cancel_outcome_t {
    fn from(outcome: CancelOutcome) -> Self {
        match outcome {
            CancelOutcome::Requested => Self::ISOLA_CANCEL_REQUESTED,
            CancelOutcome::Idle => Self::ISOLA_CANCEL_IDLE,
            CancelOutcome::Gone => Self::ISOLA_CANCEL_GONE,
        }
    }
}

/// Stop the call running on `sandbox` now, from any thread, like
/// `isola_cancel_handle_cancel` (a request while no call runs does
/// nothing). `sandbox` must still be alive: a watchdog thread that may race
/// with `isola_sandbox_free` must use an `isola_cancel_handle_t` instead.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_cancel(sandbox: *const isola_sandbox_t) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?.cancel.cancel();
        Ok(())
    })
}

/// Stops the running call of one sandbox from any thread, and stays valid
/// after the sandbox is freed (cancelling then does nothing). Thread-safe;
/// free it with `isola_cancel_handle_free`.
pub struct isola_cancel_handle_t {
    inner: CancelHandle,
}

impl Castable for isola_cancel_handle_t {
    type Ownership = OwnedByBox;
}

/// Make a cancel handle for `sandbox`; `*out` receives it. The handle is
/// independent of the sandbox's lifetime: free it with
/// `isola_cancel_handle_free`, before or after the sandbox.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_cancel_handle(
    sandbox: *const isola_sandbox_t,
    out: *mut *mut isola_cancel_handle_t,
) -> *mut isola_error_t {
    guard(|| {
        check_out(out, "out")?;
        let inner = handle(sandbox, "sandbox")?.cancel.clone();
        write_out(out, isola_cancel_handle_t { inner }.into_raw(), "out")
    })
}

/// Stop the call running now on the handle's sandbox. Callable from any
/// thread, also from inside a callback, at any time: a request made while
/// no call runs, or after the sandbox was freed, does nothing and never
/// affects a later call. `outcome` (may be NULL) receives what happened.
#[unsafe(no_mangle)]
pub extern "C" fn isola_cancel_handle_cancel(
    handle_: *const isola_cancel_handle_t,
    outcome: *mut isola_cancel_outcome_t,
) -> *mut isola_error_t {
    guard(|| {
        let done = handle(handle_, "cancel handle")?.inner.cancel();
        if !outcome.is_null() {
            write_out(outcome, done.into(), "outcome")?;
        }
        Ok(())
    })
}

/// Free a cancel handle. NULL is ignored. Must not race with
/// `isola_cancel_handle_cancel` on the same handle.
#[unsafe(no_mangle)]
pub extern "C" fn isola_cancel_handle_free(handle_: *mut isola_cancel_handle_t) {
    guard_value((), || isola_cancel_handle_t::free_raw(handle_));
}

/// Set the time limit of each following call in milliseconds (0: none),
/// replacing the one from the options.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_set_timeout_ms(
    sandbox: *const isola_sandbox_t,
    milliseconds: u64,
) -> *mut isola_error_t {
    guard(|| {
        with_sandbox(sandbox, "isola_sandbox_set_timeout_ms", |sb| {
            sb.set_timeout(timeout_ms(milliseconds));
            Ok(())
        })
    })
}

/// Attach `call_data` to the sandbox: host callbacks of its calls read it
/// with `isola_reply_call_data` / `isola_http_reply_call_data`, so one host
/// table shared by many sandboxes can tell its tenants apart. The library
/// never dereferences or frees it. Callable at any time from any thread;
/// calls started afterwards see the new value.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_set_call_data(
    sandbox: *const isola_sandbox_t,
    call_data: *mut c_void,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?
            .call_data
            .store(call_data, Ordering::Release);
        Ok(())
    })
}

/// Store in `*out` whether the sandbox can still run calls: false after a
/// timeout, a cancelled call, a trap or an internal error during a call
/// (free it then). Fails with `ISOLA_ERROR_INVALID_STATE` while another
/// thread is inside a call on it.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_is_usable(
    sandbox: *const isola_sandbox_t,
    out: *mut bool,
) -> *mut isola_error_t {
    guard(|| {
        check_out(out, "out")?;
        let usable = with_sandbox(sandbox, "isola_sandbox_is_usable", |sb| Ok(sb.is_usable()))?;
        write_out(out, usable, "out")
    })
}

/// Figures of one eval or call, from `isola_sandbox_last_call_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct isola_call_stats_t {
    /// Wall-clock time of the call, in nanoseconds.
    pub wall_time_ns: u64,
    /// CPU time the calling thread spent in the call, in nanoseconds: guest
    /// code plus host work on that thread (sink and host callbacks).
    pub cpu_time_ns: u64,
    /// Highest linear memory of the sandbox during the call, in bytes.
    pub peak_memory_bytes: u64,
    /// Bytes of values and text the call emitted (what output limits count).
    pub output_bytes: u64,
    /// Host calls and HTTP requests the guest started.
    pub host_calls: u32,
}

/// Store the figures of the sandbox's last eval or call in `*out` (all
/// zero before the first), whatever its outcome. Fails with
/// `ISOLA_ERROR_INVALID_STATE` while another thread is inside a call on it.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_last_call_stats(
    sandbox: *const isola_sandbox_t,
    out: *mut isola_call_stats_t,
) -> *mut isola_error_t {
    guard(|| {
        check_out(out, "out")?;
        let stats = with_sandbox(sandbox, "isola_sandbox_last_call_stats", |sb| {
            Ok(sb.last_call_stats())
        })?;
        let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let stats = isola_call_stats_t {
            wall_time_ns: nanos(stats.wall_time),
            cpu_time_ns: nanos(stats.cpu_time),
            peak_memory_bytes: stats.peak_memory,
            output_bytes: stats.output_bytes,
            host_calls: stats.host_calls,
        };
        write_out(out, stats, "out")
    })
}

/// Store the bytes of linear memory the sandbox holds in `*out`. Never
/// waits: callable from any thread, also while a call runs on the sandbox
/// (for a watchdog or a dashboard) and from inside callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_memory_usage(
    sandbox: *const isola_sandbox_t,
    out: *mut u64,
) -> *mut isola_error_t {
    guard(|| {
        let usage = handle(sandbox, "sandbox")?.memory.bytes();
        write_out(out, usage, "out")
    })
}

pub(crate) fn positional_from_json(text: &str) -> Result<Vec<Arg>, FfiError> {
    let value = Value::from_json_str(text)
        .map_err(|e| FfiError::invalid_argument(format!("args are not valid: {e}")))?;
    positional_from_cbor(value).map_err(|_| FfiError::invalid_argument("args must be a JSON array"))
}

pub(crate) fn named_from_json(text: &str) -> Result<Vec<Arg>, FfiError> {
    let value = Value::from_json_str(text)
        .map_err(|e| FfiError::invalid_argument(format!("kwargs are not valid: {e}")))?;
    named_from_cbor(value).map_err(|_| FfiError::invalid_argument("kwargs must be a JSON object"))
}

fn positional_from_cbor(value: Value) -> Result<Vec<Arg>, FfiError> {
    match value.array_items()? {
        Some(items) => Ok(items.into_iter().map(Arg::Positional).collect()),
        None => Err(FfiError::invalid_argument("args must be a CBOR array")),
    }
}

fn named_from_cbor(value: Value) -> Result<Vec<Arg>, FfiError> {
    let Some(entries) = value.map_entries()? else {
        return Err(FfiError::invalid_argument("kwargs must be a CBOR map"));
    };
    entries
        .into_iter()
        .map(|(key, item)| match key.as_text() {
            Some(name) => Ok(Arg::Named(name, item)),
            None => Err(FfiError::invalid_argument(
                "kwargs keys must be CBOR text strings",
            )),
        })
        .collect()
}
