//! Host directories mounted into the guest's tree: sandboxed path
//! resolution (cap-std: no `..`, absolute path or symlink leads outside the
//! mounted directory), the optional byte quota of a writable mount, and the
//! count of host file descriptors a sandbox holds.

use std::{
    collections::BTreeMap,
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{
        Arc, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use cap_std::fs::{Dir, OpenOptions};
use parking_lot::Mutex;

use super::{FsErr, MountConfig, mem::Ino};
use crate::engine::cache::FileIdentity;

/// Host paths the guest looked at through a mount, each with its identity
/// when first seen (`None`: it did not exist).
pub(crate) type ReadSet = BTreeMap<PathBuf, Option<FileIdentity>>;

/// Caps on the host file descriptors guest code can make the host hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdLimits {
    /// Most host files one sandbox may hold open at once (0: no cap).
    pub(crate) per_sandbox: usize,
}

/// Host files open through all sandboxes of the process.
static PROCESS_OPEN: AtomicUsize = AtomicUsize::new(0);

/// The most host files all sandboxes together may hold open: half of the
/// process's `RLIMIT_NOFILE` soft limit, so the host keeps descriptors of
/// its own whatever the guests do.
fn process_cap() -> usize {
    static CAP: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CAP.get_or_init(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct we pass.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } == 0;
        if !ok || limit.rlim_cur == libc::RLIM_INFINITY {
            return 1 << 20;
        }
        usize::try_from(limit.rlim_cur / 2)
            .unwrap_or(1 << 20)
            .max(16)
    })
}

/// Counts the host descriptors one sandbox holds.
#[derive(Debug)]
pub(crate) struct FdCounter {
    limits: FdLimits,
    open: AtomicUsize,
}

impl FdCounter {
    pub(crate) fn new(limits: FdLimits) -> Self {
        Self {
            limits,
            open: AtomicUsize::new(0),
        }
    }

    /// Host descriptors held now.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Reserve one descriptor, or refuse past a cap.
    fn acquire(self: &Arc<Self>) -> Result<FdSlot, FsErr> {
        let held = self.open.fetch_add(1, Ordering::Relaxed);
        if self.limits.per_sandbox != 0 && held >= self.limits.per_sandbox {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(FsErr::TooManyOpen);
        }
        let process = PROCESS_OPEN.fetch_add(1, Ordering::Relaxed);
        if process >= process_cap() {
            PROCESS_OPEN.fetch_sub(1, Ordering::Relaxed);
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(FsErr::TooManyOpen);
        }
        Ok(FdSlot {
            counter: Arc::clone(self),
        })
    }
}

/// One counted host descriptor; dropping it returns the slot.
#[derive(Debug)]
struct FdSlot {
    counter: Arc<FdCounter>,
}

impl Drop for FdSlot {
    fn drop(&mut self) {
        self.counter.open.fetch_sub(1, Ordering::Relaxed);
        PROCESS_OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A host directory attached to the guest's tree.
#[derive(Debug)]
pub(crate) struct Mount {
    dir: Dir,
    pub(crate) writable: bool,
    quota: Option<u64>,
    /// Bytes the guest added (net of what it removed, never below zero).
    added: AtomicU64,
    /// The in-memory directory holding the mount point (target of `..`).
    pub(crate) parent: Ino,
    fds: Arc<FdCounter>,
    /// The host directory, for [`Mount::note_read`].
    host: PathBuf,
    /// What the guest looked at, once recording started (only while a
    /// prelude runs for its snapshot: the snapshot depends on these files).
    reads: OnceLock<Mutex<ReadSet>>,
}

/// A host file open in the guest.
#[derive(Debug)]
pub(crate) struct HostFile {
    pub(crate) file: std::fs::File,
    pub(crate) mount: Arc<Mount>,
    _slot: FdSlot,
}

/// What opening a path inside a mount gave.
pub(crate) enum Opened {
    Dir,
    File(Arc<HostFile>),
}

/// How to open a host path.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OpenRequest {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) create: bool,
    pub(crate) exclusive: bool,
    pub(crate) truncate: bool,
    pub(crate) directory: bool,
}

impl Mount {
    pub(crate) fn open(
        config: &MountConfig,
        parent: Ino,
        fds: Arc<FdCounter>,
    ) -> std::io::Result<Self> {
        let dir = Dir::open_ambient_dir(&config.host, cap_std::ambient_authority())?;
        Ok(Self {
            dir,
            writable: config.writable,
            quota: config.quota,
            added: AtomicU64::new(0),
            parent,
            fds,
            host: config.host.clone(),
            reads: OnceLock::new(),
        })
    }

