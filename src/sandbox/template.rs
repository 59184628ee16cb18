//! Compiled, shareable templates that sandboxes are instantiated from.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{
    Error, Result, Sandbox,
    options::{MountMode, SandboxOptions},
};
use crate::{
    engine::{cache, instance::Runtime, preinit},
    host::Host,
};

/// Where the template's cache lives.
#[derive(Debug, Clone, Default)]
enum CacheSetting {
    #[default]
    Default,
    Disabled,
    Dir(PathBuf),
}

/// Builder of a [`SandboxTemplate`]: runtime defaults for every sandbox made
/// from the template.
#[derive(Debug, Default)]
pub struct SandboxTemplateBuilder {
    cache: CacheSetting,
    base_options: SandboxOptions,
    prelude: Option<String>,
    prelude_snapshot: bool,
}

impl SandboxTemplateBuilder {
    /// Directory for compiled artifacts; `None` disables the cache. Without
    /// this call the default directory is used (`$ISOLA_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/isola`, else `~/.cache/isola`).
    #[must_use]
    pub fn cache(mut self, cache: Option<PathBuf>) -> Self {
        self.cache = cache.map_or(CacheSetting::Disabled, CacheSetting::Dir);
        self
    }

    /// Default memory cap of each sandbox, in bytes.
    #[must_use]
    pub fn max_memory(mut self, max_memory: usize) -> Self {
        self.base_options.max_memory(max_memory);
        self
    }

    /// Default time limit of each call.
    #[must_use]
    pub fn timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.base_options.timeout(timeout);
        self
    }

    /// Mount a host directory in every sandbox.
    #[must_use]
    pub fn mount(
        mut self,
        host_path: impl AsRef<std::path::Path>,
        guest_path: impl AsRef<str>,
        perms: MountMode,
    ) -> Self {
        self.base_options.mount(host_path, guest_path, perms);
        self
    }

    /// Set an environment variable in every sandbox.
    #[must_use]
    pub fn env(mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> Self {
        self.base_options.env(key, value);
        self
    }

    /// Replace all defaults at once.
    #[must_use]
    pub fn options(mut self, options: SandboxOptions) -> Self {
        self.base_options = options;
        self
    }

    /// Python source run in every sandbox before its first call; the names
    /// it defines are visible to guest code.
    #[must_use]
    pub fn prelude(mut self, prelude: Option<String>) -> Self {
        self.prelude = prelude;
        self
    }

    /// Run the prelude once, at template build, and start every sandbox
    /// of the template from a snapshot taken after it, instead of running
    /// it in each sandbox (off by default; nothing changes without a
    /// prelude).
    ///
    /// What the prelude leaves in memory (imported modules, definitions,
    /// data) is in every sandbox. It runs with the template's options, not
    /// a sandbox's overrides; `os.environ` is each sandbox's own, and
    /// `random` is reseeded per sandbox. A prelude that leaves behind what
    /// a snapshot cannot keep (open files, unfinished tasks, host call
    /// futures, files in the scratch file system; files written to a
    /// mount are fine, the host keeps them) is refused
    /// ([`Error::InvalidArgument`]), and a prelude that raises fails the
    /// build with its error.
    ///
    /// Cost: on the first build of a given runtime, prelude and template
    /// settings, two compiles of the whole runtime (tens of seconds for
    /// the Python runtime; one of them is shared by all preludes of the
    /// runtime); with a cache directory later builds map the result from
    /// the cache. Host files the prelude read through mounts are inputs
    /// too: a build after one of them changed runs the prelude again.
    #[must_use]
    pub fn prelude_snapshot(mut self, enabled: bool) -> Self {
        self.prelude_snapshot = enabled;
        self
    }

    /// Build from a runtime component file.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read, [`Error::InvalidArgument`]
    /// when it is not a usable runtime component. With
    /// [`SandboxTemplateBuilder::prelude_snapshot`], the prelude's error
    /// when it fails, and [`Error::InvalidArgument`] when it leaves
    /// resources behind.
    pub async fn build(self, wasm: impl AsRef<std::path::Path>) -> Result<SandboxTemplate> {
        let path = wasm.as_ref();
        let cache_dir = self.cache_dir();
        // An unchanged file whose compiled form is cached is neither read
        // nor hashed (engine/cache.rs: source stamps).
        if let Some(dir) = &cache_dir
            && let Some(digest) = cache::stamped_source_digest(dir, path)
            && let Some(runtime) = self.load_cached(&digest, dir)?
        {
            return Ok(self.with_runtime(runtime));
        }
        let (bytes, digest) = cache::read_source(path, cache_dir.as_deref()).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("reading runtime {}: {e}", path.display()),
            ))
        })?;
        self.build_from_bytes(&bytes, &digest).await
    }

    /// Build from the Python runtime embedded in this library.
    ///
    /// # Errors
    /// As [`SandboxTemplateBuilder::build`].
    #[cfg(feature = "embedded-runtime")]
    pub async fn build_embedded(self) -> Result<SandboxTemplate> {
        let (bytes, digest) = super::embedded::runtime();
        self.build_from_bytes(bytes, &digest).await
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        match &self.cache {
            CacheSetting::Default => cache::default_dir(),
            CacheSetting::Disabled => None,
            CacheSetting::Dir(dir) => Some(dir.clone()),
        }
    }

    /// The prelude, when it is to be snapshotted.
    fn snapshotted_prelude(&self) -> Option<&str> {
        self.prelude.as_deref().filter(|_| self.prelude_snapshot)
    }

    /// Where the compiled runtime of this template is cached: under the
    /// runtime's digest, or, with a prelude snapshot, under a key of the
    /// runtime, the prelude and the settings the prelude runs with.
    fn cache_key(&self, runtime_digest: &[u8; 32]) -> [u8; 32] {
        let Some(prelude) = self.snapshotted_prelude() else {
            return *runtime_digest;
        };
        let options = &self.base_options;
        let mut settings = format!(
            "{:?}\n{:?}\n{:?}",
            options.env,
            options.vfs_config(),
            options.stdin
        );
        // The prelude sees the template's sys.argv too. Appended only when
        // set, so the keys of snapshots taken without one stay as they were.
        if let Some(argv) = &options.argv {
            settings.push_str(&format!("\n{argv:?}"));
        }
        preinit::snapshot_key(runtime_digest, prelude, &settings)
    }

    /// This template's compiled runtime for the runtime with SHA-256
    /// `digest`, if `dir` holds it (and, with a prelude snapshot, the host
    /// files the prelude read are unchanged); compiles nothing.
    fn load_cached(&self, digest: &[u8; 32], dir: &Path) -> Result<Option<Runtime>> {
        Ok(if self.snapshotted_prelude().is_some() {
            preinit::load_cached_snapshot(&self.cache_key(digest), dir)?
        } else {
            Runtime::load_cached(digest, dir)?
        })
    }

    async fn build_from_bytes(self, wasm: &[u8], digest: &[u8; 32]) -> Result<SandboxTemplate> {
        let cache_dir = self.cache_dir();
        let Some(prelude) = self.snapshotted_prelude() else {
            let runtime = Runtime::load(wasm, digest, cache_dir.as_deref())?;
            return Ok(self.with_runtime(runtime));
        };
        if let Some(dir) = &cache_dir
            && let Some(runtime) = self.load_cached(digest, dir)?
        {
            return Ok(self.with_runtime(runtime));
        }
        let options = &self.base_options;
        let vfs = options.vfs_config();
        let config = super::instance::instance_config(options, &vfs);
        let runtime = preinit::snapshot_prelude(
            wasm,
            &self.cache_key(digest),
            cache_dir.as_deref(),
            prelude,
            &config,
            options.timeout,
        )
        .await?;
        Ok(self.with_runtime(runtime))
    }

    fn with_runtime(self, runtime: Runtime) -> SandboxTemplate {
        // A snapshotted prelude has run already: sandboxes start after it.
        let prelude_snapshotted = self.snapshotted_prelude().is_some();
        SandboxTemplate {
            inner: Arc::new(TemplateInner {
                runtime,
                base_options: self.base_options,
                prelude: if prelude_snapshotted {
                    None
                } else {
                    self.prelude
                },
                prelude_snapshotted,
            }),
        }
    }
}

