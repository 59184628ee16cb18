//! The tokio runtime that drives blocking C calls.

use std::{future::Future, sync::OnceLock};

use super::error::FfiError;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Run `future` to completion on the calling thread. Guest code and sink
/// callbacks run on this thread; timers and blocking I/O use the shared
/// runtime's worker.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, FfiError> {
    let runtime = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("isola-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| FfiError::internal(format!("starting the isola runtime: {e}")))?;
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(FfiError::invalid_state(
            "isola C functions block; they cannot be called from inside a tokio runtime thread",
        ));
    }
    Ok(runtime.block_on(future))
}
