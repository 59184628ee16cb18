//! Per-sandbox memory limit. Refused growth makes the guest's allocator
//! fail, which CPython reports as `MemoryError`; the store stays usable.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

/// Tracks linear memory of one sandbox and refuses growth past a limit.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: usize,
    current: usize,
    /// Highest `current` since the last [`MemoryLimiter::reset_peak`].
    peak: usize,
    /// `current`, readable from other threads while a call runs.
    gauge: Arc<AtomicU64>,
    denied: bool,
    /// The usage the last refused growth asked for.
    refused_total: usize,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            current: 0,
            peak: 0,
            gauge: Arc::default(),
            denied: false,
            refused_total: 0,
        }
    }

    /// A reader of the current usage that never waits for the store.
    pub(crate) fn gauge(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.gauge)
    }

    /// Start measuring a call's peak from the current usage.
    pub(crate) fn reset_peak(&mut self) {
        self.peak = self.current;
    }

    /// Highest usage since [`MemoryLimiter::reset_peak`].
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// Bytes of linear memory currently allocated.
    pub(crate) fn current(&self) -> usize {
        self.current
    }

    /// The limit, in bytes.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The usage (bytes) the last refused growth would have reached.
    pub(crate) fn refused_total(&self) -> usize {
        self.refused_total
    }

    /// Whether a growth was refused since the last reset.
    pub(crate) fn take_denied(&mut self) -> bool {
        std::mem::take(&mut self.denied)
    }
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow_by = desired.saturating_sub(current);
        let total = self.current.saturating_add(grow_by);
        if total > self.limit || maximum.is_some_and(|m| desired > m) {
            self.denied = true;
            self.refused_total = total;
            return Ok(false);
        }
        self.current = total;
        self.peak = self.peak.max(total);
        self.gauge
            .store(u64::try_from(total).unwrap_or(u64::MAX), Ordering::Relaxed);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|m| desired <= m))
    }
}
