//! A loaded runtime ([`Runtime`]) and one live instance of it ([`Instance`]):
//! the wasmtime `Store`, WASI context, linker, epoch deadline and trap
//! classification. `src/sandbox` drives these with policy-level types and
//! never sees wasmtime.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{StreamExt, stream::BoxStream};
use wasmtime::{
    Engine, Store, UpdateDeadline,
    component::{Component, HasSelf, InstancePre, Linker, ResourceTable, TypedFunc},
};
use wasmtime_wasi::WasiCtxBuilder;

use super::{
    EngineError,
    bindings::{
        Sandbox as Bindings, SandboxIndices,
        exports::isola::sandbox::guest::{Argument, Value as WitValue},
        isola::sandbox::{
            self as wit,
            types::{Error as WitError, ErrorCode},
        },
    },
    cache, config, epoch,
    limits::MemoryLimiter,
    state::{
        CallState, CancelFlag, CancelOutcome, InstanceState, Interruption, OutputBudget,
        OutputLimits,
    },
    stdio::GuestStdio,
    streams::ChunkStream,
    vfs::{Vfs, VfsBuildError, VfsConfig},
};
use crate::host::{Host, OutputSink};

/// What the guest's `eval-script` returns.
type EvalScriptResult = (Result<Option<Vec<u8>>, WitError>,);

/// Why a runtime could not be loaded.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The bytes are not a valid WebAssembly component.
    InvalidComponent(String),
    /// A valid component, but not one that fits the isola world.
    NotRuntime(String),
    /// The engine or the cache failed.
    Engine(EngineError),
}

/// A compiled runtime component, linked and ready to instantiate. Shared by
/// every sandbox of a template.
pub(crate) struct Runtime {
    engine: &'static Engine,
    pre: InstancePre<InstanceState>,
    /// Where the bindings' exports are, looked up once.
    indices: SandboxIndices,
    /// Pages of linear memory the template's sandboxes write in their
    /// first eval and call, learned from its first sandbox.
    write_set: Arc<super::prefault::WriteSet>,
}

impl Runtime {
    /// Compile `wasm` (SHA-256 `digest`) or load it from the cache in
    /// `cache_dir`, and link it against the host's imports.
    pub(crate) fn load(
        wasm: &[u8],
        digest: &[u8; 32],
        cache_dir: Option<&Path>,
    ) -> Result<Self, LoadError> {
        let engine = config::engine().map_err(LoadError::Engine)?;
        let component =
            cache::load_or_compile(engine, wasm, digest, cache_dir).map_err(|e| match e {
                EngineError::Wasm(e) => LoadError::InvalidComponent(format!("{e:#}")),
                other => LoadError::Engine(other),
            })?;
        Self::link(engine, &component)
    }

    /// The runtime with SHA-256 `digest` if `cache_dir` holds its compiled
    /// form, linked; `None` when it does not (nothing is compiled).
    pub(crate) fn load_cached(
        digest: &[u8; 32],
        cache_dir: &Path,
    ) -> Result<Option<Self>, LoadError> {
        let engine = config::engine().map_err(LoadError::Engine)?;
        match cache::load_cached(engine, digest, cache_dir) {
            Some(component) => Self::link(engine, &component).map(Some),
            None => Ok(None),
        }
    }

    pub(super) fn link(engine: &'static Engine, component: &Component) -> Result<Self, LoadError> {
        // Build the copy-on-write memory images now rather than in the first
        // sandbox. With a mapped cache entry they are views of the file.
        component
            .initialize_copy_on_write_image()
            .map_err(|e| LoadError::Engine(e.into()))?;
        let pre = linker(engine)
            .map_err(|e| LoadError::Engine(EngineError::Wasm(wasmtime::Error::msg(e))))?
            .instantiate_pre(component)
            .map_err(|e| LoadError::Engine(e.into()))?;
        let indices =
            SandboxIndices::new(&pre).map_err(|e| LoadError::NotRuntime(format!("{e:#}")))?;
        Ok(Self {
            engine,
            pre,
            indices,
            write_set: Arc::default(),
        })
    }
}

