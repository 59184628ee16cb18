//! A template's prelude run once, at template build, and snapshotted with
//! `wasmtime-wizer`.
//!
//! The runtime component is instrumented (wizer adds exports that read
//! every memory and global), compiled and instantiated; the prelude runs in
//! that instance between the guest's `begin_prelude` and `finish_prelude`
//! (`runtime/python/src/isola_guest/preinit.py`: refuse what a snapshot
//! cannot keep, forget the cached WASI handles, mark the heap as restored),
//! and wizer rewrites the component with the instance's memories and
//! globals as its initial state. The result is compiled and cached like any
//! runtime, under a key of the runtime, the prelude and the template
//! settings the prelude ran with ([`snapshot_key`]), so a later template
//! build with the same inputs maps it from the cache and does none of this.
//! Host files the prelude read through mounts are inputs too, known only
//! after it ran: `super::prelude_inputs` lists them beside the entry, and a
//! build after one of them changed takes the snapshot again.
//!
//! Cost of a cache miss: instrumenting (≈ 0.3 s), one compile of the
//! instrumented component (cached too, keyed by its bytes, so only the
//! first prelude of a runtime pays it), the prelude, the snapshot (≈ 0.3 s)
//! and one compile of the snapshotted component (tens of seconds for the
//! 30 MB Python runtime).

use std::{path::Path, sync::Arc, time::Duration};

use wasmtime::{
    Store,
    component::{Instance as ComponentInstance, Lift, WasmList},
};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::{
    EngineError, cache, config,
    instance::{CallError, CreateError, Instance, InstanceConfig, LoadError, Operation, Runtime},
    prelude_inputs::{self, PreludeInputs},
    state::InstanceState,
};
use crate::host::{DiscardSink, NoHost};

/// Why a prelude snapshot could not be made.
#[derive(Debug)]
pub(crate) enum PreinitError {
    /// The runtime could not be instrumented, compiled or linked.
    Load(LoadError),
    /// The build-time instance could not be created.
    Create(CreateError),
    /// The prelude failed; its error, as a sandbox call would report it.
    Prelude(CallError),
    /// The prelude left behind what a snapshot cannot keep.
    Refused(String),
    /// Reading the instance's state or rewriting the component failed.
    Snapshot(String),
}

/// Bumped when what a prelude snapshot contains changes (the guest's
/// `preinit` protocol, the instrumentation), so old entries are not used.
const FORMAT: &str = "isola-prelude-snapshot-1";

/// The cache key of the snapshot of `prelude` run in the runtime with
/// SHA-256 `runtime_digest`, with `settings` describing everything else the
/// prelude's run depends on (environment, mounts, standard input). Used in
/// place of a wasm digest in the compiled-code cache.
pub(crate) fn snapshot_key(runtime_digest: &[u8; 32], prelude: &str, settings: &str) -> [u8; 32] {
    let mut material = Vec::with_capacity(FORMAT.len() + 32 + prelude.len() + settings.len() + 24);
    for part in [
        FORMAT.as_bytes(),
        runtime_digest,
        prelude.as_bytes(),
        settings.as_bytes(),
    ] {
        // Length-prefixed, so no two different inputs give the same bytes.
        material.extend_from_slice(&(part.len() as u64).to_le_bytes());
        material.extend_from_slice(part);
    }
    cache::sha256(&material)
}

/// The snapshot cached in `cache_dir` under `key` (see [`snapshot_key`]),
/// linked, when the host files its prelude read are unchanged; `None` when
/// there is none or they changed (nothing is compiled).
pub(crate) fn load_cached_snapshot(
    key: &[u8; 32],
    cache_dir: &Path,
) -> Result<Option<Runtime>, LoadError> {
    match prelude_inputs::current_entry_key(cache_dir, key) {
        Some(entry_key) => Runtime::load_cached(&entry_key, cache_dir),
        None => Ok(None),
    }
}

/// What the guest runs before and after the prelude (isola_guest.preinit);
/// expressions, so they define no names in the sandbox's namespace.
/// The name a template's prelude runs under (tracebacks, `linecache`).
pub(crate) const PRELUDE_FILENAME: &str = "<prelude>";

const BEGIN: &str = "__import__('isola_guest.preinit', fromlist=['_']).begin_prelude()";
const FINISH: &str = "__import__('isola_guest.preinit', fromlist=['_']).finish_prelude()";

