//! A live sandbox: one isolated instance of the runtime component.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures::StreamExt;
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtxBuilder;

use super::{
    Arg, CallOutput, Error, Result,
    options::{DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_VALUE_BYTES, SandboxOptions},
    template::TemplateInner,
};
use crate::{
    engine::{
        bindings::{
            Sandbox as Bindings,
            exports::isola::sandbox::guest::{Argument, Value as WitValue},
            isola::sandbox::types::{Error as WitError, ErrorCode},
        },
        limits::MemoryLimiter,
        state::{CallState, CancelFlag, InstanceState, Interruption, OutputLimits},
        streams::ChunkStream,
    },
    host::{Host, OutputSink},
    value::Value,
};

/// The trap raised from the epoch callback to stop a call.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("call interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// What a call asks the guest to do.
enum Operation<'a> {
    EvalScript(&'a str),
    EvalFile(&'a str),
    Call(&'a str, Vec<Argument>),
}

/// A live, isolated Python instance. Use it from one thread at a time (it is
/// `Send`, not `Sync`); [`Sandbox::cancel_handle`] may be used from any thread.
pub struct Sandbox {
    template: Arc<TemplateInner>,
    store: Store<InstanceState>,
    bindings: Bindings,
    timeout: Option<Duration>,
    cancel: Arc<CancelFlag>,
    unusable: Option<String>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("timeout", &self.timeout)
            .field("unusable", &self.unusable)
            .finish_non_exhaustive()
    }
}

/// Lets another thread stop a sandbox's running call.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    flag: Arc<CancelFlag>,
    engine: &'static wasmtime::Engine,
}

impl CancelHandle {
    /// Stop the running call; it returns [`Error::Cancelled`] and the sandbox
    /// becomes unusable. A cancel requested while no call runs stops the
    /// next call as soon as it starts.
    pub fn cancel(&self) {
        self.flag.cancel();
        // Reach the epoch check now instead of at the next tick.
        self.engine.increment_epoch();
    }
}

impl Sandbox {
    pub(crate) async fn new(
        template: Arc<TemplateInner>,
        host: Arc<dyn Host>,
        overrides: &SandboxOptions,
    ) -> Result<Self> {
        let options = template.base_options.merged_with(overrides);
        let wasi = build_wasi(&options)?;
        let cancel = Arc::new(CancelFlag::default());
        let state = InstanceState {
            wasi,
            table: wasmtime::component::ResourceTable::new(),
            limiter: MemoryLimiter::new(options.max_memory.unwrap_or(usize::MAX)),
            host,
            output_limits: OutputLimits {
                max_value_bytes: options.max_value_bytes.unwrap_or(DEFAULT_MAX_VALUE_BYTES),
                max_total_bytes: options.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT_BYTES),
            },
            cancel: Arc::clone(&cancel),
            call: CallState::default(),
            relay: Arc::default(),
        };
        let mut store = Store::new(template.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(check_interruption);
        let bindings = match template.pre.instantiate_async(&mut store).await {
            Ok(bindings) => bindings,
            Err(e) if store.data_mut().limiter.take_denied() => {
                return Err(Error::MemoryLimit(format!(
                    "the runtime does not fit in the sandbox memory limit ({e:#})"
                )));
            }
            Err(e) => return Err(Error::Internal(format!("instantiating the runtime: {e:#}"))),
        };
        let prelude = template.prelude.clone();
        let mut sandbox = Self {
            template,
            store,
            bindings,
            timeout: options.timeout,
            cancel,
            unusable: None,
        };
        if let Some(prelude) = prelude {
            sandbox
                .eval_script(&prelude, Arc::new(crate::host::DiscardSink))
                .await?;
        }
        Ok(sandbox)
    }