/// The host's imports, linked once per process (every template shares the
/// one engine).
fn linker(engine: &'static Engine) -> Result<&'static Linker<InstanceState>, String> {
    static LINKER: std::sync::OnceLock<Result<Linker<InstanceState>, String>> =
        std::sync::OnceLock::new();
    LINKER
        .get_or_init(|| new_linker(engine).map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(Clone::clone)
}

fn new_linker(engine: &Engine) -> wasmtime::Result<Linker<InstanceState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    super::vfs::add_to_linker(&mut linker)?;
    wit::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    wit::host::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// What an instance is created with.
pub(crate) struct InstanceConfig<'a> {
    /// Cap on linear memory, in bytes.
    pub(crate) max_memory: usize,
    /// Output caps of each call.
    pub(crate) output_limits: OutputLimits,
    /// The guest's file system: scratch caps, host descriptor caps, mounts.
    pub(crate) vfs: &'a VfsConfig,
    /// Environment variables visible to the guest.
    pub(crate) env: &'a [(String, String)],
    /// The guest's command line (`sys.argv`); empty: the runtime's default.
    pub(crate) argv: &'a [String],
    /// The guest's standard input (then end-of-file); `None`: empty.
    pub(crate) stdin: Option<bytes::Bytes>,
    /// Most host objects (resource table entries) the guest may hold.
    pub(crate) max_host_objects: usize,
    /// Most host call and HTTP futures the guest may hold.
    pub(crate) max_pending_host_calls: usize,
}

/// Why an instance could not be created.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// A mount is unusable (relative guest path).
    InvalidMount(String),
    /// A host directory could not be opened.
    Io(std::io::Error),
    /// The runtime does not fit in the memory cap.
    MemoryLimit(String),
    /// Every sandbox place of the process is taken.
    Exhausted(String),
    /// wasmtime failed to instantiate the runtime.
    Internal(String),
}

/// How a call ended when it did not succeed, classified for the sandbox.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Guest code raised (`kind` is the Python exception type).
    UserCode {
        /// Python exception type name.
        kind: String,
        /// Formatted traceback and message.
        message: String,
        /// For an uncaught `SystemExit`: the status python would exit with.
        exit_status: Option<i32>,
    },
    /// The call ran past its time limit (the limit is carried).
    Timeout(Duration),
    /// The call was cancelled.
    Cancelled,
    /// A memory growth was refused and the guest failed because of it.
    MemoryLimit(String),
    /// A value or the call's total output exceeded a limit.
    OutputLimit(String),
    /// The guest refused an argument (unknown function, bad value).
    InvalidArgument(String),
    /// The guest trapped.
    Trap(String),
    /// The runtime or wasmtime failed.
    Internal(String),
}

/// An argument value for [`Instance::run`].
pub(crate) enum ArgValue {
    /// One CBOR-encoded value.
    Cbor(Vec<u8>),
    /// A lazily pulled stream of CBOR-encoded values; an `Err` item ends the
    /// guest's iteration with an error.
    Stream(BoxStream<'static, Result<Vec<u8>, String>>),
}

/// What a call asks the guest to do.
pub(crate) enum Operation<'a> {
    /// Run Python source in the module namespace; the optional filename
    /// names it in tracebacks.
    EvalScript(&'a str, Option<&'a str>),
    /// Run a Python file at a guest path.
    EvalFile(&'a str),
    /// Call a guest function with optionally named arguments.
    Call(&'a str, Vec<(Option<String>, ArgValue)>),
}

/// Stops a running call from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Canceller {
    flag: Arc<CancelFlag>,
    engine: &'static Engine,
}

impl Canceller {
    /// Stop the call running now; a request while idle (or after the
    /// instance was dropped) does nothing and says so.
    pub(crate) fn cancel(&self) -> CancelOutcome {
        let outcome = self.flag.cancel();
        if outcome == CancelOutcome::Requested {
            // Reach the epoch check now instead of at the next tick.
            self.engine.increment_epoch();
        }
        outcome
    }
}

/// One live instance of a [`Runtime`]: its own store, memory and WASI state.
pub(crate) struct Instance {
    engine: &'static Engine,
    store: Store<InstanceState>,
    /// The component instance the bindings were made from (the prelude
    /// snapshot reads its state through it, engine::preinit).
    component_instance: wasmtime::component::Instance,
    bindings: Bindings,
    cancel: Arc<CancelFlag>,
    /// This instance's place among the process's `max_sandboxes`.
    _slot: super::config::SandboxSlot,
    /// A call trapped or was interrupted: wasmtime will not enter the
    /// instance again.
    poisoned: bool,
    /// Figures of the last call.
    last_stats: CallStats,
    /// The pages a first eval of the template writes (engine::prefault).
    write_set: Arc<super::prefault::WriteSet>,
    /// Address of the instance's linear memory, known from its first eval
    /// on (0 before).
    memory_base: AtomicUsize,
    /// Evals and calls run so far.
    calls: u32,
}

/// Figures of one call, measured by the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Wall-clock time of the call.
    pub wall_time: Duration,
    /// CPU time the calling thread spent in the call (guest code plus
    /// the host work done on that thread, callbacks included).
    pub cpu_time: Duration,
    /// Highest linear memory of the sandbox during the call, in bytes.
    pub peak_memory: u64,
    /// Bytes of values and text the call emitted.
    pub output_bytes: u64,
    /// Host calls and HTTP requests the guest started.
    pub host_calls: u32,
}

