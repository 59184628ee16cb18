//! The WebAssembly engine layer: wasmtime configuration, component bindings,
//! per-sandbox store state and the host side of the WIT contract.

pub(crate) mod bindings;
pub(crate) mod cache;
pub(crate) mod config;
pub(crate) mod epoch;
pub(crate) mod host_impl;
pub(crate) mod instance;
pub(crate) mod limits;
pub(crate) mod prefault;
pub(crate) mod preinit;
pub(crate) mod prelude_inputs;
pub(crate) mod relay;
pub(crate) mod state;
pub(crate) mod stdio;
pub(crate) mod streams;
pub(crate) mod vfs;

/// Failures of the engine layer.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// wasmtime refused the configuration, the component or an instantiation.
    #[error("{0:#}")]
    Wasm(#[from] wasmtime::Error),
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}
