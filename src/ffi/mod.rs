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
pub mod error;
pub mod host;
pub mod options;
pub mod sandbox;
pub mod sink;
pub mod stream;
pub mod template;
pub mod version;

mod args;
mod runtime;

use std::panic::{AssertUnwindSafe, catch_unwind};

use error::{FfiError, isola_error_t};

/// Run an export body; turn `Err` and panics into an owned error object.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), FfiError>) -> *mut isola_error_t {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => std::ptr::null_mut(),
        Ok(Err(e)) => e.into_raw(),
        Err(panic) => {
            FfiError::internal(format!("isola panicked: {}", panic_message(&panic))).into_raw()
        }
    }
}

/// Run an infallible export body; a panic yields `fallback`.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".into()
    }
}