    /// Record from now on which host paths the guest looks at.
    pub(crate) fn record_reads(&self) {
        let _ = self.reads.set(Mutex::new(ReadSet::new()));
    }

    /// The host paths looked at since [`Mount::record_reads`].
    pub(crate) fn reads(&self) -> ReadSet {
        self.reads
            .get()
            .map_or_else(ReadSet::new, |reads| reads.lock().clone())
    }

    /// Note that the guest looked at `rel` (opened, listed or examined it),
    /// with the identity it has now, when recording.
    fn note_read(&self, rel: &Path) {
        let Some(reads) = self.reads.get() else {
            return;
        };
        let path = if rel.as_os_str().is_empty() || rel.as_os_str() == "." {
            self.host.clone()
        } else {
            self.host.join(rel)
        };
        reads
            .lock()
            .entry(path)
            .or_insert_with_key(|path| FileIdentity::of_path(path));
    }

    fn check_writable(&self) -> Result<(), FsErr> {
        if self.writable {
            Ok(())
        } else {
            // EACCES: Python raises PermissionError, as for a file the
            // user may not write.
            Err(FsErr::Access)
        }
    }

    /// The mount's quota and the bytes the guest added against it, or
    /// `None` without a quota.
    pub(crate) fn quota_use(&self) -> Option<(u64, u64)> {
        self.quota.map(|q| (q, self.added.load(Ordering::Relaxed)))
    }

