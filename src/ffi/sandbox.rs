//! `isola_sandbox_t`: one isolated Python instance.

use std::{ffi::c_char, sync::Arc};

use parking_lot::Mutex;

use super::{
    args::{BoxedHandle, bytes, c_str, check_out, handle, opt_c_str, write_out},
    error::{FfiError, isola_error_t},
    guard, guard_value,
    options::{isola_sandbox_options_t, timeout_ms},
    runtime::block_on,
    sink::{CSink, isola_sink_t},
    template::isola_template_t,
};
use crate::{
    host::{DiscardSink, Host, NoHost, OutputSink},
    sandbox::{Arg, CancelHandle, Sandbox, SandboxOptions},
    value::Value,
};

/// A live sandbox. Calls on one sandbox must not overlap: use it from one
/// thread at a time (a second concurrent call fails with
/// `ISOLA_ERROR_INVALID_STATE`). `isola_sandbox_cancel` is the exception
/// and may be called from any thread while a call runs.
pub struct isola_sandbox_t {
    sandbox: Mutex<Sandbox>,
    cancel: CancelHandle,
}

impl BoxedHandle for isola_sandbox_t {}

impl isola_sandbox_t {
    fn with<T>(
        &self,
        body: impl FnOnce(&mut Sandbox) -> Result<T, FfiError>,
    ) -> Result<T, FfiError> {
        let mut sandbox = self.sandbox.try_lock().ok_or_else(|| {
            FfiError::invalid_state("the sandbox is already running a call on another thread")
        })?;
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
    }
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
        let raw = isola_sandbox_t {
            sandbox: Mutex::new(sandbox),
            cancel,
        }
        .into_raw();
        write_out(out, raw, "out")
    })
}

/// Free a sandbox and everything it holds. NULL is ignored. Must not be
/// called while another thread is inside a call on it.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_free(sandbox: *mut isola_sandbox_t) {
    guard_value((), || isola_sandbox_t::free_raw(sandbox));
}

fn sink_from(sink: *const isola_sink_t) -> Result<Arc<dyn OutputSink>, FfiError> {
    if sink.is_null() {
        return Ok(Arc::new(DiscardSink));
    }
    Ok(Arc::new(CSink::new(*handle(sink, "sink")?)?))
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
        let sandbox = handle(sandbox, "sandbox")?;
        let code = c_str(code, "code")?;
        let sink = sink_from(sink)?;
        sandbox.with(|sb| Ok(block_on(sb.eval_script(code, sink))??))
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
        let sandbox = handle(sandbox, "sandbox")?;
        let path = c_str(guest_path, "guest path")?;
        let sink = sink_from(sink)?;
        sandbox.with(|sb| Ok(block_on(sb.eval_file(path, sink))??))
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
    run_call(sandbox, function, sink, || {
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
    run_call(sandbox, function, sink, || {
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
/// (NULL for none), which the call empties: free `args` afterwards.
/// Stream arguments are read while the call runs; push into them from
/// other threads. Items and the result go to `sink` as they are produced.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_call(
    sandbox: *const isola_sandbox_t,
    function: *const c_char,
    args: *mut super::call_args::isola_args_t,
    sink: *const isola_sink_t,
) -> *mut isola_error_t {
    // Dropped after the call: ends its streams for any pusher still waiting.
    let mut stream_guards = Vec::new();
    let result = run_call(sandbox, function, sink, || {
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
fn run_call(
    sandbox: *const isola_sandbox_t,
    function: *const c_char,
    sink: *const isola_sink_t,
    build_args: impl FnOnce() -> Result<Vec<Arg>, FfiError>,
) -> *mut isola_error_t {
    guard(|| {
        let sandbox = handle(sandbox, "sandbox")?;
        let function = c_str(function, "function")?;
        let call_args = build_args()?;
        let sink = sink_from(sink)?;
        sandbox.with(|sb| Ok(block_on(sb.call_with_sink(function, call_args, sink))??))
    })
}

/// Stop the sandbox's running call from any thread. The call returns
/// `ISOLA_ERROR_CANCELLED` and the sandbox must then be freed. A cancel
/// requested while no call runs stops the next call.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_cancel(sandbox: *const isola_sandbox_t) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?.cancel.cancel();
        Ok(())
    })
}

/// Set the time limit of each following call in milliseconds (0: none),
/// replacing the one from the options.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_set_timeout_ms(
    sandbox: *const isola_sandbox_t,
    milliseconds: u64,
) -> *mut isola_error_t {
    guard(|| {
        handle(sandbox, "sandbox")?.with(|sb| {
            sb.set_timeout(timeout_ms(milliseconds));
            Ok(())
        })
    })
}

/// Store the bytes of linear memory the sandbox holds in `*out`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_sandbox_memory_usage(
    sandbox: *const isola_sandbox_t,
    out: *mut u64,
) -> *mut isola_error_t {
    guard(|| {
        let usage = handle(sandbox, "sandbox")?.with(|sb| Ok(sb.memory_usage()))?;
        write_out(out, u64::try_from(usage).unwrap_or(u64::MAX), "out")
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
