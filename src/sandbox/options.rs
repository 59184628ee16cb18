//! Per-template defaults and per-sandbox overrides.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use super::{Error, Result};

/// Access the guest gets to a host directory mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MountMode {
    /// The guest may read, never change (writes raise `PermissionError`).
    ReadOnly,
    /// The guest may read and write.
    ReadWrite,
}

/// The former name of [`MountMode`].
pub use MountMode as FsPerms;

/// Default cap on one emitted value or HTTP body: 16 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 16 << 20;
/// Default cap on everything one call emits (values, text, logs): 64 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 64 << 20;
/// Default cap on the host calls and HTTP requests one sandbox may have
/// unanswered at a time ([`SandboxOptions::max_pending_host_calls`]); more
/// fail at once in the guest (`sandbox.HostError`) without reaching the host.
pub const MAX_PENDING_HOST_CALLS: usize = 1024;
/// Default cap on the host-side objects one sandbox may hold at a time
/// ([`SandboxOptions::max_host_objects`]: pending host calls, HTTP bodies,
/// pollables, WASI streams and descriptors): each lives in host memory
/// outside the sandbox's memory limit. A guest asking for more traps; the
/// sandbox becomes unusable.
pub const MAX_HOST_RESOURCES: usize = 16_384;
/// The lowest cap [`SandboxOptions::max_host_objects`] accepts: the runtime
/// holds a few dozen objects (streams, descriptors) of its own.
const MIN_HOST_OBJECTS: usize = 64;
/// Default cap on the bytes of file contents in a sandbox's in-memory
/// scratch file system (`/tmp` and the home directory): 64 MiB.
pub const DEFAULT_MAX_SCRATCH_BYTES: u64 = 64 << 20;
/// Default cap on the files and directories in a sandbox's scratch file
/// system: 4096.
pub const DEFAULT_MAX_SCRATCH_FILES: u64 = 4096;
/// Default cap on the host files (in mounts) one sandbox may hold open: 128.
pub const DEFAULT_MAX_OPEN_FILES: usize = 128;
/// The guest's home and default working directory (in the scratch file system).
pub const GUEST_HOME: &str = "/home/user";

/// A host directory visible to the guest at `guest`.
#[derive(Clone, Debug)]
pub struct DirectoryMapping {
    /// Host directory.
    pub host: PathBuf,
    /// Absolute guest path it appears at.
    pub guest: String,
    /// Read-only or read-write.
    pub perms: MountMode,
    /// Most bytes the guest may add to a read-write mount (growth of the
    /// files it writes, less what it deletes); `None`: no quota. Going past
    /// it fails the write with `OSError(EDQUOT)`.
    pub quota: Option<u64>,
}

/// Options of a sandbox. Set on the template builder as defaults for every
/// sandbox, and per sandbox as overrides ([`SandboxOptions::merged_with`]).
#[derive(Clone, Debug, Default)]
pub struct SandboxOptions {
    pub(crate) max_memory: Option<usize>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_value_bytes: Option<usize>,
    pub(crate) max_output_bytes: Option<usize>,
    pub(crate) directory_mappings: Vec<DirectoryMapping>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) stdin: Option<bytes::Bytes>,
    pub(crate) argv: Option<Vec<String>>,
    pub(crate) max_scratch_bytes: Option<u64>,
    pub(crate) max_scratch_files: Option<u64>,
    pub(crate) max_open_files: Option<usize>,
    pub(crate) max_pending_host_calls: Option<usize>,
    pub(crate) max_host_objects: Option<usize>,
}

impl SandboxOptions {
    /// Cap this sandbox's linear memory at `max_memory` bytes; growth past it
    /// becomes a Python `MemoryError`.
    pub fn max_memory(&mut self, max_memory: usize) -> &mut Self {
        self.max_memory = Some(max_memory);
        self
    }