/// Run `prelude` once in an instance of the runtime `wasm` made with
/// `config`, snapshot it, and compile the snapshot (cached in `cache_dir`
/// under `key`, see [`snapshot_key`], and the host files the prelude read,
/// see [`load_cached_snapshot`]). `timeout` limits each step the guest
/// runs.
pub(crate) async fn snapshot_prelude(
    wasm: &[u8],
    key: &[u8; 32],
    cache_dir: Option<&Path>,
    prelude: &str,
    config: &InstanceConfig<'_>,
    timeout: Option<Duration>,
) -> Result<Runtime, PreinitError> {
    let engine = config::engine().map_err(|e| PreinitError::Load(LoadError::Engine(e)))?;
    let wizer = Wizer::new();
    let (context, instrumented) = wizer
        .instrument_component(wasm)
        .map_err(|e| PreinitError::Load(LoadError::InvalidComponent(format!("{e:#}"))))?;
    let instrumented_digest = cache::sha256(&instrumented);
    let instrumented = Runtime::load(&instrumented, &instrumented_digest, cache_dir)
        .map_err(PreinitError::Load)?;

    let mut instance = Instance::new(&instrumented, Arc::new(NoHost), config)
        .await
        .map_err(PreinitError::Create)?;
    let (bytes_before, files_before) = instance.vfs().scratch_usage();
    instance.vfs().record_mount_reads();
    for (step, code) in [("begin", BEGIN), ("prelude", prelude), ("finish", FINISH)] {
        // Named as a sandbox without a snapshot names its prelude, so the
        // host's scripts are `<script-1>`, ... either way.
        let filename = if step == "prelude" {
            PRELUDE_FILENAME
        } else {
            "<preinit>"
        };
        match instance
            .run(
                Operation::EvalScript(code, Some(filename)),
                Arc::new(DiscardSink),
                timeout,
            )
            .await
        {
            Ok(()) => {}
            Err(CallError::InvalidArgument(message)) if step == "finish" => {
                return Err(PreinitError::Refused(message));
            }
            Err(e) => return Err(PreinitError::Prelude(e)),
        }
    }
    // The scratch file system lives in the host, outside the snapshot: a
    // file the prelude leaves there would be missing in every sandbox.
    let (bytes_after, files_after) = instance.vfs().scratch_usage();
    if files_after > files_before || bytes_after > bytes_before {
        return Err(PreinitError::Refused(format!(
            "the prelude cannot be snapshotted: it leaves files in the sandbox's scratch file \
             system ({} new, {} bytes), which a snapshot does not keep; write them to a mount, \
             remove them in the prelude, or build the template without the prelude snapshot",
            files_after.saturating_sub(files_before),
            bytes_after.saturating_sub(bytes_before)
        )));
    }
    let pending = instance.pending_host_calls();
    if pending > 0 {
        return Err(PreinitError::Refused(format!(
            "the prelude cannot be snapshotted: it leaves {pending} host call or HTTP \
             future(s) behind (a snapshot keeps memory, not host objects)"
        )));
    }

    let inputs = PreludeInputs::new(&instance.vfs().mount_reads());
    let (store, component_instance) = instance.store_and_instance();
    let mut reader = StateReader {
        store,
        instance: component_instance,
        error: None,
    };
    let snapshot = wizer
        .snapshot_component(&context, &mut reader)
        .await
        .map_err(|e| PreinitError::Snapshot(format!("{e:#}")))?;
    if let Some(error) = reader.error {
        return Err(PreinitError::Snapshot(error));
    }
    drop(instance);

    let entry_key = inputs.entry_key(key);
    let component =
        cache::load_or_compile(engine, &snapshot, &entry_key, cache_dir).map_err(|e| {
            PreinitError::Load(match e {
                EngineError::Wasm(e) => LoadError::InvalidComponent(format!("{e:#}")),
                other => LoadError::Engine(other),
            })
        })?;
    if let Some(dir) = cache_dir {
        inputs.save(dir, key);
    }
    Runtime::link(engine, &component).map_err(PreinitError::Load)
}

/// Wizer's view of the build-time instance: calls the accessor exports the
/// instrumentation added. wizer's trait cannot fail, so the first failure
/// is kept here (later reads are skipped) and checked after the snapshot.
struct StateReader<'a> {
    store: &'a mut Store<InstanceState>,
    instance: ComponentInstance,
    error: Option<String>,
}

impl StateReader<'_> {
    async fn call<R>(&mut self, interface: &str, func: &str) -> Option<R>
    where
        R: Lift + Send + Sync + 'static,
    {
        if self.error.is_some() {
            return None;
        }
        match self.try_call(interface, func).await {
            Ok(value) => Some(value),
            Err(e) => {
                self.error = Some(format!("reading {interface}#{func}: {e:#}"));
                None
            }
        }
    }

    async fn try_call<R>(&mut self, interface: &str, func: &str) -> wasmtime::Result<R>
    where
        R: Lift + Send + Sync + 'static,
    {
        let missing = || wasmtime::Error::msg("no such export");
        let (_, interface) = self
            .instance
            .get_export(&mut *self.store, None, interface)
            .ok_or_else(missing)?;
        let (_, func) = self
            .instance
            .get_export(&mut *self.store, Some(&interface), func)
            .ok_or_else(missing)?;
        let func = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, func)?;
        Ok(func.call_async(&mut *self.store, ()).await?.0)
    }
}

impl ComponentInstanceState for StateReader<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        match self.call::<WasmList<u8>>(instance, func).await {
            Some(list) => contents(list.as_le_slice(&*self.store)),
            None => contents(&[]),
        }
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await.unwrap_or_default()
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func)
            .await
            .map_or(0, f32::to_bits)
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func)
            .await
            .map_or(0, f64::to_bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_keys_depend_on_every_input() {
        let runtime = [1; 32];
        let base = snapshot_key(&runtime, "import json", "env");
        assert_eq!(base, snapshot_key(&runtime, "import json", "env"));
        assert_ne!(base, snapshot_key(&[2; 32], "import json", "env"));
        assert_ne!(base, snapshot_key(&runtime, "import os", "env"));
        assert_ne!(base, snapshot_key(&runtime, "import json", "env2"));
        // Moving bytes between the prelude and the settings changes the key.
        assert_ne!(
            snapshot_key(&runtime, "ab", "c"),
            snapshot_key(&runtime, "a", "bc")
        );
    }
}
