//! Values the guest or a caller controls never exhaust a host thread's
//! stack: every host-side walk of a value is iterative, and the guest codec
//! and the host agree on one depth limit ([`isola::value::MAX_DEPTH`]).
//!
//! Every call here runs through the C ABI on a thread with a 64 KiB stack
//! (set `ISOLA_TEST_STACK_KIB` to try another size), the smallest stack a C
//! host is likely to call from.

use std::{
    ffi::{CStr, CString, c_char, c_void},
    ptr,
    sync::Mutex,
};

use isola::{
    ffi::{
        error::{isola_error_code, isola_error_code_t, isola_error_free, isola_error_message},
        host::{isola_host_t, isola_reply_ok_json, isola_reply_t, isola_sandbox_options_set_host},
        options::{isola_sandbox_options_free, isola_sandbox_options_new},
        sandbox::{
            isola_sandbox_call_cbor, isola_sandbox_call_json, isola_sandbox_eval,
            isola_sandbox_free, isola_sandbox_new, isola_sandbox_t,
        },
        sink::{ISOLA_FORMAT_CBOR, ISOLA_FORMAT_JSON, isola_sink_t},
        template::{isola_template_free, isola_template_new, isola_template_t},
    },
    value::MAX_DEPTH,
};

const GUEST: &str = "\
def nest(n):
    v = 1
    for _ in range(n):
        v = [v]
    return v

def echo(*args, **kwargs):
    return [args, kwargs]

def forge(n):
    # Bypass the runtime's encoder and send a hostile value directly.
    from isola_guest import hostapi
    hostapi.emit(True, b'\\x81' * n + b'\\x01')

async def ask(n):
    import sandbox
    from isola_guest import hostapi, loop
    forged = await loop.answer(hostapi.hostcall('deep', b'\\x81' * n + b'\\x01'))
    try:
        replied = await sandbox.hostcall('deep', None)
    except sandbox.HostError as e:
        replied = str(e)
    return [getattr(forged, 'value', None), replied]
";

/// Everything a sink received.
#[derive(Default)]
struct Seen {
    results: Vec<Vec<u8>>,
}

extern "C" fn on_result(user_data: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: user_data is the `Mutex<Seen>` the test passes in the sink; the
    // buffer is valid for `len` bytes during the callback.
    let (seen, bytes) = unsafe {
        (
            &*(user_data as *const Mutex<Seen>),
            std::slice::from_raw_parts(data, len),
        )
    };
    seen.lock().unwrap().results.push(bytes.to_vec());
}

/// Host call: answer with a JSON value nested `ISOLA_TEST_REPLY_DEPTH` deep.
extern "C" fn on_hostcall(
    _user_data: *mut c_void,
    _name: *const c_char,
    _name_len: usize,
    _payload: *const u8,
    _payload_len: usize,
    reply: *mut isola_reply_t,
) {
    let deep = CString::new("[".repeat(100_000) + &"]".repeat(100_000)).unwrap();
    let err = isola_reply_ok_json(reply, deep.as_ptr());
    // The reply is refused; the host call then fails in the guest.
    if !err.is_null() {
        isola_error_free(err);
    }
}

struct Fixture {
    template: *mut isola_template_t,
    sandbox: *mut isola_sandbox_t,
}

fn check(err: *mut isola::ffi::error::isola_error_t) -> Result<(), (isola_error_code_t, String)> {
    if err.is_null() {
        return Ok(());
    }
    let code = isola_error_code(err);
    // SAFETY: the message is a NUL-terminated string owned by `err`.
    let message = unsafe { CStr::from_ptr(isola_error_message(err)) }
        .to_string_lossy()
        .into_owned();
    isola_error_free(err);
    Err((code, message))
}

impl Fixture {
    fn new() -> Self {
        let mut template = ptr::null_mut();
        check(isola_template_new(ptr::null(), &mut template)).unwrap();
        let options = isola_sandbox_options_new();
        let host = isola_host_t {
            struct_size: std::mem::size_of::<isola_host_t>(),
            user_data: ptr::null_mut(),
            user_data_free: None,
            format: ISOLA_FORMAT_JSON,
            on_hostcall: Some(on_hostcall),
            on_http_request: None,
        };
        check(isola_sandbox_options_set_host(options, &host)).unwrap();
        let mut sandbox = ptr::null_mut();
        check(isola_sandbox_new(template, options, &mut sandbox)).unwrap();
        isola_sandbox_options_free(options);
        let code = CString::new(GUEST).unwrap();
        check(isola_sandbox_eval(sandbox, code.as_ptr(), ptr::null())).unwrap();
        Self { template, sandbox }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        isola_sandbox_free(self.sandbox);
        isola_template_free(self.template);
    }
}