    /// Default time limit of each call (eval or call); `None` means none.
    pub fn timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.timeout = timeout;
        self
    }

    /// Cap on one emitted value and on one HTTP response body.
    pub fn max_value_bytes(&mut self, bytes: usize) -> &mut Self {
        self.max_value_bytes = Some(bytes);
        self
    }

    /// Cap on everything one call emits.
    pub fn max_output_bytes(&mut self, bytes: usize) -> &mut Self {
        self.max_output_bytes = Some(bytes);
        self
    }

    /// Mount a host directory at an absolute guest path. A later mount at
    /// the same guest path replaces an earlier one.
    pub fn mount(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        perms: MountMode,
    ) -> &mut Self {
        let mapping = DirectoryMapping {
            host: host_path.as_ref().to_path_buf(),
            guest: guest_path.as_ref().to_string(),
            perms,
            quota: None,
        };
        upsert_mount(&mut self.directory_mappings, mapping);
        self
    }

    /// Mount a host directory read-write with a byte quota: the guest may
    /// add at most `quota_bytes` to it (growth of files it writes, less
    /// what it deletes); past that writes fail with `OSError(EDQUOT)`.
    pub fn mount_with_quota(
        &mut self,
        host_path: impl AsRef<Path>,
        guest_path: impl AsRef<str>,
        quota_bytes: u64,
    ) -> &mut Self {
        let mapping = DirectoryMapping {
            host: host_path.as_ref().to_path_buf(),
            guest: guest_path.as_ref().to_string(),
            perms: MountMode::ReadWrite,
            quota: Some(quota_bytes),
        };
        upsert_mount(&mut self.directory_mappings, mapping);
        self
    }

    /// Cap the bytes of file contents in the sandbox's in-memory scratch
    /// file system (`/tmp`, the home directory); 0 removes the cap. Default
    /// [`DEFAULT_MAX_SCRATCH_BYTES`]. Going past it fails the guest's write
    /// with `OSError(ENOSPC)`; the sandbox carries on.
    pub fn max_scratch_bytes(&mut self, bytes: u64) -> &mut Self {
        self.max_scratch_bytes = Some(bytes);
        self
    }

    /// Cap the files and directories in the scratch file system; 0 removes
    /// the cap. Default [`DEFAULT_MAX_SCRATCH_FILES`]. Past it, creating one
    /// fails with `OSError(ENOSPC)`.
    pub fn max_scratch_files(&mut self, files: u64) -> &mut Self {
        self.max_scratch_files = Some(files);
        self
    }

    /// Cap the host files (inside mounts) the guest may hold open at once;
    /// 0 removes the cap (a process-wide cap of half the `RLIMIT_NOFILE`
    /// soft limit still applies). Default [`DEFAULT_MAX_OPEN_FILES`]. Past
    /// it, opening fails with an `OSError` (`EMFILE`: the host reports
    /// `ENOMEM`, as WASI has no `EMFILE`, and the guest's `open` and
    /// `os.open` map it back).
    pub fn max_open_files(&mut self, files: usize) -> &mut Self {
        self.max_open_files = Some(files);
        self
    }

    /// Cap the host calls and HTTP requests the guest may have unanswered
    /// at a time (at least 1). Default [`MAX_PENDING_HOST_CALLS`]. Past it
    /// a call fails at once in the guest (`sandbox.HostError`, "too many
    /// host calls") without reaching the host.
    pub fn max_pending_host_calls(&mut self, calls: usize) -> &mut Self {
        self.max_pending_host_calls = Some(calls.max(1));
        self
    }

    /// Cap the host-side objects the guest may hold at a time (pending host
    /// calls, HTTP bodies, pollables, WASI streams and descriptors; at
    /// least 64, what the runtime itself needs). Default
    /// [`MAX_HOST_RESOURCES`]. Asking for more traps the call with an error
    /// naming the cap; the sandbox becomes unusable.
    pub fn max_host_objects(&mut self, objects: usize) -> &mut Self {
        self.max_host_objects = Some(objects.max(MIN_HOST_OBJECTS));
        self
    }

    /// Set an environment variable visible to the guest (`os.environ`).
    /// Setting a key again replaces its value.
    pub fn env(&mut self, key: impl AsRef<str>, value: impl AsRef<str>) -> &mut Self {
        upsert_env(&mut self.env, key.as_ref(), value.as_ref());
        self
    }

    /// What the guest reads from its standard input (descriptor 0,
    /// `sys.stdin`, `input()`): these bytes, then end-of-file. They are
    /// read once over the sandbox's life, across calls. Without it stdin is
    /// empty (end-of-file at once).
    pub fn stdin(&mut self, data: impl Into<bytes::Bytes>) -> &mut Self {
        self.stdin = Some(data.into());
        self
    }

    /// The guest's `sys.argv`, as a program's command line: `argv[0]` is
    /// the program (script) name, the rest its arguments, so `argparse`
    /// and other command-line parsers in guest code see them. The strings
    /// are copied. Without it `sys.argv` is `['sandbox']`. Set per
    /// sandbox, it replaces the template's whole list.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `argv` is empty (Python always has
    /// a program name in `sys.argv[0]`) or a string contains a NUL byte,
    /// which no command line can hold; the options are unchanged then.
    pub fn argv<I, S>(&mut self, argv: I) -> Result<&mut Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let argv: Vec<String> = argv.into_iter().map(Into::into).collect();
        if argv.is_empty() {
            return Err(Error::InvalidArgument(
                "argv must hold at least the program name (argv[0])".into(),
            ));
        }
        if let Some(index) = argv.iter().position(|arg| arg.contains('\0')) {
            return Err(Error::InvalidArgument(format!(
                "argv[{index}] contains a NUL byte"
            )));
        }
        self.argv = Some(argv);
        Ok(self)
    }

    /// These options with `overrides` applied: scalar options set in
    /// `overrides` win (`argv` as a whole list), mounts replace by guest
    /// path, env replaces by key.
    #[must_use]
    pub fn merged_with(&self, overrides: &Self) -> Self {
        let mut merged = self.clone();
        merged.max_memory = overrides.max_memory.or(self.max_memory);
        merged.timeout = overrides.timeout.or(self.timeout);
        merged.max_value_bytes = overrides.max_value_bytes.or(self.max_value_bytes);
        merged.max_output_bytes = overrides.max_output_bytes.or(self.max_output_bytes);
        merged.max_scratch_bytes = overrides.max_scratch_bytes.or(self.max_scratch_bytes);
        merged.max_scratch_files = overrides.max_scratch_files.or(self.max_scratch_files);
        merged.max_open_files = overrides.max_open_files.or(self.max_open_files);
        merged.max_pending_host_calls = overrides
            .max_pending_host_calls
            .or(self.max_pending_host_calls);
        merged.max_host_objects = overrides.max_host_objects.or(self.max_host_objects);
        merged.stdin = overrides.stdin.clone().or_else(|| self.stdin.clone());
        merged.argv = overrides.argv.clone().or_else(|| self.argv.clone());
        for mapping in &overrides.directory_mappings {
            upsert_mount(&mut merged.directory_mappings, mapping.clone());
        }
        for (key, value) in &overrides.env {
            upsert_env(&mut merged.env, key, value);
        }
        merged
    }
}