    /// Set the time limit of each following call (`None`: no limit).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// A handle that cancels this sandbox's running call from any thread.
    #[must_use]
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            flag: Arc::clone(&self.cancel),
            engine: self.template.engine,
        }
    }

    /// Bytes of linear memory the sandbox currently holds.
    #[must_use]
    pub fn memory_usage(&self) -> usize {
        self.store.data().limiter.current()
    }

    /// Refuse all further calls with [`Error::Unusable`] and `reason`.
    pub fn mark_unusable(&mut self, reason: impl Into<String>) {
        self.unusable = Some(reason.into());
    }

    /// Whether the sandbox can still run calls; after a timeout, cancel or
    /// trap it cannot and must be dropped.
    #[must_use]
    pub fn is_usable(&self) -> bool {
        self.unusable.is_none()
    }

    /// Run Python source in the sandbox's module namespace (top-level
    /// `await` allowed). Output goes to `sink`.
    ///
    /// # Errors
    /// [`Error::UserCode`] when the code raises; limits as their variants.
    pub async fn eval_script(
        &mut self,
        code: impl AsRef<str>,
        sink: Arc<dyn OutputSink>,
    ) -> Result<()> {
        self.run(Operation::EvalScript(code.as_ref()), sink).await
    }

    /// Run a Python file at a guest-visible path (inside a mount).
    ///
    /// # Errors
    /// As [`Sandbox::eval_script`].
    pub async fn eval_file(&mut self, guest_path: &str, sink: Arc<dyn OutputSink>) -> Result<()> {
        self.run(Operation::EvalFile(guest_path), sink).await
    }

    /// Call a guest function; items, the result and output go to `sink` as
    /// they are produced.
    ///
    /// # Errors
    /// As [`Sandbox::eval_script`]; [`Error::InvalidArgument`] for an
    /// unknown function or undecodable argument.
    pub async fn call_with_sink<I>(
        &mut self,
        function: &str,
        args: I,
        sink: Arc<dyn OutputSink>,
    ) -> Result<()>
    where
        I: IntoIterator<Item = Arg>,
    {
        self.ensure_usable()?;
        let args = args
            .into_iter()
            .map(|arg| self.lower_argument(arg))
            .collect::<Result<Vec<_>>>()?;
        self.run(Operation::Call(function, args), sink).await
    }

    /// Call a guest function and collect its items and result.
    ///
    /// # Errors
    /// As [`Sandbox::call_with_sink`].
    pub async fn call<I>(&mut self, function: &str, args: I) -> Result<CallOutput>
    where
        I: IntoIterator<Item = Arg>,
    {
        let output = Arc::new(super::output::Collector::default());
        self.call_with_sink(function, args, output.clone()).await?;
        Ok(output.take())
    }

    fn ensure_usable(&self) -> Result<()> {
        match &self.unusable {
            Some(reason) => Err(Error::Unusable(reason.clone())),
            None => Ok(()),
        }
    }

    fn lower_argument(&mut self, arg: Arg) -> Result<Argument> {
        let (name, value) = match arg {
            Arg::Positional(value) => (None, WitValue::Cbor(value.into_cbor())),
            Arg::Named(name, value) => (Some(name), WitValue::Cbor(value.into_cbor())),
            Arg::PositionalStream(stream) => (None, self.push_stream(stream.map(Ok))?),
            Arg::NamedStream(name, stream) => (Some(name), self.push_stream(stream.map(Ok))?),
            Arg::PositionalTryStream(stream) => (None, self.push_stream(stream)?),
            Arg::NamedTryStream(name, stream) => (Some(name), self.push_stream(stream)?),
        };
        Ok(Argument { name, value })
    }

    fn push_stream(
        &mut self,
        stream: impl futures::Stream<Item = Result<Value, String>> + Send + 'static,
    ) -> Result<WitValue> {
        let chunks = ChunkStream::new(stream.map(|item| item.map(Value::into_cbor)));
        self.store
            .data_mut()
            .table
            .push(chunks)
            .map(WitValue::CborIterator)
            .map_err(|e| Error::Internal(format!("registering a stream argument: {e}")))
    }

    async fn run(&mut self, operation: Operation<'_>, sink: Arc<dyn OutputSink>) -> Result<()> {
        self.ensure_usable()?;
        let timeout = self.timeout;
        let deadline = timeout.map(|t| Instant::now() + t);
        self.store.data_mut().call = CallState {
            emitted_bytes: 0,
            deadline,
            interruption: None,
        };
        self.store.data_mut().limiter.take_denied();
        self.store.set_epoch_deadline(1);

        let cancel = Arc::clone(&self.cancel);
        let relay = Arc::clone(&self.store.data().relay);
        let guest = self.bindings.isola_sandbox_guest();
        let store = &mut self.store;
        let outcome = {
            let call = async move {
                match operation {
                    Operation::EvalScript(code) => guest.call_eval_script(store, code).await,
                    Operation::EvalFile(path) => guest.call_eval_file(store, path).await,
                    Operation::Call(name, args) => guest.call_call_func(store, name, &args).await,
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
        relay.deliver(sink.as_ref());
        let state = self.store.data_mut();
        let interruption = state.call.interruption.take().or_else(|| {
            if outcome.is_some() {
                None
            } else if self.cancel.is_requested() {
                Some(Interruption::Cancelled)
            } else {
                Some(Interruption::Timeout)
            }
        });
        let memory_denied = state.limiter.take_denied();
        state.call = CallState::default();
        self.cancel.reset();

        let result = match outcome {
            Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(guest_error))) => {
                Err(guest_failure(guest_error, interruption, memory_denied))
            }
            Some(Err(trap)) => Err(trap_failure(&trap, interruption, timeout, memory_denied)),
            None => Err(interrupted(interruption, timeout)),
        };
        if let Err(e) = &result
            && matches!(e, Error::Timeout(_) | Error::Cancelled | Error::Trap(_))
        {
            self.unusable = Some(format!(
                "an earlier call failed ({e}); create a new sandbox"
            ));
        }
        result
    }
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

fn interrupted(interruption: Option<Interruption>, timeout: Option<Duration>) -> Error {
    match interruption {
        Some(Interruption::Cancelled) => Error::Cancelled,
        Some(Interruption::OutputLimit) => {
            Error::OutputLimit("call output exceeded its limit".into())
        }
        Some(Interruption::Timeout) | None => Error::Timeout(timeout.unwrap_or_default()),
    }
}

fn guest_failure(
    error: WitError,
    interruption: Option<Interruption>,
    memory_denied: bool,
) -> Error {
    let WitError {
        code,
        kind,
        message,
    } = error;
    if interruption == Some(Interruption::OutputLimit) || code == ErrorCode::OutputLimit {
        return Error::OutputLimit(message);
    }
    match code {
        ErrorCode::Exception if kind == "MemoryError" && memory_denied => {
            Error::MemoryLimit(message)
        }
        ErrorCode::Exception => Error::UserCode { kind, message },
        ErrorCode::InvalidArgument => Error::InvalidArgument(message),
        ErrorCode::OutputLimit => Error::OutputLimit(message),
        ErrorCode::Internal => Error::Internal(message),
    }
}

fn trap_failure(
    trap: &wasmtime::Error,
    interruption: Option<Interruption>,
    timeout: Option<Duration>,
    memory_denied: bool,
) -> Error {
    if interruption.is_some() || trap.downcast_ref::<Interrupted>().is_some() {
        return interrupted(interruption, timeout);
    }
    if memory_denied {
        return Error::MemoryLimit(format!(
            "guest aborted after a refused allocation: {trap:#}"
        ));
    }
    match trap.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::StackOverflow) => {
            Error::Trap("stack overflow (recursion too deep)".into())
        }
        Some(other) => Error::Trap(other.to_string()),
        None => Error::Trap(format!("{trap:#}")),
    }
}

fn build_wasi(options: &SandboxOptions) -> Result<wasmtime_wasi::WasiCtx> {
    let mut wasi = WasiCtxBuilder::new();
    wasi.allow_blocking_current_thread(true)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .envs(&options.env);
    for mount in &options.directory_mappings {
        if !mount.guest.starts_with('/') {
            return Err(Error::InvalidArgument(format!(
                "guest mount path '{}' must be absolute",
                mount.guest
            )));
        }
        wasi.preopened_dir(&mount.host, &mount.guest, mount.perms)
            .map_err(|e| {
                Error::Io(std::io::Error::other(format!(
                    "mounting {} at {}: {e:#}",
                    mount.host.display(),
                    mount.guest
                )))
            })?;
    }
    Ok(wasi.build())
}
