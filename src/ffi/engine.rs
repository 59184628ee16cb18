//! Process-wide capacity: how many sandboxes may live at once and how much
//! memory one may reach, set before the first template, and what is in use.

use super::{
    args::write_out,
    error::{FfiError, isola_error_t},
    guard,
};
use crate::sandbox::{
    EngineSettings, configure_engine, engine_is_running, engine_settings, live_sandboxes,
};

/// Set the process-wide capacity before the first template is built:
/// `max_sandboxes` live at once (pool slots; 0 keeps the default, 1000 or
/// `$ISOLA_MAX_SANDBOXES`) and the hard ceiling of one sandbox's memory,
/// `max_memory_per_sandbox` bytes (64 KiB to 4 GiB; 0 keeps the default,
/// 4 GiB), whatever its own limit says. Creating a sandbox beyond
/// `max_sandboxes` fails with `ISOLA_ERROR_RESOURCE_EXHAUSTED`. Fails with
/// `ISOLA_ERROR_INVALID_STATE` once a template exists (the pool is built
/// then) and `ISOLA_ERROR_INVALID_ARGUMENT` for an out-of-range value.
/// Calling it again before the first template replaces the settings.
#[unsafe(no_mangle)]
pub extern "C" fn isola_configure_engine(
    max_sandboxes: u32,
    max_memory_per_sandbox: u64,
) -> *mut isola_error_t {
    guard(|| {
        if engine_is_running() {
            return Err(FfiError::invalid_state(
                "the engine is already running: call isola_configure_engine before the first \
                 isola_template_new",
            ));
        }
        let defaults = EngineSettings::default();
        let settings = EngineSettings {
            max_sandboxes: if max_sandboxes == 0 {
                defaults.max_sandboxes
            } else {
                max_sandboxes
            },
            max_memory_per_sandbox: if max_memory_per_sandbox == 0 {
                defaults.max_memory_per_sandbox
            } else {
                max_memory_per_sandbox
            },
        };
        configure_engine(settings).map_err(|e| FfiError::invalid_argument(e.to_string()))
    })
}

/// What the process may hold and holds now, from `isola_capacity`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct isola_capacity_t {
    /// Sandboxes alive now (created and not yet freed).
    pub live_sandboxes: u32,
    /// Most sandboxes alive at once.
    pub max_sandboxes: u32,
    /// Hard ceiling of one sandbox's linear memory, in bytes.
    pub max_memory_per_sandbox: u64,
}

/// Fill `*out` with the process's sandbox capacity and use. Cheap,
/// lock-free for the live count, callable from any thread at any time
/// (also from callbacks).
#[unsafe(no_mangle)]
pub extern "C" fn isola_capacity(out: *mut isola_capacity_t) -> *mut isola_error_t {
    guard(|| {
        let settings = engine_settings();
        let capacity = isola_capacity_t {
            live_sandboxes: live_sandboxes(),
            max_sandboxes: settings.max_sandboxes,
            max_memory_per_sandbox: settings.max_memory_per_sandbox,
        };
        write_out(out, capacity, "out")
    })
}
