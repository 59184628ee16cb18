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

use parking_lot::Mutex;

use super::limits::MemoryLimiter;
use super::relay::Relay;
use super::stdio::GuestStdio;
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

/// What the running call has emitted so far, against its [`OutputLimits`].
/// Shared by the host imports and the guest's stdout/stderr descriptors
/// (see `engine::stdio`), so every path to the sink draws on one budget.
#[derive(Debug)]
pub(crate) struct OutputBudget {
    limits: OutputLimits,
    used: Mutex<BudgetUse>,
}

#[derive(Debug, Default)]
struct BudgetUse {
    bytes: usize,
    /// Why output was refused, once it was: the call then fails with it.
    exceeded: Option<String>,
}

impl OutputBudget {
    /// A fresh budget with `limits`.
    pub(crate) fn new(limits: OutputLimits) -> Self {
        Self {
            limits,
            used: Mutex::new(BudgetUse::default()),
        }
    }

    /// The limits this budget enforces.
    pub(crate) fn limits(&self) -> OutputLimits {
        self.limits
    }

    /// Start the budget of a new call.
    pub(crate) fn reset(&self) {
        *self.used.lock() = BudgetUse::default();
    }

    /// Account for `bytes` of output; `Err` names the limit that was hit.
    /// Once a limit is hit, all further output of the call is refused.
    pub(crate) fn charge(&self, bytes: usize, is_value: bool) -> Result<(), String> {
        let mut used = self.used.lock();
        if let Some(message) = &used.exceeded {
            return Err(message.clone());
        }
        let refusal = if is_value && bytes > self.limits.max_value_bytes {
            format!(
                "value of {bytes} bytes exceeds the limit of {} bytes per value",
                self.limits.max_value_bytes
            )
        } else if used.bytes.saturating_add(bytes) > self.limits.max_total_bytes {
            format!(
                "call output exceeds the limit of {} bytes",
                self.limits.max_total_bytes
            )
        } else {
            used.bytes += bytes;
            return Ok(());
        };
        used.exceeded = Some(refusal.clone());
        Err(refusal)
    }

    /// Bytes of output the running (or last) call has emitted.
    pub(crate) fn used(&self) -> usize {
        self.used.lock().bytes
    }

    /// The refusal message, if this call hit a limit.
    pub(crate) fn exceeded(&self) -> Option<String> {
        self.used.lock().exceeded.clone()
    }
}

/// The data of one sandbox's store.
pub struct InstanceState {
    pub(crate) wasi: WasiCtx,
    /// The guest's file system (in place of wasmtime-wasi's preopens).
    pub(crate) vfs: super::vfs::Vfs,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) host: Arc<dyn Host>,
    pub(crate) output: Arc<OutputBudget>,
    pub(crate) cancel: Arc<CancelFlag>,
    pub(crate) call: CallState,
    /// Host call and HTTP futures the guest still holds.
    pub(crate) pending_host_calls: usize,
    /// Most futures in `pending_host_calls`; beyond it requests fail at once.
    pub(crate) max_pending_host_calls: usize,
    /// Sink callbacks and host-call starts waiting for the call driver.
    pub(crate) relay: Arc<Relay>,
    /// The guest's descriptors 1 and 2, feeding `relay`.
    pub(crate) stdio: GuestStdio,
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
        if let Some(violation) = &self.call.violation {
            return Err(format!("the call already failed: {violation}"));
        }
        self.output.charge(bytes, is_value).inspect_err(|_| {
            self.call.interruption = Some(Interruption::OutputLimit);
        })
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
