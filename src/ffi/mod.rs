//! The C ABI (`include/isola.h`, generated from this module by cbindgen).
//!
//! Conventions (see docs/c-api.md): opaque handles with `_new` / `_free`
//! (free accepts NULL); fallible functions return an owned
//! `isola_error_t *` (NULL on success) that the caller frees; every export
//! runs inside [`guard`], so a panic becomes an `ISOLA_ERROR_INTERNAL`
//! error instead of unwinding into C; every pointer and string is checked.
//!
//! This module holds no sandbox logic: each export converts its arguments
//! and calls the Rust API in [`crate::sandbox`].

#![allow(non_camel_case_types)]

pub mod call_args;
pub mod engine;
pub mod error;
mod feed;
pub mod files;
pub mod host;
pub mod http_body;
pub mod options;
pub mod sandbox;
pub mod sink;
pub mod stream;
pub mod template;
pub mod version;

mod args;
mod runtime;

use std::{
    cell::{Cell, RefCell},
    panic::{AssertUnwindSafe, catch_unwind},
    sync::Once,
};

use error::{FfiError, isola_error_t};

/// Run an export body; turn `Err` and panics into an owned error object.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), FfiError>) -> *mut isola_error_t {
    match quietly(body) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => e.into_raw(),
        Err(message) => FfiError::internal(format!("isola panicked: {message}")).into_raw(),
    }
}

/// Run an infallible export body; a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    quietly(body).unwrap_or(fallback)
}

thread_local! {
    /// How many guards are active on this thread.
    static GUARDS: Cell<usize> = const { Cell::new(0) };
    /// Where the last panic inside a guard happened.
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Set `ISOLA_PANIC_STDERR=1` to let panics inside isola reach the process's
/// panic hook (by default a message on stderr) as well as the error object.
const PANIC_STDERR_ENV: &str = "ISOLA_PANIC_STDERR";

/// Catch a panic of `body` and return its message (with its location).
/// While a guard runs, isola's panic hook keeps the panic off the host's
/// stderr; panics elsewhere in the process go to the previous hook.
fn quietly<T>(body: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        let loud = std::env::var_os(PANIC_STDERR_ENV).is_some_and(|v| v != "0");
        std::panic::set_hook(Box::new(move |info| {
            if GUARDS.with(Cell::get) > 0 && !loud {
                let location = info.location().map(ToString::to_string);
                PANIC_LOCATION.with(|slot| *slot.borrow_mut() = location);
            } else {
                previous(info);
            }
        }));
    });
    GUARDS.with(|g| g.set(g.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(body));
    GUARDS.with(|g| g.set(g.get() - 1));
    outcome.map_err(|panic| {
        let message = panic_message(panic.as_ref());
        match PANIC_LOCATION.with(|slot| slot.borrow_mut().take()) {
            Some(location) => format!("{message} (at {location})"),
            None => message,
        }
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_keep_their_message_and_location() {
        let err = quietly(|| panic!("boom {}", 42)).unwrap_err();
        assert!(err.starts_with("boom 42 (at src/ffi/mod.rs:"), "{err}");
        let err = quietly(|| std::panic::panic_any("static text")).unwrap_err();
        assert!(err.starts_with("static text"), "{err}");
        assert_eq!(quietly(|| 7).unwrap(), 7);
    }
}