/// A call's outcome: the sink's results and the error, if any.
type Outcome = (Vec<Vec<u8>>, Result<(), (isola_error_code_t, String)>);

/// A sink recording results into `seen`.
fn result_sink(seen: &Mutex<Seen>, format: u32) -> isola_sink_t {
    isola_sink_t {
        struct_size: std::mem::size_of::<isola_sink_t>(),
        user_data: (&raw const *seen).cast_mut().cast(),
        format,
        on_item: None,
        on_result: Some(on_result),
        on_stdout: None,
        on_stderr: None,
        on_log: None,
    }
}

fn call_json(sb: *mut isola_sandbox_t, function: &str, args: &str, format: u32) -> Outcome {
    let seen = Mutex::new(Seen::default());
    let sink = result_sink(&seen, format);
    let function = CString::new(function).unwrap();
    let args = CString::new(args).unwrap();
    let result = check(isola_sandbox_call_json(
        sb,
        function.as_ptr(),
        args.as_ptr(),
        ptr::null(),
        &sink,
    ));
    (seen.into_inner().unwrap().results, result)
}

fn call_cbor(sb: *mut isola_sandbox_t, function: &str, args: &[u8], kwargs: &[u8]) -> Outcome {
    let seen = Mutex::new(Seen::default());
    let sink = result_sink(&seen, ISOLA_FORMAT_CBOR);
    let function = CString::new(function).unwrap();
    let result = check(isola_sandbox_call_cbor(
        sb,
        function.as_ptr(),
        args.as_ptr(),
        args.len(),
        if kwargs.is_empty() {
            ptr::null()
        } else {
            kwargs.as_ptr()
        },
        kwargs.len(),
        &sink,
    ));
    (seen.into_inner().unwrap().results, result)
}

fn nested_json(depth: usize) -> String {
    "[".repeat(depth) + "1" + &"]".repeat(depth)
}

fn nested_cbor(depth: usize) -> Vec<u8> {
    let mut bytes = vec![0x81; depth];
    bytes.push(0x01);
    bytes
}