/// CPU time consumed by the calling thread so far.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID
    // is supported by Linux and only reads the calling thread's clock.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

impl Drop for Instance {
    /// Cancel requests made after this report [`CancelOutcome::Gone`].
    fn drop(&mut self) {
        self.cancel.retire();
        // SAFETY: the base is this instance's memory (the learned ranges
        // were populated in it by its first eval), and the store that owns
        // it is dropped right after this: nothing reads it before wasmtime
        // resets the slot.
        unsafe {
            self.write_set.trim(
                self.memory_base.load(Ordering::Relaxed),
                self.store.data().limiter.current(),
            );
        }
    }
}

impl Instance {
    /// Instantiate `runtime` with `host` answering the guest's host calls.
    pub(crate) async fn new(
        runtime: &Runtime,
        host: Arc<dyn Host>,
        config: &InstanceConfig<'_>,
    ) -> Result<Self, CreateError> {
        let slot = super::config::SandboxSlot::reserve().map_err(|max| {
            CreateError::Exhausted(format!(
                "all {max} sandbox places of the process are in use; free a sandbox or raise \
                 max_sandboxes (isola_configure_engine) before the first template"
            ))
        })?;
        // Deadlines and cancellation need the epoch to advance; the ticker
        // starts with the first sandbox, not with the template load.
        epoch::ensure_ticker(runtime.engine);
        let relay = Arc::default();
        let output = Arc::new(OutputBudget::new(config.output_limits));
        let stdio = GuestStdio::new(&relay, &output);
        let wasi = build_wasi(config, &stdio);
        let vfs = Vfs::new(config.vfs).map_err(|e| match e {
            VfsBuildError::InvalidMount(message) => CreateError::InvalidMount(message),
            open @ VfsBuildError::Open { .. } => {
                CreateError::Io(std::io::Error::other(open.to_string()))
            }
        })?;
        let cancel = Arc::new(CancelFlag::default());
        let mut table = ResourceTable::new();
        // Each entry lives in host memory, outside the memory limit.
        table.set_max_capacity(config.max_host_objects);
        let state = InstanceState {
            wasi,
            vfs,
            table,
            limiter: MemoryLimiter::new(config.max_memory),
            host,
            output,
            cancel: Arc::clone(&cancel),
            call: CallState::default(),
            pending_host_calls: 0,
            max_pending_host_calls: config.max_pending_host_calls,
            relay,
            stdio,
        };
        let mut store = Store::new(runtime.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(check_interruption);
        // The bindings come from the export indices looked up at load time,
        // as a `SandboxPre` would make them; the component instance is kept
        // too (engine::preinit reads the instance's state through it).
        let instantiated = match runtime.pre.instantiate_async(&mut store).await {
            Ok(instance) => match runtime.indices.load(&mut store, &instance) {
                Ok(bindings) => Ok((instance, bindings)),
                // Export names were checked at load; their types only now.
                Err(e) => {
                    return Err(CreateError::Internal(format!(
                        "the runtime component's exports do not match this library's \
                         interface (a runtime built for another isola version?): {e:#}"
                    )));
                }
            },
            Err(e) => Err(e),
        };
        let (component_instance, bindings) = match instantiated {
            Ok(instantiated) => instantiated,
            Err(e) if store.data_mut().limiter.take_denied() => {
                let limiter = &store.data().limiter;
                let mib = |bytes: usize| bytes as f64 / f64::from(1u32 << 20);
                return Err(CreateError::MemoryLimit(format!(
                    "the runtime does not fit in the sandbox memory limit: it needs {:.1} MiB \
                     to start and the limit is {:.1} MiB ({e:#})",
                    mib(limiter.refused_total()),
                    mib(limiter.limit()),
                )));
            }
            Err(e) => {
                return Err(CreateError::Internal(format!(
                    "instantiating the runtime: {e:#}"
                )));
            }
        };
        Ok(Self {
            engine: runtime.engine,
            store,
            component_instance,
            bindings,
            cancel,
            poisoned: false,
            last_stats: CallStats::default(),
            write_set: Arc::clone(&runtime.write_set),
            memory_base: AtomicUsize::new(0),
            calls: 0,
            _slot: slot,
        })
    }

    /// The store and the component instance, for reading the instance's
    /// state (engine::preinit).
    pub(super) fn store_and_instance(
        &mut self,
    ) -> (&mut Store<InstanceState>, wasmtime::component::Instance) {
        (&mut self.store, self.component_instance)
    }

    /// Host call and HTTP futures the guest still holds.
    pub(super) fn pending_host_calls(&self) -> usize {
        self.store.data().pending_host_calls
    }

    /// A handle that stops this instance's running call from any thread.
    pub(crate) fn canceller(&self) -> Canceller {
        Canceller {
            flag: Arc::clone(&self.cancel),
            engine: self.engine,
        }
    }

    /// Whether an earlier call trapped or was interrupted, so the instance
    /// can run nothing more.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// The instance's file system.
    pub(crate) fn vfs(&self) -> &Vfs {
        &self.store.data().vfs
    }

    /// Bytes of linear memory the instance currently holds.
    pub(crate) fn memory_usage(&self) -> usize {
        self.store.data().limiter.current()
    }

    /// A reader of the memory usage that never waits for a running call.
    pub(crate) fn memory_gauge(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.store.data().limiter.gauge()
    }

    /// Figures of the last call (zero before the first).
    pub(crate) fn last_stats(&self) -> CallStats {
        self.last_stats
    }

    /// Run `operation` with a time limit of `timeout`, delivering output to
    /// `sink` on the calling thread's stack as it is produced.
    pub(crate) async fn run(
        &mut self,
        operation: Operation<'_>,
        sink: Arc<dyn OutputSink>,
        timeout: Option<Duration>,
    ) -> Result<(), CallError> {
        let operation = match operation {
            Operation::EvalScript(code, filename) => Lowered::EvalScript(code, filename),
            Operation::EvalFile(path) => Lowered::EvalFile(path),
            Operation::Call(name, args) => self.lower_call(name, args)?,
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        self.store.data_mut().call = CallState {
            deadline,
            ..CallState::default()
        };
        self.store.data().output.reset();
        self.store.data_mut().limiter.take_denied();
        self.store.data_mut().limiter.reset_peak();
        self.store.set_epoch_deadline(1);
        self.cancel.begin_call();
        let started = Instant::now();
        let cpu_started = thread_cpu_time();

        let cancel = Arc::clone(&self.cancel);
        let relay = Arc::clone(&self.store.data().relay);
        let guest = self.bindings.isola_sandbox_guest();
        let store = &mut self.store;
        // The first eval learns where the memory is and populates the
        // template's write set in it (engine::prefault).
        let first = (self.memory_base.load(Ordering::Relaxed) == 0)
            .then_some((&*self.write_set, &self.memory_base));
        let outcome = {
            let call = async move {
                match operation {
                    Lowered::EvalScript(code, filename) => match first {
                        Some((write_set, base)) => {
                            // The bindings' own function, type-checked when
                            // the template was linked (this binding fails to
                            // compile if its types ever differ from below).
                            let checked: TypedFunc<(&str, Option<&str>), EvalScriptResult> =
                                guest.func_eval_script();
                            let func = *checked.func();
                            // SAFETY: `func` was type-checked as taking
                            // `(&str, Option<&str>)` and returning this
                            // result (`checked`);
                            // `FirstEvalCode` has `str`'s type information and
                            // lowering (engine::prefault).
                            let typed = unsafe {
                                TypedFunc::<
                                    (super::prefault::FirstEvalCode<'_>, Option<&str>),
                                    EvalScriptResult,
                                >::new_unchecked(func)
                            };
                            typed
                                .call_async(
                                    &mut *store,
                                    (
                                        super::prefault::FirstEvalCode {
                                            code,
                                            write_set,
                                            base,
                                        },
                                        filename,
                                    ),
                                )
                                .await
                                .map(|(r,)| r)
                        }
                        None => guest.call_eval_script(store, code, filename).await,
                    },
                    Lowered::EvalFile(path) => guest.call_eval_file(store, path).await,
                    Lowered::Call(name, args) => guest.call_call_func(store, name, &args).await,
                    Lowered::CallCbor(name, positional, named) => {
                        guest.call_call_cbor(store, name, &positional, &named).await
                    }
                }
            };
            // Between fiber resumptions, deliver output and start host calls
            // on this thread's own stack (see engine::relay).
            let mut call = std::pin::pin!(call);
            let driven = std::future::poll_fn(|cx| {
                let polled = call.as_mut().poll(cx);
                relay.deliver(sink.as_ref());
                polled
            });
            // Guest code is stopped by the epoch callback; these arms stop a
            // call that is waiting on the host (a host call, a stream, a sleep).
            tokio::select! {
                outcome = driven => Some(outcome),
                () = sleep_until(deadline) => None,
                () = cancel.requested() => None,
            }
        };

        // Output produced before an interruption still reaches the sink.
        self.store.data().stdio.finish_call();
        // A result the export returned is checked and delivered as an
        // emitted one would be, after all output that came before it. A
        // refusal is recorded in the store (budget or protocol violation).
        let mut outcome = outcome;
        let mut result_returned = false;
        if let Some(Ok(Ok(returned))) = &mut outcome
            && let Some(value) = returned.take()
        {
            result_returned = true;
            if let Ok(work) = self.store.data_mut().accept_value(true, value) {
                relay.push(work);
            }
        }
        relay.deliver(sink.as_ref());
        let state = self.store.data_mut();
        // A refused write to fd 1 or 2 reaches the guest only as an OSError
        // it may ignore; the budget remembers it.
        let limit_message = state.output.exceeded();
        let interruption = state.call.interruption.take().or_else(|| {
            if limit_message.is_some() {
                Some(Interruption::OutputLimit)
            } else if outcome.is_some() {
                None
            } else if self.cancel.is_requested() {
                Some(Interruption::Cancelled)
            } else {
                Some(Interruption::Timeout)
            }
        });
        let memory_denied = state.limiter.take_denied();
        let call = std::mem::take(&mut state.call);
        let max_host_objects = state.table.max_capacity();
        let stats = CallStats {
            wall_time: started.elapsed(),
            cpu_time: thread_cpu_time().saturating_sub(cpu_started),
            peak_memory: u64::try_from(state.limiter.peak()).unwrap_or(u64::MAX),
            output_bytes: u64::try_from(state.output.used()).unwrap_or(u64::MAX),
            host_calls: call.host_calls,
        };
        self.last_stats = stats;
        self.cancel.end_call();
        // Learn the pages a first eval and call write from the first
        // sandbox of the template that ran both.
        self.calls += 1;
        if self.calls == 2 && !self.write_set.is_learned() {
            let base = self.memory_base.load(Ordering::Relaxed);
            self.write_set
                .learn(base, self.store.data().limiter.current());
        }
        let violation = call.violation.or_else(|| {
            matches!(outcome, Some(Ok(Ok(_))) if !call.result_emitted && !result_returned)
                .then(|| "the guest ended the call without sending its result".to_string())
        });
        // A trap or an interruption leaves the instance unable to run again
        // (wasmtime refuses to re-enter it), whatever the error's kind; a
        // guest that broke the protocol has tampered with its runtime and is
        // not trusted with another call.
        self.poisoned |= !matches!(outcome, Some(Ok(_))) || violation.is_some();

        // The host decides how a call ended: a limit it enforced or a
        // protocol violation it saw wins over whatever the guest reports.
        match outcome {
            // A refused write to fd 1 or 2 may have been ignored by the guest:
            // the budget's message says what happened.
            Some(Ok(_)) if interruption == Some(Interruption::OutputLimit) => {
                Err(match limit_message {
                    Some(message) => CallError::OutputLimit(message),
                    None => interrupted(interruption, timeout),
                })
            }
            Some(Ok(_)) if violation.is_some() => Err(CallError::UserCode {
                kind: "ProtocolError".into(),
                message: violation.unwrap_or_default(),
                exit_status: None,
            }),
            Some(Ok(Ok(_))) => Ok(()),
            Some(Ok(Err(guest_error))) => Err(guest_failure(guest_error, memory_denied)),
            Some(Err(trap)) => Err(trap_failure(
                &trap,
                interruption,
                timeout,
                memory_denied,
                max_host_objects,
            )),
            None => Err(interrupted(interruption, timeout)),
        }
    }

    /// Lower a call's arguments: complete values with the positional ones
    /// first go to the guest's `call-cbor` export, which lifts one byte
    /// string per argument; anything else (a stream, a positional argument
    /// after a named one, which the guest refuses) to `call-func`.
    fn lower_call<'a>(
        &mut self,
        name: &'a str,
        args: Vec<(Option<String>, ArgValue)>,
    ) -> Result<Lowered<'a>, CallError> {
        // call-cbor takes complete values with the positional ones first;
        // anything else (a stream, a positional after a named) goes
        // through call-func, which checks and reports the order itself.
        let ordered = args.is_sorted_by_key(|(name, _)| name.is_some());
        let mut positional = Vec::with_capacity(args.len());
        let mut named = Vec::new();
        let mut rest = args.into_iter();
        while let Some((arg_name, value)) = rest.next() {
            match (value, arg_name) {
                (ArgValue::Cbor(bytes), None) if ordered => positional.push(bytes),
                (ArgValue::Cbor(bytes), Some(arg_name)) if ordered => {
                    named.push((arg_name, bytes));
                }
                (value, arg_name) => {
                    let args = positional
                        .into_iter()
                        .map(|bytes| (None, ArgValue::Cbor(bytes)))
                        .chain(named.into_iter().map(|(n, b)| (Some(n), ArgValue::Cbor(b))))
                        .chain(std::iter::once((arg_name, value)))
                        .chain(rest);
                    return Ok(Lowered::Call(
                        name,
                        args.map(|(name, value)| self.lower_argument(name, value))
                            .collect::<Result<Vec<_>, _>>()?,
                    ));
                }
            }
        }
        Ok(Lowered::CallCbor(name, positional, named))
    }

    fn lower_argument(
        &mut self,
        name: Option<String>,
        value: ArgValue,
    ) -> Result<Argument, CallError> {
        let value = match value {
            ArgValue::Cbor(bytes) => WitValue::Cbor(bytes),
            ArgValue::Stream(stream) => self
                .store
                .data_mut()
                .table
                .push(ChunkStream::new(stream))
                .map(WitValue::CborIterator)
                .map_err(|e| CallError::Internal(format!("registering a stream argument: {e}")))?,
        };
        Ok(Argument { name, value })
    }
}

/// A [`Operation`] with its arguments lowered into the store.
enum Lowered<'a> {
    EvalScript(&'a str, Option<&'a str>),
    EvalFile(&'a str),
    Call(&'a str, Vec<Argument>),
    /// Complete values only: positional, then named.
    CallCbor(&'a str, Vec<Vec<u8>>, Vec<(String, Vec<u8>)>),
}

/// Box a stream of CBOR chunks for [`ArgValue::Stream`].
pub(crate) fn boxed_stream(
    stream: impl futures::Stream<Item = Result<Vec<u8>, String>> + Send + 'static,
) -> ArgValue {
    ArgValue::Stream(stream.boxed())
}

/// The trap raised from the epoch callback to stop a call.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("call interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// The trap raised by the guest's `exit` import (`os._exit`): the call ends
/// with the status and the instance runs nothing more.
#[derive(Debug)]
pub(crate) struct GuestExit(pub(crate) i32);

impl std::fmt::Display for GuestExit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "guest exited with status {}", self.0)
    }
}

