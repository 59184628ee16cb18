//! isola: run untrusted Python inside a WebAssembly sandbox, in process.
//!
//! The Rust API lives in [`sandbox`]; the C ABI (`include/isola.h`) is
//! built on top of it in the `ffi` module.

#![warn(missing_docs)]

pub(crate) mod engine;
pub mod ffi;
pub mod host;
pub mod sandbox;
pub mod value;

pub use host::{
    BoxError, DiscardSink, Host, HttpRequest, HttpResponse, LogLevel, NoHost, OutputSink,
};
pub use sandbox::{
    Arg, CallOutput, CallStats, CancelHandle, CancelOutcome, EngineSettings, Error, ErrorKind,
    FsPerms, MountMode, Sandbox, SandboxOptions, SandboxTemplate, SandboxTemplateBuilder,
    configure_engine,
};
pub use value::{Value, ValueError};
