//! The Rust API: templates, sandboxes, options, arguments and output.
//!
//! Typical flow: build a [`SandboxTemplate`] once per process with
//! [`SandboxTemplate::builder`], create a [`Sandbox`] per isolated user or
//! task with [`SandboxTemplate::instantiate`], then evaluate code and call
//! guest functions with [`Arg`] inputs.

#[cfg(feature = "embedded-runtime")]
mod embedded;
mod error;
mod files;
mod instance;
mod named;
mod options;
mod output;
mod template;

use std::pin::Pin;

use futures::Stream;

pub use crate::engine::instance::CallStats;
pub use crate::engine::state::CancelOutcome;
pub use error::{Error, ErrorKind, Result};
pub use files::{DirEntry, FileKind, FileUsage};
pub use instance::{CancelHandle, MemoryGauge, Sandbox};
pub use named::{RUNTIME_DIR_ENV, find_named_runtime, named_runtime_file};
pub use options::{
    DEFAULT_MAX_OPEN_FILES, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_SCRATCH_BYTES,
    DEFAULT_MAX_SCRATCH_FILES, DEFAULT_MAX_VALUE_BYTES, DirectoryMapping, FsPerms, GUEST_HOME,
    MAX_HOST_RESOURCES, MAX_PENDING_HOST_CALLS, MountMode, SandboxOptions,
};
pub use output::CallOutput;
pub use template::{SandboxTemplate, SandboxTemplateBuilder};

use crate::value::Value;

pub use crate::engine::config::EngineSettings;

/// Set the process-wide engine settings (pool size, memory ceiling). Call
/// it before the first template is built; a later call fails because the
/// engine and its pool already exist. A second call before then replaces
/// the first.
///
/// # Errors
/// [`Error::InvalidArgument`] when a setting is out of range or the engine
/// already runs.
pub fn configure_engine(settings: EngineSettings) -> Result<()> {
    crate::engine::config::configure(settings).map_err(Error::InvalidArgument)
}

/// The engine settings in force (or that the engine will start with).
#[must_use]
pub fn engine_settings() -> EngineSettings {
    crate::engine::config::current_settings()
}

/// Whether the engine already runs (a template was built): from then on
/// [`configure_engine`] fails.
#[must_use]
pub fn engine_is_running() -> bool {
    crate::engine::config::is_running()
}

/// Sandboxes alive in the process now; at most
/// [`EngineSettings::max_sandboxes`], beyond which creating one fails with
/// [`Error::ResourceExhausted`].
#[must_use]
pub fn live_sandboxes() -> u32 {
    crate::engine::config::live_sandboxes()
}

/// The directory compiled runtimes are cached in when a builder does not
/// say otherwise: `$ISOLA_CACHE_DIR`, else `$XDG_CACHE_HOME/isola`, else
/// `$HOME/.cache/isola`; `None` when none of these is set.
#[must_use]
pub fn default_cache_dir() -> Option<std::path::PathBuf> {
    crate::engine::cache::default_dir()
}

/// A stream of values fed to the guest as an iterator argument.
pub type ValueStream = Pin<Box<dyn Stream<Item = Value> + Send + 'static>>;

/// A stream of values that may fail: an `Err` ends the guest's iteration
/// with `sandbox.StreamError` carrying the message.
pub type TryValueStream = Pin<Box<dyn Stream<Item = Result<Value, String>> + Send + 'static>>;

/// One argument of [`Sandbox::call`].
pub enum Arg {
    /// A positional value.
    Positional(Value),
    /// A keyword value.
    Named(String, Value),
    /// A positional iterator pulling values from the host lazily.
    PositionalStream(ValueStream),
    /// A keyword iterator pulling values from the host lazily.
    NamedStream(String, ValueStream),
    /// A positional iterator whose producer may fail.
    PositionalTryStream(TryValueStream),
    /// A keyword iterator whose producer may fail.
    NamedTryStream(String, TryValueStream),
}

impl std::fmt::Debug for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Positional(v) => f.debug_tuple("Positional").field(v).finish(),
            Self::Named(n, v) => f.debug_tuple("Named").field(n).field(v).finish(),
            Self::PositionalStream(_) => f.write_str("PositionalStream(..)"),
            Self::PositionalTryStream(_) => f.write_str("PositionalTryStream(..)"),
            Self::NamedTryStream(n, _) => f
                .debug_tuple("NamedTryStream")
                .field(n)
                .finish_non_exhaustive(),
            Self::NamedStream(n, _) => f
                .debug_tuple("NamedStream")
                .field(n)
                .finish_non_exhaustive(),
        }
    }
}
