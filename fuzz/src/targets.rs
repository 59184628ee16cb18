//! Bodies of the fuzz targets, shared by `cargo fuzz` (`fuzz/fuzz_targets`)
//! and the stable regression test (`tests/fuzz_regressions.rs`). Each takes
//! arbitrary bytes and panics only on a real bug.

use std::{
    ffi::{CString, c_char, c_void},
    ptr,
    sync::Mutex,
};

use isola::{
    Value, ValueError,
    ffi::{
        call_args::{
            isola_args_add_cbor, isola_args_add_json, isola_args_add_json_lists, isola_args_free,
            isola_args_new,
        },
        error::{isola_error_code, isola_error_code_t, isola_error_free, isola_error_t},
        host::{isola_host_t, isola_reply_ok_cbor, isola_reply_t, isola_sandbox_options_set_host},
        options::{isola_sandbox_options_free, isola_sandbox_options_new},
        sandbox::{
            isola_sandbox_call_cbor, isola_sandbox_call_json, isola_sandbox_eval,
            isola_sandbox_free, isola_sandbox_new, isola_sandbox_set_timeout_ms, isola_sandbox_t,
        },
        sink::{ISOLA_FORMAT_CBOR, ISOLA_FORMAT_JSON, isola_sink_t},
        stream::{
            isola_stream_close, isola_stream_free, isola_stream_new, isola_stream_push_cbor,
            isola_stream_push_json,
        },
        template::{isola_template_new, isola_template_t},
    },
};

/// JSON from a value must parse again, and converting twice is stable.
fn check_json_roundtrip(value: &Value) {
    let json = match value.to_json_string() {
        Ok(json) => json,
        // Non-text keys inside non-text keys: refused before the escaping
        // grows the text past a multiple of the value's size.
        Err(ValueError::NotJson(m)) if m.contains("nest so deeply") => return,
        Err(e) => panic!("a valid value has no JSON form: {e}"),
    };
    serde_json::from_str::<serde_json::Value>(&json).expect("isola's JSON is valid JSON");
    match Value::from_json_str(&json) {
        Ok(again) => {
            let json2 = again.to_json_string().expect("JSON form of parsed JSON");
            let json3 = Value::from_json_str(&json2)
                .expect("JSON isola wrote parses")
                .to_json_string()
                .expect("JSON form");
            assert_eq!(json2, json3, "JSON conversion is not stable");
        }
        // Byte strings become arrays, which may add one level.
        Err(ValueError::TooDeep) => {}
        Err(e) => panic!("isola's own JSON {json:?} is refused: {e}"),
    }
}

/// CBOR bytes → value: validation, JSON conversion, splitting, ciborium.
pub fn cbor_value(data: &[u8]) {
    let Ok(value) = Value::from_cbor(data.to_vec()) else {
        return;
    };
    check_json_roundtrip(&value);
    for item in value.array_items().expect("valid").unwrap_or_default() {
        Value::from_cbor(item.into_cbor()).expect("an element of a valid array is valid");
    }
    for (key, item) in value.map_entries().expect("valid").unwrap_or_default() {
        Value::from_cbor(key.into_cbor()).expect("a key of a valid map is valid");
        Value::from_cbor(item.into_cbor()).expect("a value of a valid map is valid");
    }
    let _ = value.to_cbor_value();
}

/// JSON text → value, compared with serde_json.
pub fn json_value(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = Value::from_json_str(text);
    let theirs = serde_json::from_str::<serde_json::Value>(text);
    match (&ours, &theirs) {
        (Ok(value), Ok(_)) => check_json_roundtrip(value),
        (Ok(_), Err(e)) => panic!("isola accepts JSON serde_json refuses ({e}): {text:?}"),
        (Err(ValueError::TooDeep), Ok(_)) | (Err(_), Err(_)) => {}
        (Err(ValueError::InvalidJson(m)), Ok(_)) if m.contains("integer") => {}
        (Err(e), Ok(_)) => panic!("isola refuses JSON serde_json accepts ({e}): {text:?}"),
    }
}

/// The bytes up to the first NUL, as a C string.
fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before `end`")
}

/// Free `err`, returning its code (`None` for success).
fn code(err: *mut isola_error_t) -> Option<isola_error_code_t> {
    if err.is_null() {
        return None;
    }
    let code = isola_error_code(err);
    isola_error_free(err);
    Some(code)
}