impl SandboxOptions {
    /// The file system policy of a sandbox made with these options.
    pub(crate) fn vfs_config(&self) -> crate::engine::vfs::VfsConfig {
        use crate::engine::vfs::{FdLimits, MountConfig, ScratchCaps, VfsConfig};
        VfsConfig {
            scratch: ScratchCaps {
                max_bytes: self.max_scratch_bytes.unwrap_or(DEFAULT_MAX_SCRATCH_BYTES),
                max_files: self.max_scratch_files.unwrap_or(DEFAULT_MAX_SCRATCH_FILES),
            },
            fd_limits: FdLimits {
                per_sandbox: self.max_open_files.unwrap_or(DEFAULT_MAX_OPEN_FILES),
            },
            home: GUEST_HOME,
            mounts: self
                .directory_mappings
                .iter()
                .map(|m| MountConfig {
                    host: m.host.clone(),
                    guest: m.guest.clone(),
                    writable: m.perms == MountMode::ReadWrite,
                    quota: m.quota,
                })
                .collect(),
        }
    }
}

fn upsert_mount(mounts: &mut Vec<DirectoryMapping>, mapping: DirectoryMapping) {
    match mounts.iter_mut().find(|m| m.guest == mapping.guest) {
        Some(existing) => *existing = mapping,
        None => mounts.push(mapping),
    }
}

fn upsert_env(env: &mut Vec<(String, String)>, key: &str, value: &str) {
    match env.iter_mut().find(|(k, _)| k == key) {
        Some(existing) => value.clone_into(&mut existing.1),
        None => env.push((key.to_string(), value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_by_key_and_guest_path() {
        let mut base = SandboxOptions::default();
        base.env("A", "1").env("B", "2").max_memory(10);
        base.mount("/tmp", "/data", FsPerms::ReadOnly);
        let mut over = SandboxOptions::default();
        over.env("B", "3").env("C", "4");
        over.mount("/var", "/data", FsPerms::ReadWrite);
        let merged = base.merged_with(&over);
        assert_eq!(
            merged.env,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "3".into()),
                ("C".into(), "4".into())
            ]
        );
        assert_eq!(merged.directory_mappings.len(), 1);
        assert_eq!(merged.directory_mappings[0].host, PathBuf::from("/var"));
        assert_eq!(merged.max_memory, Some(10));
    }

    #[test]
    fn argv_is_validated_and_overridden_as_a_whole() {
        let mut base = SandboxOptions::default();
        base.argv(["tool.py", "--verbose", "in.txt"]).unwrap();
        let err = base.argv(Vec::<String>::new()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("argv[0]")),
            "{err}"
        );
        let err = base.argv(["tool.py", "a\0b"]).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("argv[1]")),
            "{err}"
        );
        // A refused list leaves the options as they were.
        assert_eq!(
            base.argv.as_deref(),
            Some(&["tool.py".to_string(), "--verbose".into(), "in.txt".into()][..])
        );
        let mut over = SandboxOptions::default();
        assert_eq!(base.merged_with(&over).argv, base.argv);
        over.argv(["other.py"]).unwrap();
        assert_eq!(
            base.merged_with(&over).argv,
            Some(vec!["other.py".to_string()])
        );
        assert_eq!(SandboxOptions::default().merged_with(&over).argv, over.argv);
    }
}