impl std::error::Error for GuestExit {}

/// The failure of a call the guest ended by exiting: `os._exit(status)`
/// (isola's `exit` import), or C code calling `exit` (WASI's exit, which
/// keeps only success or failure: status 0 or 1).
fn exit_failure(trap: &wasmtime::Error) -> Option<CallError> {
    let (status, how) = if let Some(GuestExit(status)) = trap.downcast_ref::<GuestExit>() {
        (*status, format!("os._exit({status})"))
    } else {
        let status = trap.downcast_ref::<wasmtime_wasi::I32Exit>()?.0;
        (status, format!("the guest's C code called exit({status})"))
    };
    Some(CallError::UserCode {
        kind: "SystemExit".into(),
        message: format!(
            "{how} ended the sandbox as it ends a process: exit status {status}; \
             the sandbox runs no further calls"
        ),
        exit_status: Some(status),
    })
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}

/// Epoch callback: stop guest code when the call is cancelled or late.
fn check_interruption(
    mut ctx: wasmtime::StoreContextMut<'_, InstanceState>,
) -> wasmtime::Result<UpdateDeadline> {
    let state = ctx.data_mut();
    let reason = if state.cancel.is_requested() {
        Some(Interruption::Cancelled)
    } else if state.call.deadline.is_some_and(|d| Instant::now() >= d) {
        Some(Interruption::Timeout)
    } else {
        None
    };
    match reason {
        Some(reason) => {
            state.call.interruption = Some(reason);
            Err(wasmtime::Error::new(Interrupted))
        }
        None => Ok(UpdateDeadline::Continue(1)),
    }
}

