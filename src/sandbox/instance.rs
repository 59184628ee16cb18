//! A live sandbox: one isolated instance of the runtime component.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;

use super::{
    Arg, CallOutput, Error, Result,
    options::{
        DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_VALUE_BYTES, MAX_HOST_RESOURCES,
        MAX_PENDING_HOST_CALLS, SandboxOptions,
    },
    template::TemplateInner,
};
use crate::{
    engine::{
        instance::CallStats,
        instance::{ArgValue, Canceller, Instance, InstanceConfig, Operation, boxed_stream},
        preinit::PRELUDE_FILENAME,
        state::{CancelOutcome, OutputLimits},
        vfs::{Vfs, VfsConfig},
    },
    host::{Host, OutputSink},
    value::Value,
};

/// A live, isolated Python instance. Use it from one thread at a time (it is
/// `Send`, not `Sync`); [`Sandbox::cancel_handle`] may be used from any thread.
pub struct Sandbox {
    instance: Instance,
    timeout: Option<Duration>,
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

/// Reads a sandbox's linear memory size from any thread, during calls too.
#[derive(Debug, Clone)]
pub struct MemoryGauge(Arc<std::sync::atomic::AtomicU64>);

impl MemoryGauge {
    /// Bytes of linear memory the sandbox holds now.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Lets another thread stop a sandbox's running call.
#[derive(Debug, Clone)]
pub struct CancelHandle {
    canceller: Canceller,
}

impl CancelHandle {
    /// Stop the call running now; it returns [`Error::Cancelled`] and the
    /// sandbox becomes unusable. A request made while no call runs (or
    /// after the sandbox was dropped) does nothing and says so: it never
    /// affects a later call. Callable from any thread, also after the
    /// sandbox is gone.
    pub fn cancel(&self) -> CancelOutcome {
        self.canceller.cancel()
    }
}

/// The engine's settings of an instance made with `options` (whose file
/// system is `vfs`, from [`SandboxOptions::vfs_config`]).
pub(super) fn instance_config<'a>(
    options: &'a SandboxOptions,
    vfs: &'a VfsConfig,
) -> InstanceConfig<'a> {
    InstanceConfig {
        max_memory: options.max_memory.unwrap_or(usize::MAX),
        output_limits: OutputLimits {
            max_value_bytes: options.max_value_bytes.unwrap_or(DEFAULT_MAX_VALUE_BYTES),
            max_total_bytes: options.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT_BYTES),
        },
        vfs,
        env: &options.env,
        argv: options.argv.as_deref().unwrap_or_default(),
        stdin: options.stdin.clone(),
        max_host_objects: options.max_host_objects.unwrap_or(MAX_HOST_RESOURCES),
        max_pending_host_calls: options
            .max_pending_host_calls
            .unwrap_or(MAX_PENDING_HOST_CALLS),
    }
}

impl Sandbox {
    pub(crate) async fn new(
        template: Arc<TemplateInner>,
        host: Arc<dyn Host>,
        overrides: &SandboxOptions,
    ) -> Result<Self> {
        let options = template.base_options.merged_with(overrides);
        let vfs = options.vfs_config();
        let config = instance_config(&options, &vfs);
        let instance = Instance::new(&template.runtime, host, &config).await?;
        let mut sandbox = Self {
            instance,
            timeout: options.timeout,
            unusable: None,
        };
        if let Some(prelude) = &template.prelude {
            sandbox
                .eval_script_named(
                    prelude,
                    PRELUDE_FILENAME,
                    Arc::new(crate::host::DiscardSink),
                )
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
            canceller: self.instance.canceller(),
        }
    }

    /// The sandbox's file system (for the files in/out API).
    pub(super) fn vfs(&self) -> &Vfs {
        self.instance.vfs()
    }

    /// Figures of the last eval or call (zero before the first).
    #[must_use]
    pub fn last_call_stats(&self) -> CallStats {
        self.instance.last_stats()
    }

    /// A reader of [`Sandbox::memory_usage`] for other threads: it never
    /// waits for a running call.
    #[must_use]
    pub fn memory_gauge(&self) -> MemoryGauge {
        MemoryGauge(self.instance.memory_gauge())
    }

    /// Bytes of linear memory the sandbox currently holds.
    #[must_use]
    pub fn memory_usage(&self) -> usize {
        self.instance.memory_usage()
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
        self.run(Operation::EvalScript(code.as_ref(), None), sink)
            .await
    }

    /// Run Python source as [`Sandbox::eval_script`] does, named `filename`
    /// in tracebacks, `linecache` and `inspect` (python's
    /// `compile(code, filename, "exec")`), for example the path the source
    /// was read from on the host. Unnamed sources are `<script-1>`,
    /// `<script-2>`, ... `__file__` is not set: the namespace outlives the
    /// script.
    ///
    /// # Errors
    /// As [`Sandbox::eval_script`].
    pub async fn eval_script_named(
        &mut self,
        code: impl AsRef<str>,
        filename: &str,
        sink: Arc<dyn OutputSink>,
    ) -> Result<()> {
        self.run(Operation::EvalScript(code.as_ref(), Some(filename)), sink)
            .await
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
        let args = args.into_iter().map(engine_argument).collect();
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

    /// `Ok` when the sandbox can run a call, else the [`Error::Unusable`]
    /// a call would fail with (nothing is consumed by asking).
    ///
    /// # Errors
    /// [`Error::Unusable`] after a timeout, cancel or trap.
    pub fn ensure_usable(&self) -> Result<()> {
        match &self.unusable {
            Some(reason) => Err(Error::Unusable(reason.clone())),
            None => Ok(()),
        }
    }

    async fn run(&mut self, operation: Operation<'_>, sink: Arc<dyn OutputSink>) -> Result<()> {
        self.ensure_usable()?;
        let result = self
            .instance
            .run(operation, sink, self.timeout)
            .await
            .map_err(Error::from);
        // A trap or an interruption poisons the instance, whatever the
        // error's kind (a memory limit hit inside the runtime traps too).
        if let Err(e) = &result
            && self.instance.is_poisoned()
        {
            self.unusable = Some(format!(
                "an earlier call failed ({e}); create a new sandbox"
            ));
        }
        result
    }
}

/// An argument in the engine's terms: the name and the CBOR value or stream.
fn engine_argument(arg: Arg) -> (Option<String>, ArgValue) {
    let cbor = |value: Value| ArgValue::Cbor(value.into_cbor());
    let ok_stream =
        |stream: super::ValueStream| boxed_stream(stream.map(|value| Ok(value.into_cbor())));
    let try_stream =
        |stream: super::TryValueStream| boxed_stream(stream.map(|item| item.map(Value::into_cbor)));
    match arg {
        Arg::Positional(value) => (None, cbor(value)),
        Arg::Named(name, value) => (Some(name), cbor(value)),
        Arg::PositionalStream(stream) => (None, ok_stream(stream)),
        Arg::NamedStream(name, stream) => (Some(name), ok_stream(stream)),
        Arg::PositionalTryStream(stream) => (None, try_stream(stream)),
        Arg::NamedTryStream(name, stream) => (Some(name), try_stream(stream)),
    }
}