pub(crate) struct TemplateInner {
    pub(crate) runtime: Runtime,
    pub(crate) base_options: SandboxOptions,
    /// Run in each new sandbox (`None` when there is none or it was
    /// snapshotted).
    pub(crate) prelude: Option<String>,
    /// The runtime is a snapshot taken after the template's prelude.
    prelude_snapshotted: bool,
}

/// A compiled runtime plus defaults. Immutable, cheap to clone, and safe to
/// share across threads; every sandbox made from it is isolated.
#[derive(Clone)]
pub struct SandboxTemplate {
    pub(crate) inner: Arc<TemplateInner>,
}

impl std::fmt::Debug for SandboxTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxTemplate")
            .field("base_options", &self.inner.base_options)
            .field("prelude_snapshotted", &self.inner.prelude_snapshotted)
            .finish_non_exhaustive()
    }
}

impl SandboxTemplate {
    /// Start building a template.
    #[must_use]
    pub fn builder() -> SandboxTemplateBuilder {
        SandboxTemplateBuilder::default()
    }

    /// The template's default options.
    #[must_use]
    pub fn base_options(&self) -> &SandboxOptions {
        &self.inner.base_options
    }

    /// Create an isolated sandbox. `options` override the template defaults
    /// ([`SandboxOptions::merged_with`]). Runs the prelude, if any and not
    /// snapshotted ([`SandboxTemplateBuilder::prelude_snapshot`]).
    ///
    /// # Errors
    /// [`Error::Io`] for unusable mounts, [`Error::MemoryLimit`] when the
    /// runtime does not fit the memory cap, [`Error::UserCode`] when the
    /// prelude raises.
    pub async fn instantiate(&self, host: impl Host, options: &SandboxOptions) -> Result<Sandbox> {
        Sandbox::new(Arc::clone(&self.inner), Arc::new(host), options).await
    }

    /// As [`SandboxTemplate::instantiate`] with a shared host object.
    ///
    /// # Errors
    /// As [`SandboxTemplate::instantiate`].
    pub async fn instantiate_shared(
        &self,
        host: Arc<dyn Host>,
        options: &SandboxOptions,
    ) -> Result<Sandbox> {
        Sandbox::new(Arc::clone(&self.inner), host, options).await
    }
}
