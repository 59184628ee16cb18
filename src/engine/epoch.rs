//! One background thread that advances the engine epoch, the clock behind
//! per-call timeouts.

use std::{sync::OnceLock, thread, time::Duration};

use wasmtime::Engine;

/// Interval between epoch ticks: the granularity of timeouts and
/// cancellation while guest code runs.
pub(crate) const TICK: Duration = Duration::from_millis(5);

static TICKER: OnceLock<()> = OnceLock::new();

/// Start the ticker for `engine` once per process. The thread is detached
/// and only increments an atomic counter.
pub(crate) fn ensure_ticker(engine: &'static Engine) {
    TICKER.get_or_init(|| {
        thread::Builder::new()
            .name("isola-epoch".into())
            .spawn(move || {
                loop {
                    thread::sleep(TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch ticker thread");
    });
}
