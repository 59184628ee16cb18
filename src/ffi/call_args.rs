//! `isola_args_t`: positional and keyword arguments for
//! `isola_sandbox_call`, including streamed ones.

use std::{collections::HashSet, ffi::c_char};

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, c_str, handle, handle_mut, opt_c_str},
    error::{FfiError, isola_error_t},
    guard, guard_value,
    stream::isola_stream_t,
};
use crate::{sandbox::Arg, value::Value};

/// An ordered list of call arguments. Positional arguments must come before
/// keyword arguments, and a keyword may appear once (as in Python): adding
/// a positional argument after a keyword one, or a keyword again, fails
/// with `ISOLA_ERROR_INVALID_ARGUMENT` and appends nothing. Use from one
/// thread at a time.
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

/// The keyword of an argument, `None` for a positional one.
fn keyword(arg: &Arg) -> Option<&str> {
    match arg {
        Arg::Named(name, _) | Arg::NamedStream(name, _) | Arg::NamedTryStream(name, _) => {
            Some(name)
        }
        Arg::Positional(_) | Arg::PositionalStream(_) | Arg::PositionalTryStream(_) => None,
    }
}

/// Refuse, before anything is appended, arguments `names` (`None` for a
/// positional one) that Python would refuse after the list's `items`: a
/// positional argument after a keyword one, or a keyword given twice. The
/// list is checked when it is built, not when the call runs, so a refused
/// argument leaves the list as it was, ready for the call.
fn check_order<'a>(
    items: &[Arg],
    names: impl IntoIterator<Item = Option<&'a str>>,
) -> Result<(), FfiError> {
    let mut seen: HashSet<&str> = items.iter().filter_map(keyword).collect();
    for (position, name) in (items.len()..).zip(names) {
        match name {
            None if !seen.is_empty() => {
                return Err(FfiError::invalid_argument(format!(
                    "positional argument {position} follows keyword arguments \
                     (add positional arguments first, as in a Python call)"
                )));
            }
            // `insert` is false for a keyword already seen.
            Some(name) if !seen.insert(name) => {
                return Err(FfiError::invalid_argument(format!(
                    "keyword argument '{name}' given more than once"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

fn push(args: &mut isola_args_t, name: Option<&str>, value: Value) -> Result<(), FfiError> {
    check_order(&args.items, [name])?;
    args.items.push(match name {
        Some(name) => Arg::Named(name.to_string(), value),
        None => Arg::Positional(value),
    });
    Ok(())
}

/// Append a JSON value (NUL-terminated); `name` NULL for a positional
/// argument, else the keyword. `ISOLA_ERROR_INVALID_ARGUMENT`, nothing
/// appended, for invalid JSON, a positional argument after a keyword one
/// or a keyword already in the list.
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
        push(args, name, value)
    })
}

/// Append a CBOR value of `len` bytes; `name` and the order rules as in
/// `isola_args_add_json`.
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
        push(args, name, value)
    })
}

/// Append a stream as an iterator argument (sync `for` and `async for`
/// both work in the guest). The stream's reading end moves into the
/// argument list: a stream feeds exactly one call. The stream handle stays
/// yours to push into, close and free. The order rules of
/// `isola_args_add_json` apply; a refused stream stays unattached.
#[unsafe(no_mangle)]
pub extern "C" fn isola_args_add_stream(
    args: *mut isola_args_t,
    name: *const c_char,
    stream: *const isola_stream_t,
) -> *mut isola_error_t {
    guard(|| {
        let args = handle_mut(args, "args")?;
        let name = opt_c_str(name, "name")?;
        let stream = handle(stream, "stream")?;
        check_order(&args.items, [name])?;
        let (consumer, guard) = stream.take_consumer()?;
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
/// invalid or breaks the order rules of `isola_args_add_json` (positional
/// ones after keyword ones already in the list). Useful to validate
/// user-supplied JSON before running anything.
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
        check_order(&args.items, parsed.iter().map(keyword))?;
        args.items.extend(parsed);
        Ok(())
    })
}