    /// Account for `bytes` more data in the mount, or refuse past the quota.
    pub(crate) fn charge(&self, bytes: u64) -> Result<(), FsErr> {
        if bytes == 0 {
            return Ok(());
        }
        let Some(quota) = self.quota else {
            return Ok(());
        };
        let mut current = self.added.load(Ordering::Relaxed);
        loop {
            let next = current.checked_add(bytes).ok_or(FsErr::Quota)?;
            if next > quota {
                return Err(FsErr::Quota);
            }
            match self
                .added
                .compare_exchange(current, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// Account for `bytes` of data removed from the mount.
    pub(crate) fn refund(&self, bytes: u64) {
        if self.quota.is_some() && bytes != 0 {
            let _ = self
                .added
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                    Some(v.saturating_sub(bytes))
                });
        }
    }

    /// Open `rel` as a directory or a file.
    pub(crate) fn open_at(self: &Arc<Self>, rel: &Path, req: OpenRequest) -> Result<Opened, FsErr> {
        // What is only written (a log the prelude appends to) is not read.
        if req.read || !req.write {
            self.note_read(rel);
        }
        let existing = self.dir.metadata(rel);
        if let Ok(meta) = &existing
            && meta.is_dir()
        {
            if req.create && req.exclusive {
                return Err(FsErr::Exist);
            }
            if req.write || req.truncate {
                return Err(FsErr::IsDirectory);
            }
            return Ok(Opened::Dir);
        }
        if req.directory {
            return Err(match existing {
                Ok(_) => FsErr::NotDirectory,
                Err(e) => FsErr::from_io(&e),
            });
        }
        if req.write || req.create || req.truncate {
            self.check_writable()?;
        }
        let slot = self.fds.acquire()?;
        let mut options = OpenOptions::new();
        options
            .read(req.read || !req.write)
            .write(req.write)
            .create(req.create && !req.exclusive)
            .create_new(req.create && req.exclusive);
        let old_size = match (&existing, req.truncate) {
            (Ok(meta), true) => meta.len(),
            _ => 0,
        };
        let file = self.dir.open_with(rel, &options)?.into_std();
        if req.truncate {
            file.set_len(0)?;
            self.refund(old_size);
        }
        Ok(Opened::File(Arc::new(HostFile {
            file,
            mount: Arc::clone(self),
            _slot: slot,
        })))
    }

    /// Metadata of `rel`, following symlinks (inside the mount) or not.
    pub(crate) fn metadata(
        &self,
        rel: &Path,
        follow: bool,
    ) -> Result<cap_std::fs::Metadata, FsErr> {
        self.note_read(rel);
        let meta = if follow {
            self.dir.metadata(rel)
        } else {
            self.dir.symlink_metadata(rel)
        };
        Ok(meta?)
    }

    /// Entries of directory `rel`: names and metadata (not following symlinks).
    pub(crate) fn entries(
        &self,
        rel: &Path,
    ) -> Result<Vec<(String, cap_std::fs::FileType)>, FsErr> {
        self.note_read(rel);
        let mut out = Vec::new();
        let reader = if rel.as_os_str() == "." {
            self.dir.entries()?
        } else {
            self.dir.read_dir(rel)?
        };
        for entry in reader {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            out.push((name, entry.file_type()?));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    pub(crate) fn create_dir(&self, rel: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        Ok(self.dir.create_dir(rel)?)
    }

    pub(crate) fn remove_dir(&self, rel: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        if rel.as_os_str() == "." {
            return Err(FsErr::Busy);
        }
        Ok(self.dir.remove_dir(rel)?)
    }

    pub(crate) fn unlink(&self, rel: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        let meta = self.dir.symlink_metadata(rel)?;
        if meta.is_dir() {
            return Err(FsErr::IsDirectory);
        }
        self.dir.remove_file(rel)?;
        if meta.is_file() && cap_std::fs::MetadataExt::nlink(&meta) <= 1 {
            self.refund(meta.len());
        }
        Ok(())
    }

    pub(crate) fn rename(&self, from: &Path, to: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        let replaced = self.dir.symlink_metadata(to).ok();
        self.dir.rename(from, &self.dir, to)?;
        if let Some(meta) = replaced
            && meta.is_file()
        {
            self.refund(meta.len());
        }
        Ok(())
    }

    pub(crate) fn read_link(&self, rel: &Path) -> Result<String, FsErr> {
        self.note_read(rel);
        let target = self.dir.read_link_contents(rel)?;
        target
            .into_os_string()
            .into_string()
            .map_err(|_| FsErr::Invalid)
    }

    pub(crate) fn symlink(&self, target: &str, rel: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        Ok(self.dir.symlink_contents(target, rel)?)
    }

    pub(crate) fn hard_link(&self, from: &Path, to: &Path) -> Result<(), FsErr> {
        self.check_writable()?;
        Ok(self.dir.hard_link(from, &self.dir, to)?)
    }

    pub(crate) fn set_times(
        &self,
        rel: &Path,
        accessed: Option<std::time::SystemTime>,
        modified: Option<std::time::SystemTime>,
    ) -> Result<(), FsErr> {
        self.check_writable()?;
        // Opened for reading, a directory too: `open_dir` gives an
        // `O_PATH` descriptor, on which Linux's futimens fails (EBADF).
        let file = self
            .dir
            .open_with(rel, OpenOptions::new().read(true))?
            .into_std();
        set_file_times(&file, accessed, modified)
    }
}

/// Set a host file's times (`None`: unchanged).
pub(crate) fn set_file_times(
    file: &std::fs::File,
    accessed: Option<std::time::SystemTime>,
    modified: Option<std::time::SystemTime>,
) -> Result<(), FsErr> {
    let mut times = std::fs::FileTimes::new();
    if let Some(t) = accessed {
        times = times.set_accessed(t);
    }
    if let Some(t) = modified {
        times = times.set_modified(t);
    }
    Ok(file.set_times(times)?)
}

impl HostFile {
    /// Read up to `len` bytes at `offset`.
    pub(crate) fn read_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, FsErr> {
        let mut buf = vec![0; len.min(super::MAX_READ)];
        let n = self.file.read_at(&mut buf, offset)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Write all of `bytes` at `offset` (`None`: at the end), charging the
    /// mount's quota for growth. Returns the offset after the write.
    pub(crate) fn write_at(&self, offset: Option<u64>, bytes: &[u8]) -> Result<u64, FsErr> {
        self.mount.check_writable()?;
        let size = self.file.metadata()?.len();
        let offset = offset.unwrap_or(size);
        let end = offset
            .checked_add(bytes.len() as u64)
            .ok_or(FsErr::FileTooLarge)?;
        self.mount.charge(end.saturating_sub(size))?;
        if let Err(e) = self.file.write_all_at(bytes, offset) {
            self.mount.refund(end.saturating_sub(size));
            return Err(e.into());
        }
        Ok(end)
    }

    /// Resize to `size`, charging or refunding the quota.
    pub(crate) fn set_size(&self, size: u64) -> Result<(), FsErr> {
        self.mount.check_writable()?;
        let current = self.file.metadata()?.len();
        if size > current {
            self.mount.charge(size - current)?;
        }
        self.file.set_len(size)?;
        if size < current {
            self.mount.refund(current - size);
        }
        Ok(())
    }
}
