//! Per-sandbox memory limit. Refused growth makes the guest's allocator
//! fail, which CPython reports as `MemoryError`; the store stays usable.

/// Tracks linear memory of one sandbox and refuses growth past a limit.
#[derive(Debug)]
pub(crate) struct MemoryLimiter {
    limit: usize,
    current: usize,
    denied: bool,
}

impl MemoryLimiter {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            current: 0,
            denied: false,
        }
    }

    /// Bytes of linear memory currently allocated.
    pub(crate) fn current(&self) -> usize {
        self.current
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
            return Ok(false);
        }
        self.current = total;
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
