//! `isola_args_t`: positional and keyword arguments for
//! `isola_sandbox_call`, including streamed ones.

use std::ffi::c_char;

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, c_str, handle, handle_mut, opt_c_str},
    error::isola_error_t,
    guard, guard_value,
    stream::isola_stream_t,
};
use crate::{sandbox::Arg, value::Value};

/// An ordered list of call arguments. Positional arguments must come before
/// keyword arguments (as in Python). Use from one thread at a time.
#[derive(Default)]
pub struct isola_args_t {
    pub(crate) items: Vec<Arg>,
    /// End the streams of these arguments once the call is over.
    pub(crate) stream_guards: Vec<super::stream::ConsumerGuard>,
}

impl Castable for isola_args_t {
    type Ownership = OwnedByBox;
}

/// Create an empty argument list; free it with `isola_args_free`. Returns
/// NULL only if allocation fails.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_new() -> *mut isola_args_t {
    guard_value(std::ptr::null_mut(), || isola_args_t::default().into_raw())
}

/// Free an argument list. NULL is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_free(args: *mut isola_args_t) {
    guard_value((), || isola_args_t::free_raw(args));
}

fn push(args: &mut isola_args_t, name: Option<&str>, value: Value) {
    args.items.push(match name {
        Some(name) => Arg::Named(name.to_string(), value),
        None => Arg::Positional(value),
    });
}

/// Append a JSON value (NUL-terminated); `name` NULL for a positional
/// argument, else the keyword.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_add_json(
    args: *mut isola_args_t,
    name: *const c_char,
    json: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let args = handle_mut(args, "args")?;
        let name = opt_c_str(name, "name")?;
        let value = Value::from_json_str(c_str(json, "json")?)?;
        push(args, name, value);
        Ok(())
    })
}

/// Append a CBOR value of `len` bytes; `name` as in `isola_args_add_json`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_add_cbor(
    args: *mut isola_args_t,
    name: *const c_char,
    cbor: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let args = handle_mut(args, "args")?;
        let name = opt_c_str(name, "name")?;
        let value = Value::from_cbor(bytes(cbor, len, "cbor")?)?;
        push(args, name, value);
        Ok(())
    })
}

/// Append a stream as an iterator argument (sync `for` and `async for`
/// both work in the guest). The stream's reading end moves into the
/// argument list: a stream feeds exactly one call. The stream handle stays
/// yours to push into, close and free.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_add_stream(
    args: *mut isola_args_t,
    name: *const c_char,
    stream: *const isola_stream_t,
) -> *mut isola_error_t {
    guard(|| {
        let args = handle_mut(args, "args")?;
        let name = opt_c_str(name, "name")?;
        let (consumer, guard) = handle(stream, "stream")?.take_consumer()?;
        args.stream_guards.push(guard);
        args.items.push(match name {
            Some(name) => Arg::NamedTryStream(name.to_string(), consumer),
            None => Arg::PositionalTryStream(consumer),
        });
        Ok(())
    })
}

/// Append the elements of `array_json` (a JSON array, or NULL) as
/// positional arguments and the members of `object_json` (a JSON object,
/// or NULL) as keyword arguments. Nothing is appended when either is
/// invalid. Useful to validate user-supplied JSON before running anything.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_add_json_lists(
    args: *mut isola_args_t,
    array_json: *const c_char,
    object_json: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let args = handle_mut(args, "args")?;
        let mut parsed = Vec::new();
        if let Some(text) = opt_c_str(array_json, "array_json")? {
            parsed.extend(super::sandbox::positional_from_json(text)?);
        }
        if let Some(text) = opt_c_str(object_json, "object_json")? {
            parsed.extend(super::sandbox::named_from_json(text)?);
        }
        args.items.extend(parsed);
        Ok(())
    })
}