fn interrupted(interruption: Option<Interruption>, timeout: Option<Duration>) -> CallError {
    match interruption {
        Some(Interruption::Cancelled) => CallError::Cancelled,
        Some(Interruption::OutputLimit) => {
            CallError::OutputLimit("call output exceeded its limit".into())
        }
        Some(Interruption::Timeout) | None => CallError::Timeout(timeout.unwrap_or_default()),
    }
}

/// Map an error the guest reported. The guest (runtime included) is
/// untrusted, so it can only claim guest-side kinds: the host decides
/// timeouts, cancellation, memory, output and internal failures.
fn guest_failure(error: WitError, memory_denied: bool) -> CallError {
    let WitError {
        code,
        kind,
        message,
        exit_status,
    } = error;
    match code {
        _ if kind == "MemoryError" && memory_denied => CallError::MemoryLimit(message),
        // An exit status belongs to a SystemExit only.
        ErrorCode::Exception => CallError::UserCode {
            exit_status: exit_status.filter(|_| kind == "SystemExit"),
            kind,
            message,
        },
        ErrorCode::InvalidArgument => CallError::InvalidArgument(message),
        // Without a host-recorded limit, a claimed output limit or internal
        // failure is the guest's own failure.
        ErrorCode::OutputLimit | ErrorCode::Internal => CallError::UserCode {
            kind: if kind.is_empty() {
                "RuntimeError".into()
            } else {
                kind
            },
            message,
            exit_status: None,
        },
    }
}

