//! The process-wide wasmtime engine and its configuration.

use std::sync::{Mutex, OnceLock};

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::EngineError;

/// Sandboxes that may be alive at once unless the host says otherwise
/// ([`EngineSettings::max_sandboxes`], `ISOLA_MAX_SANDBOXES`). Each slot
/// costs engine start-up time (about 2 µs) and two memory mappings (its
/// stack and guard page) whether used or not, so the default stays modest;
/// 10,000 slots take about 22 ms more to set up and 20,000 of the kernel's
/// default 65,530 mappings, which leaves room for 10,000 live sandboxes
/// (about 4 mappings each).
pub(crate) const DEFAULT_MAX_SANDBOXES: u32 = 1_000;

/// Largest linear memory of one sandbox unless the host says otherwise:
/// 4 GiB, all a 32-bit guest can address.
pub(crate) const DEFAULT_MAX_MEMORY_PER_SANDBOX: u64 = 4 << 30;

/// Core instances, memories and tables one runtime component may use. The
/// CPython runtime links several core modules into one instance graph but
/// defines a single linear memory. Each native extension module is a core
/// instance of its own: the scientific runtime (numpy) has 37; the limit
/// leaves room for more extensions (pandas has ~45).
/// It is a count, not a reservation: instance state is allocated on use.
const CORE_INSTANCES_PER_SANDBOX: u32 = 128;
const MEMORIES_PER_SANDBOX: u32 = 4;
const TABLES_PER_SANDBOX: u32 = 8;

/// Pool slots per sandbox: memories and tables are pooled process-wide, so a
/// runtime that uses one memory and few tables (the CPython runtime) lets
/// every sandbox slot be used; each memory slot reserves 4 GiB plus guard
/// pages of address space (not memory).
const MEMORY_SLOTS_PER_SANDBOX: u32 = 1;
const TABLE_SLOTS_PER_SANDBOX: u32 = 4;

/// Dirty pages of a freed sandbox's memory kept resident (reset by copying,
/// found with the kernel's `PAGEMAP_SCAN` where available) so the next
/// sandbox in that slot does not fault them in again; the rest is returned
/// to the kernel.
const KEEP_RESIDENT_BYTES: usize = 8 << 20;

/// Bytes of a freed sandbox's tables kept resident (zeroed in place, only
/// the pages actually written when `PAGEMAP_SCAN` is available) instead of
/// returned to the kernel: covers the whole table slot (`table_elements` of
/// 8 bytes), so the next sandbox in the slot takes no page faults filling
/// its function table (13 per sandbox before).
const TABLE_KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Native stack the guest's compiled code may use (wasmtime's default: 512
/// KiB). CPython raises `RecursionError` when its own C stack, in linear
/// memory (1 MiB in this build), runs low; the compiled interpreter uses
/// far more native stack than linear-memory stack per C-level call (up to
/// about 30 times: comparing nested lists takes 350 native bytes and 16
/// linear-memory bytes a level), so a native stack smaller than the worst
/// ratio traps the sandbox where Python would raise. Measured worst paths
/// need, to reach CPython's check: `json.loads` of nested arrays 30 MiB,
/// `==` of nested or self-referential lists 23 MiB, of dicts and `repr` 14
/// MiB; 48 MiB leaves a margin of 1.6 (with 8 MiB all of these trapped).
/// Deallocating a structure nested deeper than about 100,000 levels still
/// traps: CPython's trashcan watches the linear-memory stack, which
/// deallocation barely uses (the guest caps `sys.setrecursionlimit` at
/// 150,000 so that a traceback of the deepest recursion still frees). The
/// stack is reserved per pool slot (address space, `MAP_NORESERVE`); what a
/// sandbox used beyond
/// [`STACK_KEEP_RESIDENT_BYTES`] is returned when it is freed.
const MAX_WASM_STACK: usize = 48 << 20;

/// Stack of the fiber a guest call runs on: the guest's wasm stack plus
/// room for the host functions it calls (wasmtime's default is 2 MiB
/// against a 512 KiB wasm stack).
const ASYNC_STACK_SIZE: usize = MAX_WASM_STACK + (1 << 20);

