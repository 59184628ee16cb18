//! The tokio runtime that drives blocking C calls.

use std::{cell::Cell, future::Future, sync::OnceLock};

use super::error::FfiError;

static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();

thread_local! {
    /// Set while this thread is inside a blocking isola call (and so inside
    /// any callback that call makes).
    static IN_CALL: Cell<bool> = const { Cell::new(false) };
}

/// `Ok` when the calling thread may block in an isola call: it is neither
/// inside a callback of another isola call nor a tokio runtime thread.
/// Checked before a call takes anything from its arguments.
pub(crate) fn ensure_can_block(what: &str) -> Result<(), FfiError> {
    if IN_CALL.get() {
        return Err(FfiError::invalid_state(format!(
            "{what} cannot be called from inside an isola callback (sink, host call or HTTP \
             callback): that thread is running a sandbox call; reply, cancel, stream \
             close/try-push and error accessors are allowed there, blocking calls are not"
        )));
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(FfiError::invalid_state(format!(
            "{what} blocks; it cannot be called from inside a tokio runtime thread"
        )));
    }
    Ok(())
}

/// Clears [`IN_CALL`] when the blocking call ends, also on a panic.
struct CallMark;

impl Drop for CallMark {
    fn drop(&mut self) {
        IN_CALL.set(false);
    }
}

/// Run `future` to completion on the calling thread. Guest code and sink
/// callbacks run on this thread; timers and blocking I/O use the shared
/// runtime's worker.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, FfiError> {
    ensure_can_block("this isola function")?;
    let runtime = shared_runtime()?;
    IN_CALL.set(true);
    let _mark = CallMark;
    Ok(runtime.block_on(future))
}

/// Run `future` as [`block_on`] does; when `needs_runtime` is false, without
/// the shared runtime. That is for work that needs neither its timers nor
/// its I/O driver: a template build that runs no guest code (no prelude
/// snapshot) only makes blocking file-system calls. The runtime (a worker
/// thread, an I/O driver) then starts with the first sandbox instead of
/// with the first template, so loading a template does not pay for it.
pub(crate) fn block_on_with_runtime_if<F: Future>(
    needs_runtime: bool,
    future: F,
) -> Result<F::Output, FfiError> {
    if needs_runtime {
        return block_on(future);
    }
    ensure_can_block("this isola function")?;
    IN_CALL.set(true);
    let _mark = CallMark;
    Ok(futures::executor::block_on(future))
}

/// The shared runtime, started on first use.
fn shared_runtime() -> Result<&'static tokio::runtime::Runtime, FfiError> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("isola-io")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| FfiError::internal(format!("starting the isola runtime: {e}")))
}