fn trap_failure(
    trap: &wasmtime::Error,
    interruption: Option<Interruption>,
    timeout: Option<Duration>,
    memory_denied: bool,
    max_host_objects: usize,
) -> CallError {
    if interruption.is_some() || trap.downcast_ref::<Interrupted>().is_some() {
        return interrupted(interruption, timeout);
    }
    if let Some(wasmtime::component::ResourceTableError::Full) =
        trap.downcast_ref::<wasmtime::component::ResourceTableError>()
    {
        return CallError::Trap(format!(
            "the guest holds more than {max_host_objects} host objects (pending host calls, \
             pollables, streams, descriptors)"
        ));
    }
    // An exit is the guest's own decision, taken after whatever it saw.
    if let Some(exit) = exit_failure(trap) {
        return exit;
    }
    // A stack overflow is one whatever memory growth was refused on the way.
    if let Some(wasmtime::Trap::StackOverflow) = trap.downcast_ref::<wasmtime::Trap>() {
        return CallError::Trap("stack overflow (recursion too deep)".into());
    }
    if memory_denied {
        return CallError::MemoryLimit(format!(
            "guest aborted after a refused allocation: {trap:#}"
        ));
    }
    match trap.downcast_ref::<wasmtime::Trap>() {
        Some(other) => CallError::Trap(other.to_string()),
        None => CallError::Trap(format!("{trap:#}")),
    }
}

