//! Errors of the sandbox API.

use crate::{
    engine::{
        EngineError,
        instance::{CallError, CreateError, LoadError},
        preinit::PreinitError,
    },
    value::ValueError,
};

/// Result type of the sandbox API.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can go wrong creating or using a sandbox. Each variant
/// is a distinct kind a host can act on (see [`Error::kind`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Guest code raised a Python exception.
    #[error("{message}")]
    UserCode {
        /// Python exception type name, e.g. `ValueError`.
        kind: String,
        /// Formatted traceback and message.
        message: String,
        /// For an uncaught `SystemExit` or `os._exit` (`kind ==
        /// "SystemExit"`): the status python would exit with, else `None`
        /// (see [`Error::exit_status`]).
        exit_status: Option<i32>,
    },
    /// The call ran past its time limit; the sandbox is no longer usable.
    #[error("call timed out after {0:?}; the sandbox must be discarded")]
    Timeout(std::time::Duration),
    /// The call was cancelled; the sandbox is no longer usable.
    #[error("call cancelled; the sandbox must be discarded")]
    Cancelled,
    /// The sandbox hit its memory limit.
    #[error("memory limit exceeded: {0}")]
    MemoryLimit(String),
    /// A value or the call's total output exceeded a limit.
    #[error("output limit exceeded: {0}")]
    OutputLimit(String),
    /// An argument was unusable (bad value, unknown function, bad option).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The sandbox cannot run calls any more (an earlier call trapped or was
    /// interrupted).
    #[error("sandbox unusable: {0}")]
    Unusable(String),
    /// The guest trapped (stack exhaustion, a runtime fault); the sandbox is
    /// no longer usable.
    #[error("guest trapped: {0}")]
    Trap(String),
    /// A process-wide capacity is used up (every sandbox place is taken).
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// Filesystem or OS failure on the host.
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
    /// wasmtime or runtime failure.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A stable, matchable classification of [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// See [`Error::UserCode`].
    GuestException,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Cancelled`].
    Cancelled,
    /// See [`Error::MemoryLimit`].
    MemoryLimit,
    /// See [`Error::OutputLimit`].
    OutputLimit,
    /// See [`Error::InvalidArgument`].
    InvalidArgument,
    /// See [`Error::Unusable`].
    InvalidState,
    /// See [`Error::Trap`].
    Trap,
    /// See [`Error::ResourceExhausted`].
    ResourceExhausted,
    /// See [`Error::Io`].
    Io,
    /// See [`Error::Internal`].
    Internal,
}

impl Error {
    /// The status python would exit with when guest code ended by an
    /// uncaught `SystemExit` (`sys.exit(code)`): an `int` code truncated to
    /// a C `int` (the process would see it `& 0xff`), 1 for any other code
    /// (which the guest printed on its stderr, as python does). `None` for
    /// every other error. A `SystemExit` whose status is 0 (`sys.exit()`,
    /// `sys.exit(0)`) is no error: the script or call succeeds.
    ///
    /// `os._exit(status)` ends the sandbox as it ends a process: the call
    /// fails with kind `SystemExit` and this status, 0 included, and the
    /// sandbox is no longer usable. So does C code in the guest calling
    /// `exit`, whose status WASI keeps only as 0 or 1.
    #[must_use]
    pub fn exit_status(&self) -> Option<i32> {
        match self {
            Self::UserCode { exit_status, .. } => *exit_status,
            _ => None,
        }
    }

    /// The kind of this error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UserCode { .. } => ErrorKind::GuestException,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::Cancelled => ErrorKind::Cancelled,
            Self::MemoryLimit(_) => ErrorKind::MemoryLimit,
            Self::OutputLimit(_) => ErrorKind::OutputLimit,
            Self::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Self::Unusable(_) => ErrorKind::InvalidState,
            Self::Trap(_) => ErrorKind::Trap,
            Self::ResourceExhausted(_) => ErrorKind::ResourceExhausted,
            Self::Io(_) => ErrorKind::Io,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        Self::InvalidArgument(e.to_string())
    }
}

impl From<EngineError> for Error {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Io { context, source } => Self::Io(std::io::Error::new(
                source.kind(),
                format!("{context}: {source}"),
            )),
            EngineError::Wasm(e) => Self::Internal(format!("{e:#}")),
        }
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::InvalidComponent(message) => {
                Self::InvalidArgument(format!("not a valid runtime component: {message}"))
            }
            LoadError::NotRuntime(message) => {
                Self::InvalidArgument(format!("not an isola runtime component: {message}"))
            }
            LoadError::Engine(e) => e.into(),
        }
    }
}

impl From<CreateError> for Error {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::InvalidMount(message) => Self::InvalidArgument(message),
            CreateError::Io(e) => Self::Io(e),
            CreateError::MemoryLimit(message) => Self::MemoryLimit(message),
            CreateError::Exhausted(message) => Self::ResourceExhausted(message),
            CreateError::Internal(message) => Self::Internal(message),
        }
    }
}

impl From<CallError> for Error {
    fn from(e: CallError) -> Self {
        match e {
            CallError::UserCode {
                kind,
                message,
                exit_status,
            } => Self::UserCode {
                kind,
                message,
                exit_status,
            },
            CallError::Timeout(limit) => Self::Timeout(limit),
            CallError::Cancelled => Self::Cancelled,
            CallError::MemoryLimit(message) => Self::MemoryLimit(message),
            CallError::OutputLimit(message) => Self::OutputLimit(message),
            CallError::InvalidArgument(message) => Self::InvalidArgument(message),
            CallError::Trap(message) => Self::Trap(message),
            CallError::Internal(message) => Self::Internal(message),
        }
    }
}

impl From<PreinitError> for Error {
    fn from(e: PreinitError) -> Self {
        match e {
            PreinitError::Load(e) => e.into(),
            PreinitError::Create(e) => e.into(),
            // The prelude's own error, as a sandbox creation would report it.
            PreinitError::Prelude(e) => e.into(),
            PreinitError::Refused(message) => Self::InvalidArgument(message),
            PreinitError::Snapshot(message) => {
                Self::Internal(format!("snapshotting the prelude: {message}"))
            }
        }
    }
}