/// C entry points that take a buffer and need no sandbox: argument lists
/// and streams. The first byte picks the entry point.
pub fn c_buffers(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let text = c_string(rest);
    let text_ok = std::str::from_utf8(text.as_bytes())
        .ok()
        .is_some_and(|t| Value::from_json_str(t).is_ok());
    let args = isola_args_new();
    let failed = match op % 7 {
        0 => code(isola_args_add_cbor(
            args,
            ptr::null(),
            rest.as_ptr(),
            rest.len(),
        )),
        1 => code(isola_args_add_cbor(
            args,
            c"k".as_ptr(),
            rest.as_ptr(),
            rest.len(),
        )),
        2 => {
            let failed = code(isola_args_add_json(args, ptr::null(), text.as_ptr()));
            assert_eq!(failed.is_none(), text_ok, "{text:?}");
            failed
        }
        3 => code(isola_args_add_json_lists(args, text.as_ptr(), ptr::null())),
        4 => code(isola_args_add_json_lists(args, ptr::null(), text.as_ptr())),
        5 => {
            let mut stream = ptr::null_mut();
            let capacity = rest
                .get(..8)
                .map_or(1, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            let created = code(isola_stream_new(capacity as usize, &mut stream));
            assert_eq!(
                created.is_none(),
                (1..=usize::MAX / 8).contains(&(capacity as usize)),
                "capacity {capacity}"
            );
            if created.is_none() {
                code(isola_stream_close(stream));
                isola_stream_free(stream);
            }
            created
        }
        _ => {
            let mut stream = ptr::null_mut();
            assert!(code(isola_stream_new(4, &mut stream)).is_none());
            let cbor = code(isola_stream_push_cbor(stream, rest.as_ptr(), rest.len()));
            assert_eq!(cbor.is_none(), Value::from_cbor(rest.to_vec()).is_ok());
            let json = code(isola_stream_push_json(stream, text.as_ptr()));
            assert_eq!(json.is_none(), text_ok, "{text:?}");
            isola_stream_free(stream);
            json
        }
    };
    if let Some(code) = failed {
        assert!(
            matches!(
                code,
                isola_error_code_t::ISOLA_ERROR_INVALID_ARGUMENT
                    | isola_error_code_t::ISOLA_ERROR_INVALID_STATE
            ),
            "unexpected error code {code:?}"
        );
    }
    isola_args_free(args);
}

const GUEST: &str = "\
from isola_guest import hostapi
import sandbox

def echo(*args, **kwargs):
    return [args, kwargs]

def forge(data):
    hostapi.emit(False, data)

async def ask():
    try:
        return await sandbox.hostcall('reply', None)
    except sandbox.HostError as e:
        return str(e)
";

/// What the host replies to the guest's host call (raw CBOR bytes).
static REPLY: Mutex<Vec<u8>> = Mutex::new(Vec::new());

extern "C" fn on_hostcall(
    _user_data: *mut c_void,
    _name: *const c_char,
    _name_len: usize,
    _payload: *const u8,
    _payload_len: usize,
    reply: *mut isola_reply_t,
) {
    let bytes = REPLY.lock().unwrap().clone();
    let ok = code(isola_reply_ok_cbor(reply, bytes.as_ptr(), bytes.len())).is_none();
    assert_eq!(ok, Value::from_cbor(bytes).is_ok());
}

extern "C" fn on_json(_user_data: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: the sink hands `len` valid bytes for the callback's duration.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    serde_json::from_slice::<serde_json::Value>(bytes).expect("a JSON sink gets valid JSON");
}

extern "C" fn on_cbor(_user_data: *mut c_void, data: *const u8, len: usize) {
    // SAFETY: as in `on_json`.
    let bytes = unsafe { std::slice::from_raw_parts(data, len) };
    Value::from_cbor(bytes.to_vec()).expect("a CBOR sink gets valid CBOR");
}

fn sink(format: u32) -> isola_sink_t {
    let on_value = if format == ISOLA_FORMAT_JSON {
        on_json
    } else {
        on_cbor
    };
    isola_sink_t {
        struct_size: std::mem::size_of::<isola_sink_t>(),
        user_data: ptr::null_mut(),
        format,
        on_item: Some(on_value),
        on_result: Some(on_value),
        on_stdout: None,
        on_stderr: None,
        on_log: None,
    }
}

/// The template and the current sandbox, as addresses (created once).
static SANDBOX: Mutex<Option<(usize, usize)>> = Mutex::new(None);

fn new_sandbox(template: *mut isola_template_t) -> *mut isola_sandbox_t {
    let options = isola_sandbox_options_new();
    let host = isola_host_t {
        struct_size: std::mem::size_of::<isola_host_t>(),
        user_data: ptr::null_mut(),
        user_data_free: None,
        format: ISOLA_FORMAT_CBOR,
        on_hostcall: Some(on_hostcall),
        on_http_request: None,
    };
    assert!(code(isola_sandbox_options_set_host(options, &host)).is_none());
    let mut sandbox = ptr::null_mut();
    assert!(code(isola_sandbox_new(template, options, &mut sandbox)).is_none());
    isola_sandbox_options_free(options);
    assert!(code(isola_sandbox_set_timeout_ms(sandbox, 10_000)).is_none());
    let guest = CString::new(GUEST).unwrap();
    assert!(code(isola_sandbox_eval(sandbox, guest.as_ptr(), ptr::null())).is_none());
    sandbox
}

/// Values crossing a live sandbox through the C API in both directions:
/// CBOR and JSON arguments, raw guest→host events (a guest emitting
/// arbitrary bytes), and raw host replies. The first byte picks the path.
pub fn sandbox_events(data: &[u8]) {
    let Some((&op, rest)) = data.split_first() else {
        return;
    };
    let mut slot = SANDBOX.lock().unwrap();
    let (template, sandbox) = *slot.get_or_insert_with(|| {
        let mut template = ptr::null_mut();
        assert!(code(isola_template_new(ptr::null(), &mut template)).is_none());
        (template as usize, new_sandbox(template) as usize)
    });
    let sb = sandbox as *mut isola_sandbox_t;
    let failed = match op % 4 {
        0 => {
            let sink = sink(ISOLA_FORMAT_JSON);
            let err = isola_sandbox_call_cbor(
                sb,
                c"echo".as_ptr(),
                rest.as_ptr(),
                rest.len(),
                ptr::null(),
                0,
                &sink,
            );
            code(err)
        }
        1 => {
            let text = c_string(rest);
            let sink = sink(ISOLA_FORMAT_CBOR);
            code(isola_sandbox_call_json(
                sb,
                c"echo".as_ptr(),
                text.as_ptr(),
                ptr::null(),
                &sink,
            ))
        }
        2 => {
            // [bytes(rest)]: the guest emits `rest` as a value, unchecked.
            let mut args = vec![0x81];
            let mut head = Vec::new();
            isola_cbor_head(&mut head, 2, rest.len() as u64);
            args.extend(head);
            args.extend_from_slice(rest);
            let sink = sink(ISOLA_FORMAT_JSON);
            code(isola_sandbox_call_cbor(
                sb,
                c"forge".as_ptr(),
                args.as_ptr(),
                args.len(),
                ptr::null(),
                0,
                &sink,
            ))
        }
        _ => {
            *REPLY.lock().unwrap() = rest.to_vec();
            let sink = sink(ISOLA_FORMAT_JSON);
            code(isola_sandbox_call_json(
                sb,
                c"ask".as_ptr(),
                c"[]".as_ptr(),
                ptr::null(),
                &sink,
            ))
        }
    };
    if let Some(code) = failed {
        assert!(
            !matches!(code, isola_error_code_t::ISOLA_ERROR_INTERNAL),
            "INTERNAL error for op {op}"
        );
        // A sandbox that may have stopped trusting its guest is replaced.
        if self::code(isola_sandbox_eval(sb, c"1".as_ptr(), ptr::null())).is_some() {
            isola_sandbox_free(sb);
            *slot = Some((
                template,
                new_sandbox(template as *mut isola_template_t) as usize,
            ));
        }
    }
}

/// A CBOR head (major type and argument) in its shortest form.
fn isola_cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let mt = major << 5;
    match n {
        0..=23 => out.push(mt | n as u8),
        24..=0xff => out.extend_from_slice(&[mt | 24, n as u8]),
        0x100..=0xffff => {
            out.push(mt | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(mt | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}