/// Bytes at the top of a freed sandbox's fiber stack kept resident (zeroed
/// in place, with `memset`, on every free) for the next sandbox of that
/// slot; the rest of the stack is returned to the kernel. A sandbox that
/// is created, defines a function and calls it touches 12 KiB of its stack
/// (measured: resident pages of the slot's stack with zeroing off), so the
/// common path takes no page faults; a guest that recursed deeply no longer
/// leaves up to 49 MiB resident in its slot after it is freed (with 1,000
/// slots, up to 49 GiB of host memory outside every sandbox's limit).
/// Zeroing 256 KiB cost about 0.045 ms per freed sandbox on the 2-core
/// development VM; 64 KiB about 0.01 ms.
const STACK_KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// Freed slots kept warm (their memory image still mapped) for reuse.
const MAX_UNUSED_WARM_SLOTS: u32 = 32;

/// Slot decommits (`madvise`) gathered into one batch: fewer system calls
/// and fewer cross-CPU TLB shootdowns when sandboxes are freed quickly.
const DECOMMIT_BATCH: usize = 16;

/// Process-wide settings of the engine, fixed when the first template is
/// built (see [`configure`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineSettings {
    /// Most sandboxes alive at once in the process (pool slots). Creating
    /// one more fails with a resource error. Each slot reserves about 4 GiB
    /// of address space (not memory), a 49 MiB stack and two memory
    /// mappings, used or not: 10,000 slots take about 22 ms more to set up
    /// and 20,000 of the kernel's default 65,530 mappings, which leaves
    /// room for 10,000 live sandboxes (about 4 mappings each). Default
    /// 1000, or `ISOLA_MAX_SANDBOXES` when set.
    pub max_sandboxes: u32,
    /// Hard ceiling on one sandbox's linear memory, in bytes, whatever its
    /// own limit says (at most 4 GiB, the default). Address space is
    /// reserved for 4 GiB per slot either way, so compiled code stays the
    /// same and needs no bounds checks.
    pub max_memory_per_sandbox: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let max_sandboxes = std::env::var("ISOLA_MAX_SANDBOXES")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_MAX_SANDBOXES);
        Self {
            max_sandboxes,
            max_memory_per_sandbox: DEFAULT_MAX_MEMORY_PER_SANDBOX,
        }
    }
}

impl EngineSettings {
    fn validate(&self) -> Result<(), String> {
        if self.max_sandboxes == 0 {
            return Err("max_sandboxes must be at least 1".into());
        }
        if self.max_memory_per_sandbox < 64 << 10
            || self.max_memory_per_sandbox > DEFAULT_MAX_MEMORY_PER_SANDBOX
        {
            return Err(format!(
                "max_memory_per_sandbox must be between 64 KiB and 4 GiB, not {} bytes",
                self.max_memory_per_sandbox
            ));
        }
        Ok(())
    }
}

/// Settings chosen by the host before the engine exists.
static SETTINGS: Mutex<Option<EngineSettings>> = Mutex::new(None);

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// Set the engine's settings. Call it before the first template is built;
/// afterwards the engine exists and this fails. Calling it again before
/// then replaces the earlier settings.
///
/// # Errors
/// A message when the settings are out of range or the engine already runs.
pub(crate) fn configure(settings: EngineSettings) -> Result<(), String> {
    settings.validate()?;
    let mut chosen = SETTINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if ENGINE.get().is_some() {
        return Err(
            "the engine is already running: configure it before the first template is built".into(),
        );
    }
    *chosen = Some(settings);
    Ok(())
}

/// Whether the engine (and its pool) exists: settings are fixed from then on.
pub(crate) fn is_running() -> bool {
    ENGINE.get().is_some()
}

/// The settings the engine runs with, or will start with.
pub(crate) fn current_settings() -> EngineSettings {
    SETTINGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .unwrap_or_default()
}

/// Sandboxes alive in the process.
static LIVE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The number of sandboxes alive in the process.
pub(crate) fn live_sandboxes() -> u32 {
    LIVE.load(std::sync::atomic::Ordering::SeqCst)
}

