//! The process-wide wasmtime engine and its configuration.

use std::sync::OnceLock;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::EngineError;

/// How many sandboxes may be alive at once in the process (pool slots).
/// Override with `ISOLA_MAX_SANDBOXES`.
const DEFAULT_MAX_SANDBOXES: u32 = 1000;

/// Largest linear memory one sandbox may reach, whatever its own limit says.
const MAX_MEMORY_PER_SANDBOX: usize = 4 << 30;

/// Core instances, memories and tables a single runtime component needs
/// (the CPython component links several core modules).
const CORE_INSTANCES_PER_SANDBOX: u32 = 24;
const MEMORIES_PER_SANDBOX: u32 = 4;
const TABLES_PER_SANDBOX: u32 = 8;

static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();

/// The shared engine. Created on first use; every template and sandbox of
/// the process uses it, so compiled code and the instance pool are shared.
pub(crate) fn engine() -> Result<&'static Engine, EngineError> {
    ENGINE
        .get_or_init(|| build_engine().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|msg| EngineError::Wasm(wasmtime::Error::msg(msg.clone())))
}

fn max_sandboxes() -> u32 {
    std::env::var("ISOLA_MAX_SANDBOXES")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_SANDBOXES)
}

fn build_engine() -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.allocation_strategy(pooling_strategy(max_sandboxes()));
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

fn pooling_strategy(sandboxes: u32) -> InstanceAllocationStrategy {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(sandboxes)
        .total_core_instances(sandboxes * CORE_INSTANCES_PER_SANDBOX)
        .total_memories(sandboxes * MEMORIES_PER_SANDBOX)
        .total_tables(sandboxes * TABLES_PER_SANDBOX)
        .total_stacks(sandboxes)
        .max_core_instances_per_component(CORE_INSTANCES_PER_SANDBOX)
        .max_memories_per_component(MEMORIES_PER_SANDBOX)
        .max_tables_per_component(TABLES_PER_SANDBOX)
        .max_memories_per_module(2)
        .max_tables_per_module(4)
        .table_elements(100_000)
        .max_core_instance_size(4 << 20)
        .max_component_instance_size(4 << 20)
        .max_memory_size(MAX_MEMORY_PER_SANDBOX)
        .max_unused_warm_slots(64);
    InstanceAllocationStrategy::Pooling(pool)
}