fn build_wasi(config: &InstanceConfig<'_>, stdio: &GuestStdio) -> wasmtime_wasi::WasiCtx {
    // No preopens here: the file system is isola's own (engine::vfs).
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdio.stdout())
        .stderr(stdio.stderr())
        .allow_blocking_current_thread(true)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .envs(config.env)
        .args(config.argv);
    if let Some(data) = &config.stdin {
        wasi.stdin(wasmtime_wasi::p2::pipe::MemoryInputPipe::new(data.clone()));
    }
    wasi.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_interrupt_is_reported_as_the_recorded_reason() {
        let trap = wasmtime::Error::new(Interrupted);
        let timeout = Some(Duration::from_millis(7));
        assert!(matches!(
            trap_failure(&trap, Some(Interruption::Cancelled), timeout, false, 1),
            CallError::Cancelled
        ));
        assert!(matches!(
            trap_failure(&trap, None, timeout, false, 1),
            CallError::Timeout(t) if t == Duration::from_millis(7)
        ));
        assert!(matches!(
            trap_failure(&trap, Some(Interruption::OutputLimit), timeout, true, 1),
            CallError::OutputLimit(_)
        ));
    }

    #[test]
    fn traps_after_a_refused_growth_are_memory_limits() {
        let trap = wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached);
        assert!(matches!(
            trap_failure(&trap, None, None, true, 1),
            CallError::MemoryLimit(_)
        ));
        let overflow = wasmtime::Error::new(wasmtime::Trap::StackOverflow);
        for memory_denied in [false, true] {
            assert!(matches!(
                trap_failure(&overflow, None, None, memory_denied, 1),
                CallError::Trap(m) if m.contains("recursion")
            ));
        }
    }

    #[test]
    fn guest_memory_error_counts_as_limit_only_when_growth_was_refused() {
        let error = |kind: &str| WitError {
            code: ErrorCode::Exception,
            kind: kind.into(),
            message: "m".into(),
            exit_status: None,
        };
        assert!(matches!(
            guest_failure(error("MemoryError"), true),
            CallError::MemoryLimit(_)
        ));
        assert!(matches!(
            guest_failure(error("MemoryError"), false),
            CallError::UserCode { kind, .. } if kind == "MemoryError"
        ));
    }

    #[test]
    fn guest_cannot_claim_host_side_error_kinds() {
        for code in [ErrorCode::OutputLimit, ErrorCode::Internal] {
            let forged = WitError {
                code,
                kind: String::new(),
                message: "isola panicked: forged".into(),
                exit_status: Some(3),
            };
            assert!(matches!(
                guest_failure(forged, false),
                CallError::UserCode { kind, exit_status: None, .. } if kind == "RuntimeError"
            ));
        }
        // Only a SystemExit carries an exit status.
        let claim = |kind: &str| WitError {
            code: ErrorCode::Exception,
            kind: kind.into(),
            message: "m".into(),
            exit_status: Some(4),
        };
        assert!(matches!(
            guest_failure(claim("SystemExit"), false),
            CallError::UserCode {
                exit_status: Some(4),
                ..
            }
        ));
        assert!(matches!(
            guest_failure(claim("ValueError"), false),
            CallError::UserCode {
                exit_status: None,
                ..
            }
        ));
    }

    #[test]
    fn exits_carry_their_status_whatever_memory_was_refused() {
        for memory_denied in [false, true] {
            let exit = wasmtime::Error::new(GuestExit(7));
            assert!(matches!(
                trap_failure(&exit, None, None, memory_denied, 1),
                CallError::UserCode { kind, message, exit_status: Some(7) }
                    if kind == "SystemExit" && message.contains("os._exit(7)")
            ));
            let wasi_exit = wasmtime::Error::new(wasmtime_wasi::I32Exit(1));
            assert!(matches!(
                trap_failure(&wasi_exit, None, None, memory_denied, 1),
                CallError::UserCode {
                    exit_status: Some(1),
                    ..
                }
            ));
        }
        // A timeout or cancel that interrupted the guest wins over its exit.
        let exit = wasmtime::Error::new(GuestExit(0));
        assert!(matches!(
            trap_failure(&exit, Some(Interruption::Cancelled), None, false, 1),
            CallError::Cancelled
        ));
    }

    #[test]
    fn table_full_is_a_trap_naming_the_limit() {
        let table_full = wasmtime::Error::new(wasmtime::component::ResourceTableError::Full);
        assert!(matches!(
            trap_failure(&table_full, None, None, false, 9),
            CallError::Trap(m) if m.contains("more than 9 host objects")
        ));
    }
}