/// One of the `max_sandboxes` places; released when dropped.
#[derive(Debug)]
pub(crate) struct SandboxSlot(());

impl SandboxSlot {
    /// Take a place, or `Err(max)` when all `max` are taken.
    pub(crate) fn reserve() -> Result<Self, u32> {
        let max = current_settings().max_sandboxes;
        LIVE.fetch_update(
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
            |live| (live < max).then_some(live + 1),
        )
        .map(|_| Self(()))
        .map_err(|_| max)
    }
}

impl Drop for SandboxSlot {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The shared engine. Created on first use; every template and sandbox of
/// the process uses it, so compiled code and the instance pool are shared.
pub(crate) fn engine() -> Result<&'static Engine, EngineError> {
    ENGINE
        .get_or_init(|| {
            // Holding the lock while building orders this against `configure`.
            let chosen = SETTINGS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            build_engine(chosen.unwrap_or_default()).map_err(|e| format!("{e:#}"))
        })
        .as_ref()
        .map_err(|msg| EngineError::Wasm(wasmtime::Error::msg(msg.clone())))
}

fn build_engine(settings: EngineSettings) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.max_wasm_stack(MAX_WASM_STACK);
    config.async_stack_size(ASYNC_STACK_SIZE);
    // Needed for `async_stack_keep_resident`: a freed stack is zeroed up to
    // that size and decommitted beyond it (see STACK_KEEP_RESIDENT_BYTES).
    config.async_stack_zeroing(true);
    config.allocation_strategy(pooling_strategy(&settings));
    match Engine::new(&config) {
        Ok(engine) => Ok(engine),
        // The pool reserves address space for every slot up front; where that
        // is refused (ulimit -v, valgrind, small address spaces) allocate per
        // sandbox instead: slower creation, same behaviour.
        Err(pool_error) => {
            config.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&config)
                .map_err(|e| e.context(format!("pooling allocator also failed: {pool_error:#}")))
        }
    }
}

fn pooling_strategy(settings: &EngineSettings) -> InstanceAllocationStrategy {
    let sandboxes = settings.max_sandboxes;
    let max_memory = usize::try_from(settings.max_memory_per_sandbox).unwrap_or(usize::MAX);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(sandboxes)
        .total_core_instances(sandboxes.saturating_mul(CORE_INSTANCES_PER_SANDBOX))
        .total_memories(sandboxes.saturating_mul(MEMORY_SLOTS_PER_SANDBOX))
        .total_tables(sandboxes.saturating_mul(TABLE_SLOTS_PER_SANDBOX))
        .total_stacks(sandboxes)
        .max_core_instances_per_component(CORE_INSTANCES_PER_SANDBOX)
        .max_memories_per_component(MEMORIES_PER_SANDBOX)
        .max_tables_per_component(TABLES_PER_SANDBOX)
        .max_memories_per_module(2)
        .max_tables_per_module(4)
        .table_elements(100_000)
        .max_core_instance_size(4 << 20)
        .max_component_instance_size(4 << 20)
        .max_memory_size(max_memory)
        .max_unused_warm_slots(MAX_UNUSED_WARM_SLOTS)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES)
        .async_stack_keep_resident(STACK_KEEP_RESIDENT_BYTES)
        .pagemap_scan(Enabled::Auto)
        .decommit_batch_size(DECOMMIT_BATCH);
    InstanceAllocationStrategy::Pooling(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_settings_are_refused() {
        let ok = EngineSettings {
            max_sandboxes: 1,
            max_memory_per_sandbox: 64 << 10,
        };
        assert!(ok.validate().is_ok());
        let none = EngineSettings {
            max_sandboxes: 0,
            ..ok
        };
        assert!(none.validate().unwrap_err().contains("max_sandboxes"));
        let huge = EngineSettings {
            max_memory_per_sandbox: 8 << 30,
            ..ok
        };
        assert!(huge.validate().unwrap_err().contains("4 GiB"));
    }
}