/// Run `body` on a thread with a small stack.
fn on_small_stack(body: impl FnOnce() + Send + 'static) {
    let kib: usize = std::env::var("ISOLA_TEST_STACK_KIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    std::thread::Builder::new()
        .stack_size(kib * 1024)
        .spawn(body)
        .unwrap()
        .join()
        .unwrap();
}

fn expect_error(outcome: Outcome, code: isola_error_code_t, fragment: &str) {
    let (results, result) = outcome;
    let (got, message) = result.expect_err("the call should fail");
    assert_eq!(got, code, "{message}");
    assert!(message.contains(fragment), "{message}");
    assert!(results.is_empty(), "a failed call delivered a result");
}

#[test]
fn deep_values_are_safe_on_a_64_kib_thread() {
    let fixture = Fixture::new();
    let sb = fixture.sandbox as usize;
    on_small_stack(move || {
        let sb = sb as *mut isola_sandbox_t;
        // Results: the deepest allowed value arrives whole, in both formats.
        let (results, ok) = call_json(sb, "nest", &format!("[{MAX_DEPTH}]"), ISOLA_FORMAT_JSON);
        ok.unwrap();
        assert_eq!(results, [nested_json(MAX_DEPTH).into_bytes()]);
        let (results, ok) = call_json(sb, "nest", &format!("[{MAX_DEPTH}]"), ISOLA_FORMAT_CBOR);
        ok.unwrap();
        assert_eq!(results, [nested_cbor(MAX_DEPTH)]);
        // One level more is a clear guest error, never `null` with OK.
        for format in [ISOLA_FORMAT_JSON, ISOLA_FORMAT_CBOR] {
            let depth = MAX_DEPTH + 1;
            expect_error(
                call_json(sb, "nest", &format!("[{depth}]"), format),
                isola_error_code_t::ISOLA_ERROR_GUEST_EXCEPTION,
                "nested deeper than 100",
            );
        }

        // JSON arguments: the deepest allowed value round-trips.
        let args = format!("[{}]", nested_json(MAX_DEPTH - 2));
        let (results, ok) = call_json(sb, "echo", &args, ISOLA_FORMAT_JSON);
        ok.unwrap();
        let expected = format!("[[{}],{{}}]", nested_json(MAX_DEPTH - 2));
        assert_eq!(results, [expected.into_bytes()]);
        for depth in [MAX_DEPTH + 1, 100_000] {
            expect_error(
                call_json(sb, "echo", &nested_json(depth), ISOLA_FORMAT_JSON),
                isola_error_code_t::ISOLA_ERROR_INVALID_ARGUMENT,
                "nested deeper than 100",
            );
        }

        // CBOR arguments and keyword arguments (the result wraps the
        // argument in two more levels).
        let mut args = vec![0x81];
        args.extend(nested_cbor(MAX_DEPTH - 2));
        let (results, ok) = call_cbor(sb, "echo", &args, &[]);
        ok.unwrap();
        let mut expected = vec![0x82, 0x81];
        expected.extend(nested_cbor(MAX_DEPTH - 2));
        expected.push(0xa0);
        assert_eq!(results, [expected]);
        for depth in [MAX_DEPTH + 1, 100_000] {
            let mut args = vec![0x81];
            args.extend(nested_cbor(depth));
            expect_error(
                call_cbor(sb, "echo", &args, &[]),
                isola_error_code_t::ISOLA_ERROR_INVALID_ARGUMENT,
                "nested deeper than 100",
            );
            let mut kwargs = vec![0xa1, 0x61, b'k'];
            kwargs.extend(nested_cbor(depth));
            expect_error(
                call_cbor(sb, "echo", &[0x80], &kwargs),
                isola_error_code_t::ISOLA_ERROR_INVALID_ARGUMENT,
                "nested deeper than 100",
            );
        }

        // Host calls: a deep payload from the guest and a deep reply from
        // the host are both refused with an error the guest sees.
        let (results, ok) = call_json(sb, "ask", "[100000]", ISOLA_FORMAT_JSON);
        ok.unwrap();
        let answers: Vec<String> = serde_json::from_slice(&results[0]).unwrap();
        for answer in answers {
            assert!(answer.contains("nested deeper than 100"), "{answer}");
        }

        // The sandbox carries on.
        let (results, ok) = call_json(sb, "nest", "[2]", ISOLA_FORMAT_JSON);
        ok.unwrap();
        assert_eq!(results, [b"[[1]]".to_vec()]);
    });
}

#[test]
fn forged_deep_results_are_refused_on_a_64_kib_thread() {
    // A guest bypassing its encoder is refused by the host (and, having
    // broken the protocol, gets no further call: one sandbox per depth).
    for depth in [MAX_DEPTH + 1, 100_000] {
        let fixture = Fixture::new();
        let sb = fixture.sandbox as usize;
        on_small_stack(move || {
            let sb = sb as *mut isola_sandbox_t;
            expect_error(
                call_json(sb, "forge", &format!("[{depth}]"), ISOLA_FORMAT_JSON),
                isola_error_code_t::ISOLA_ERROR_GUEST_EXCEPTION,
                "nested deeper than 100",
            );
            let (_, after) = call_json(sb, "nest", "[1]", ISOLA_FORMAT_JSON);
            assert_eq!(
                after.unwrap_err().0,
                isola_error_code_t::ISOLA_ERROR_INVALID_STATE
            );
        });
    }
}

#[test]
fn guest_codec_uses_the_host_depth_limit() {
    let source = include_str!("../runtime/python/src/isola_guest/cbor.py");
    assert!(
        source.contains(&format!("\nMAX_DEPTH = {MAX_DEPTH}\n")),
        "cbor.py must use MAX_DEPTH = {MAX_DEPTH}"
    );
    assert!(
        source.contains(&format!(
            "\nMAX_BIGNUM_BYTES = {}\n",
            isola::value::MAX_BIGNUM_BYTES
        )),
        "cbor.py must use the host's MAX_BIGNUM_BYTES"
    );
}
