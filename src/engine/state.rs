//! Everything a sandbox's wasmtime `Store` holds: WASI context, resource
//! table, memory limiter, the host, and the state of the running call.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::MemoryLimiter;
use super::relay::Relay;
use crate::host::Host;

/// Output caps of one call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputLimits {
    /// Largest single emitted value (CBOR bytes).
    pub(crate) max_value_bytes: usize,
    /// Largest total of values and text emitted by one call.
    pub(crate) max_total_bytes: usize,
}

/// Which limit ended a call, recorded by the host side as it happens so the
/// error reported to the user names the real cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    Timeout,
    Cancelled,
    OutputLimit,
}

/// What a cancel request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// A call was running; it stops with a cancellation error.
    Requested,
    /// No call was running: nothing happened, and the next call is not
    /// affected.
    Idle,
    /// The sandbox no longer exists: nothing happened.
    Gone,
}

/// Where the sandbox's calls are, as seen by cancel requests.
#[derive(Debug, Default)]
struct CallPhase {
    /// Number of the running call (calls are numbered from 1), 0 when idle.
    running: u64,
    /// Calls started so far.
    started: u64,
    /// The sandbox was dropped.
    retired: bool,
}

/// Stops the running call of one sandbox from any thread. A request
/// applies only to the call running when it is made (calls are numbered):
/// one made while idle, or after that call ended, does nothing.
#[derive(Debug, Default)]
pub struct CancelFlag {
    phase: parking_lot::Mutex<CallPhase>,
    /// Set (under `phase`) for the running call only; read lock-free by the
    /// epoch callback.
    requested: AtomicBool,
    notify: tokio::sync::Notify,
}

impl CancelFlag {
    /// Ask the running call to stop; say what happened.
    pub fn cancel(&self) -> CancelOutcome {
        let phase = self.phase.lock();
        if phase.retired {
            return CancelOutcome::Gone;
        }
        if phase.running == 0 {
            return CancelOutcome::Idle;
        }
        self.requested.store(true, Ordering::SeqCst);
        drop(phase);
        self.notify.notify_waiters();
        CancelOutcome::Requested
    }

    /// Mark a call as running; returns its number.
    pub fn begin_call(&self) -> u64 {
        let mut phase = self.phase.lock();
        phase.started += 1;
        phase.running = phase.started;
        self.requested.store(false, Ordering::SeqCst);
        phase.running
    }

    /// Mark the running call as ended: later requests are no-ops.
    pub fn end_call(&self) {
        let mut phase = self.phase.lock();
        phase.running = 0;
        self.requested.store(false, Ordering::SeqCst);
    }

    /// The sandbox is gone: every later request reports [`CancelOutcome::Gone`].
    pub fn retire(&self) {
        let mut phase = self.phase.lock();
        phase.retired = true;
        phase.running = 0;
        self.requested.store(false, Ordering::SeqCst);
    }

    /// Whether the running call was asked to stop.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Resolve when the running call is asked to stop.
    pub async fn requested(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_requested() {
                return;
            }
            notified.await;
        }
    }
}

/// State of the call currently running in the store.
#[derive(Default)]
pub(crate) struct CallState {
    pub(crate) emitted_bytes: usize,
    /// Host calls and HTTP requests the guest started.
    pub(crate) host_calls: u32,
    pub(crate) deadline: Option<Instant>,
    pub(crate) interruption: Option<Interruption>,
    /// The call's result was emitted; nothing may follow it.
    pub(crate) result_emitted: bool,
    /// The first way the guest broke the host protocol (a malformed or
    /// second result, an item after the result); the call fails with it
    /// whatever the guest reports afterwards.
    pub(crate) violation: Option<String>,
}

/// The data of one sandbox's store.
pub struct InstanceState {
    pub(crate) wasi: WasiCtx,
    /// The guest's file system (in place of wasmtime-wasi's preopens).
    pub(crate) vfs: super::vfs::Vfs,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) host: Arc<dyn Host>,
    pub(crate) output_limits: OutputLimits,
    pub(crate) cancel: Arc<CancelFlag>,
    pub(crate) call: CallState,
    /// Host call and HTTP futures the guest still holds.
    pub(crate) pending_host_calls: usize,
    /// Most futures in `pending_host_calls`; beyond it requests fail at once.
    pub(crate) max_pending_host_calls: usize,
    /// Sink callbacks and host-call starts waiting for the call driver.
    pub(crate) relay: Arc<Relay>,
}

impl InstanceState {
    /// Record a protocol violation (the first one wins) and return the text
    /// the guest receives.
    pub(crate) fn violation(&mut self, message: String) -> String {
        self.call.violation.get_or_insert(message).clone()
    }

    /// Count a new host call or HTTP future (every one the guest holds,
    /// answered or not); `Err` (the guest's error text) when the sandbox
    /// already holds too many, and the host must not be asked.
    pub(crate) fn start_host_call(&mut self) -> Result<(), String> {
        let over = self.pending_host_calls >= self.max_pending_host_calls;
        self.pending_host_calls += 1;
        if over {
            return Err(format!(
                "too many host calls and HTTP requests in flight (the limit is {} per sandbox)",
                self.max_pending_host_calls
            ));
        }
        Ok(())
    }

    /// Account for `bytes` of output; `Err` names the limit that was hit.
    /// Once a limit was hit or the protocol broken, all further output of
    /// the call is refused.
    pub(crate) fn charge_output(&mut self, bytes: usize, is_value: bool) -> Result<(), String> {
        if self.call.interruption == Some(Interruption::OutputLimit) {
            return Err("the call already exceeded its output limit".into());
        }
        if let Some(violation) = &self.call.violation {
            return Err(format!("the call already failed: {violation}"));
        }
        if is_value && bytes > self.output_limits.max_value_bytes {
            self.call.interruption = Some(Interruption::OutputLimit);
            return Err(format!(
                "value of {bytes} bytes exceeds the limit of {} bytes per value",
                self.output_limits.max_value_bytes
            ));
        }
        let total = self.call.emitted_bytes.saturating_add(bytes);
        if total > self.output_limits.max_total_bytes {
            self.call.interruption = Some(Interruption::OutputLimit);
            return Err(format!(
                "call output exceeds the limit of {} bytes",
                self.output_limits.max_total_bytes
            ));
        }
        self.call.emitted_bytes = total;
        Ok(())
    }
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
