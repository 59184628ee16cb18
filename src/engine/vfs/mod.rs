//! The guest's file system: one tree rooted at `/`, preopened as the only
//! directory, that joins an in-memory part (the root, `/dev`, the scratch
//! directories `/tmp` and the home directory) with host directories mounted
//! at guest paths.
//!
//! Implements `wasi:filesystem/{types,preopens}` in place of wasmtime-wasi's
//! host-directory implementation ([`add_to_linker`]). Policy (caps, quotas,
//! the mount list) comes from [`VfsConfig`]; this module only enforces it.

mod bindings;
mod hostfs;
mod mem;
mod streams;
mod wasi;

use std::{
    collections::{BTreeMap, VecDeque},
    path::{Path, PathBuf},
    sync::Arc,
};

use parking_lot::Mutex;

use hostfs::{FdCounter, Mount};
pub(crate) use hostfs::{FdLimits, ReadSet};
pub(crate) use mem::ScratchCaps;
use mem::{Device, Ino, MemFs, NodeKind, ROOT};
pub(crate) use wasi::add_to_linker;

/// Symbolic links one path resolution may follow before it fails with
/// `ELOOP` (Linux's limit).
const MAX_SYMLINK_HOPS: u32 = 40;

/// Errors of file system operations, as the guest sees them (each maps to
/// one `wasi:filesystem` error code, hence one errno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FsErr {
    Access,
    BadDescriptor,
    Busy,
    CrossDevice,
    Exist,
    FileTooLarge,
    Invalid,
    Io,
    IsDirectory,
    Loop,
    NameTooLong,
    NoEntry,
    /// A scratch cap was hit (ENOSPC).
    NoSpace,
    NotDirectory,
    NotEmpty,
    NotPermitted,
    /// A mount's byte quota was hit (EDQUOT).
    Quota,
    ReadOnly,
    /// The sandbox holds as many host descriptors as it may.
    TooManyOpen,
    Unsupported,
}

impl FsErr {
    /// The error of a failed host operation.
    pub(crate) fn from_io(e: &std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::EACCES) => Self::Access,
            Some(libc::EBUSY) => Self::Busy,
            Some(libc::EXDEV) => Self::CrossDevice,
            Some(libc::EEXIST) => Self::Exist,
            Some(libc::EFBIG) => Self::FileTooLarge,
            Some(libc::EINVAL) => Self::Invalid,
            Some(libc::EISDIR) => Self::IsDirectory,
            Some(libc::ELOOP) => Self::Loop,
            Some(libc::ENAMETOOLONG) => Self::NameTooLong,
            Some(libc::ENOENT) => Self::NoEntry,
            Some(libc::ENOSPC) => Self::NoSpace,
            Some(libc::ENOTDIR) => Self::NotDirectory,
            Some(libc::ENOTEMPTY) => Self::NotEmpty,
            Some(libc::EPERM) => Self::NotPermitted,
            Some(libc::EDQUOT) => Self::Quota,
            Some(libc::EROFS) => Self::ReadOnly,
            Some(libc::EMFILE | libc::ENFILE) => Self::TooManyOpen,
            Some(libc::ENOTSUP) => Self::Unsupported,
            _ => match e.kind() {
                std::io::ErrorKind::NotFound => Self::NoEntry,
                std::io::ErrorKind::PermissionDenied => Self::NotPermitted,
                std::io::ErrorKind::AlreadyExists => Self::Exist,
                std::io::ErrorKind::InvalidInput => Self::Invalid,
                _ => Self::Io,
            },
        }
    }

    /// A short description, for host-side error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Access => "permission denied",
            Self::BadDescriptor => "bad descriptor",
            Self::Busy => "busy (a mount point or built-in directory)",
            Self::CrossDevice => "cannot move between mounts",
            Self::Exist => "already exists",
            Self::FileTooLarge => "file too large",
            Self::Invalid => "invalid path or argument",
            Self::Io => "input/output error",
            Self::IsDirectory => "is a directory",
            Self::Loop => "too many levels of symbolic links",
            Self::NameTooLong => "name too long",
            Self::NoEntry => "no such file or directory",
            Self::NoSpace => "scratch file system is full",
            Self::NotDirectory => "not a directory",
            Self::NotEmpty => "directory not empty",
            Self::NotPermitted => "operation not permitted",
            Self::Quota => "mount quota exceeded",
            Self::ReadOnly => "read-only file system",
            Self::TooManyOpen => "too many open host files",
            Self::Unsupported => "not supported",
        }
    }
}

impl From<std::io::Error> for FsErr {
    fn from(e: std::io::Error) -> Self {
        Self::from_io(&e)
    }
}

/// A host directory to mount, as the sandbox options describe it.
#[derive(Debug, Clone)]
pub(crate) struct MountConfig {
    /// Host directory.
    pub(crate) host: PathBuf,
    /// Absolute guest path.
    pub(crate) guest: String,
    /// Whether the guest may change it.
    pub(crate) writable: bool,
    /// Most bytes the guest may add to it (`None`: no quota).
    pub(crate) quota: Option<u64>,
}

/// Everything the file system of one sandbox is built from.
#[derive(Debug, Clone)]
pub(crate) struct VfsConfig {
    pub(crate) scratch: ScratchCaps,
    pub(crate) fd_limits: FdLimits,
    /// The home directory (a scratch directory, the default cwd).
    pub(crate) home: &'static str,
    pub(crate) mounts: Vec<MountConfig>,
}

/// Why a sandbox's file system could not be built.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VfsBuildError {
    /// A guest path is not absolute or clashes with a built-in path.
    #[error("{0}")]
    InvalidMount(String),
    /// A host directory could not be opened.
    #[error("mounting {host} at {guest}: {source}")]
    Open {
        host: String,
        guest: String,
        source: std::io::Error,
    },
}

/// Why a host-side file operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileApiError {
    /// The path is not in the scratch file system (or is malformed).
    #[error("{0}")]
    InvalidPath(String),
    /// The file system refused the operation.
    #[error("{path}: {}", .err.describe())]
    Fs { path: String, err: FsErr },
}

impl FileApiError {
    /// Whether the error means "no such file or directory".
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(
            self,
            Self::Fs {
                err: FsErr::NoEntry,
                ..
            }
        )
    }

    /// Whether a scratch cap refused the operation.
    pub(crate) fn is_no_space(&self) -> bool {
        matches!(
            self,
            Self::Fs {
                err: FsErr::NoSpace,
                ..
            }
        )
    }
}

/// The kind of a directory entry listed by [`Vfs::list_dir`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Directory,
    Other,
}

/// The file system of one sandbox (held in its store).
pub(crate) struct Vfs {
    mem: Arc<Mutex<MemFs>>,
    mounts: Vec<Arc<Mount>>,
    fds: Arc<FdCounter>,
    home: &'static str,
}

impl std::fmt::Debug for Vfs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vfs")
            .field("mounts", &self.mounts.len())
            .finish_non_exhaustive()
    }
}

/// Size and use of one of the sandbox's file systems ([`Vfs::fs_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FsUsage {
    /// Bytes of file contents it may hold; 0: no cap.
    pub(crate) max_bytes: u64,
    /// Bytes of file contents it holds (a mount: that the guest added).
    pub(crate) used_bytes: u64,
    /// Files and directories it may hold; 0: no cap or not known.
    pub(crate) max_files: u64,
    /// Files and directories it holds (0 for a mount).
    pub(crate) used_files: u64,
    /// The guest may not write there.
    pub(crate) read_only: bool,
}

/// Where a path leads.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// In the in-memory tree: the directory holding it, its name there
    /// (`None` for a directory reached as `.`), and the node if it exists.
    Mem {
        parent: Ino,
        name: Option<String>,
        ino: Option<Ino>,
    },
    /// Inside host mount `mount`, at `rel` (empty: the mount's root).
    Host { mount: usize, rel: PathBuf },
}

/// Where a directory descriptor points.
#[derive(Debug, Clone)]
pub(crate) enum DirLoc {
    Mem(Ino),
    Host { mount: usize, rel: PathBuf },
}

fn split_guest_path(guest: &str) -> Result<Vec<&str>, VfsBuildError> {
    if !guest.starts_with('/') {
        return Err(VfsBuildError::InvalidMount(format!(
            "guest mount path '{guest}' must be absolute"
        )));
    }
    let parts: Vec<&str> = guest.split('/').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(VfsBuildError::InvalidMount(format!(
            "guest mount path '{guest}' must not contain '.' or '..'"
        )));
    }
    if parts.is_empty() {
        return Err(VfsBuildError::InvalidMount(
            "cannot mount a host directory at '/'; choose a directory such as /data".into(),
        ));
    }
    if parts[0] == "dev" {
        return Err(VfsBuildError::InvalidMount(format!(
            "guest mount path '{guest}' is inside the built-in /dev"
        )));
    }
    Ok(parts)
}

/// `/etc/localtime`: the TZif data of the IANA zone `Etc/UTC` (114 bytes,
/// as tzdata ships it), the local time of a sandbox without `TZ`.
const ETC_LOCALTIME: &[u8] = concat!(
    "\x54\x5a\x69\x66\x32\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    "\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x00",
    "\x00\x00\x55\x54\x43\x00\x54\x5a\x69\x66\x32\x00\x00\x00\x00\x00",
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00",
    "\x00\x04\x00\x00\x00\x00\x00\x00\x55\x54\x43\x00\x0a\x55\x54\x43",
    "\x30\x0a"
)
.as_bytes();

/// `/etc/localtime` and `/etc/timezone` as on a Linux machine set to UTC,
/// read-only, for programs that look for the local zone there (dateutil's
/// `tz.gettz()`, tzlocal's `get_localzone()`, which warned that it found
/// no configuration). Skipped where a mount takes those paths.
fn add_etc(fs: &mut MemFs) {
    let etc = fs.add_builtin(ROOT, "etc", dir_kind(false));
    if !matches!(fs.node(etc).map(|n| &n.kind), Ok(NodeKind::Dir { .. })) {
        return;
    }
    fs.add_builtin(
        etc,
        "localtime",
        NodeKind::File {
            data: ETC_LOCALTIME.to_vec(),
        },
    );
    fs.add_builtin(
        etc,
        "timezone",
        NodeKind::File {
            data: b"Etc/UTC\n".to_vec(),
        },
    );
}

fn dir_kind(writable: bool) -> NodeKind {
    NodeKind::Dir {
        entries: BTreeMap::new(),
        parent: ROOT,
        writable,
    }
}

impl Vfs {
    /// Build the tree: built-in directories and devices, then each mount,
    /// then `/etc`'s files where no mount took their place.
    pub(crate) fn new(config: &VfsConfig) -> Result<Self, VfsBuildError> {
        let mut fs = MemFs::new(config.scratch);
        let dev = fs.add_builtin(ROOT, "dev", dir_kind(false));
        fs.add_builtin(dev, "null", NodeKind::Device(Device::Null));
        fs.add_builtin(dev, "zero", NodeKind::Device(Device::Zero));
        fs.add_builtin(dev, "urandom", NodeKind::Device(Device::Urandom));
        fs.add_builtin(dev, "random", NodeKind::Device(Device::Urandom));
        fs.add_builtin(ROOT, "tmp", dir_kind(true));
        let mut home = ROOT;
        for part in config.home.split('/').filter(|p| !p.is_empty()) {
            home = fs.add_builtin(home, part, dir_kind(false));
        }
        fs.set_kind(
            home,
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: fs.parent(home).unwrap_or(ROOT),
                writable: true,
            },
        );

        let fds = Arc::new(FdCounter::new(config.fd_limits));
        let mut mounts = Vec::with_capacity(config.mounts.len());
        for (index, mount) in config.mounts.iter().enumerate() {
            let parts = split_guest_path(&mount.guest)?;
            let (last, parents) = parts.split_last().expect("non-empty");
            let mut dir = ROOT;
            for part in parents {
                dir = match fs.lookup(dir, part).ok().flatten() {
                    Some(existing)
                        if matches!(
                            fs.node(existing).map(|n| &n.kind),
                            Ok(NodeKind::Dir { .. })
                        ) =>
                    {
                        existing
                    }
                    Some(_) => {
                        return Err(VfsBuildError::InvalidMount(format!(
                            "guest mount path '{}' is inside another mount",
                            mount.guest
                        )));
                    }
                    None => fs.add_builtin(dir, part, dir_kind(false)),
                };
            }
            let point = match fs.lookup(dir, last).ok().flatten() {
                Some(existing) => existing,
                None => fs.add_builtin(dir, last, dir_kind(false)),
            };
            if matches!(fs.node(point).map(|n| &n.kind), Ok(NodeKind::Dir { entries, .. }) if !entries.is_empty())
            {
                return Err(VfsBuildError::InvalidMount(format!(
                    "guest mount path '{}' would hide other mounts below it",
                    mount.guest
                )));
            }
            fs.set_kind(point, NodeKind::Mount(index));
            let opened = Mount::open(mount, dir, Arc::clone(&fds)).map_err(|source| {
                VfsBuildError::Open {
                    host: mount.host.display().to_string(),
                    guest: mount.guest.clone(),
                    source,
                }
            })?;
            mounts.push(Arc::new(opened));
        }
        add_etc(&mut fs);
        Ok(Self {
            mem: Arc::new(Mutex::new(fs)),
            mounts,
            fds,
            home: config.home,
        })
    }

    /// Resolve `path` (relative, as WASI gives it) from directory `start`.
    /// `..` is resolved by name: it never leaves `/`, and leaving a mount's
    /// root returns to the in-memory tree. Symbolic links of the in-memory
    /// tree are followed inside the path always, and as its last component
    /// when `follow` is set (at most [`MAX_SYMLINK_HOPS`] of them, else
    /// `ELOOP`); an absolute link target starts again at the guest's `/`.
    /// Links inside a mount are the mount's own (cap-std keeps them there).
    pub(crate) fn resolve(
        &self,
        start: &DirLoc,
        path: &str,
        follow: bool,
    ) -> Result<Target, FsErr> {
        if path.starts_with('/') {
            return Err(FsErr::NotPermitted);
        }
        let mem = self.mem.lock();
        let mut host: Option<(usize, Vec<String>)> = None;
        let mut cur = ROOT;
        match start {
            DirLoc::Mem(ino) => cur = *ino,
            DirLoc::Host { mount, rel } => {
                let parts = rel
                    .components()
                    .filter_map(|c| match c {
                        std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                        _ => None,
                    })
                    .collect();
                host = Some((*mount, parts));
            }
        }
        let mut pending: VecDeque<String> = path.split('/').map(str::to_string).collect();
        let mut hops = 0;
        let mut last_name: Option<String> = None;
        let mut last_ino: Option<Ino> = Some(cur);
        let mut parent = mem.parent(cur).unwrap_or(ROOT);
        while let Some(part) = pending.pop_front() {
            let is_last = pending.is_empty();
            if let Some((mount, rel)) = &mut host {
                match part.as_str() {
                    "" | "." => {}
                    ".." => {
                        if rel.pop().is_none() {
                            cur = self.mounts[*mount].parent;
                            parent = mem.parent(cur).unwrap_or(ROOT);
                            last_name = None;
                            last_ino = Some(cur);
                            host = None;
                        }
                    }
                    _ => rel.push(part),
                }
                continue;
            }
            match part.as_str() {
                "" | "." => {}
                ".." => {
                    cur = mem.parent(cur)?;
                    parent = mem.parent(cur).unwrap_or(ROOT);
                    last_name = None;
                    last_ino = Some(cur);
                }
                name => {
                    let found = mem.lookup(cur, name)?;
                    match found.map(|ino| (ino, &mem.node(ino).expect("linked node").kind)) {
                        Some((_, NodeKind::Mount(m))) => {
                            host = Some((*m, Vec::new()));
                        }
                        Some((ino, NodeKind::Dir { .. })) => {
                            parent = cur;
                            cur = ino;
                            last_name = Some(part);
                            last_ino = Some(ino);
                        }
                        Some((_, NodeKind::Symlink(target))) if !is_last || follow => {
                            hops += 1;
                            if hops > MAX_SYMLINK_HOPS {
                                return Err(FsErr::Loop);
                            }
                            if target.starts_with('/') {
                                cur = ROOT;
                                parent = ROOT;
                                last_name = None;
                                last_ino = Some(ROOT);
                            }
                            for link_part in target.split('/').rev() {
                                pending.push_front(link_part.to_string());
                            }
                        }
                        Some((ino, _)) => {
                            if !is_last {
                                return Err(FsErr::NotDirectory);
                            }
                            parent = cur;
                            last_name = Some(part);
                            last_ino = Some(ino);
                        }
                        None => {
                            if !is_last {
                                return Err(FsErr::NoEntry);
                            }
                            parent = cur;
                            last_name = Some(part);
                            last_ino = None;
                        }
                    }
                }
            }
        }
        Ok(match host {
            Some((mount, rel)) => Target::Host {
                mount,
                rel: rel.iter().collect(),
            },
            None => Target::Mem {
                parent,
                name: last_name,
                ino: last_ino,
            },
        })
    }

    /// Resolve an absolute guest path given by the host (file in/out API);
    /// only targets in the in-memory scratch directories are accepted.
    fn resolve_scratch(&self, path: &str) -> Result<(Ino, String, Option<Ino>), FileApiError> {
        let invalid = |why: &str| FileApiError::InvalidPath(format!("{path}: {why}"));
        if path.contains('\0') {
            return Err(invalid("contains a NUL byte"));
        }
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            // Relative paths are relative to the home directory.
            format!("{}/{path}", self.home)
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                name => parts.push(name),
            }
        }
        let home: Vec<&str> = self.home.split('/').filter(|p| !p.is_empty()).collect();
        let scratch_root = if parts.first() == Some(&"tmp") {
            1
        } else if parts.starts_with(&home) {
            home.len()
        } else {
            0
        };
        if scratch_root == 0 || parts.len() <= scratch_root {
            return Err(invalid(&format!(
                "not below /tmp or {}, the sandbox's scratch file system",
                self.home
            )));
        }
        let rel = parts.join("/");
        match self.resolve(&DirLoc::Mem(ROOT), &rel, true) {
            Ok(Target::Mem {
                parent,
                name: Some(name),
                ino,
            }) => {
                let mem = self.mem.lock();
                let in_scratch = matches!(
                    mem.node(parent).map(|n| &n.kind),
                    Ok(NodeKind::Dir { writable: true, .. })
                );
                if !in_scratch {
                    return Err(invalid(&format!(
                        "not in the sandbox's scratch file system (/tmp, {})",
                        self.home
                    )));
                }
                Ok((parent, name, ino))
            }
            Ok(Target::Mem { name: None, .. }) => Err(invalid(
                "names a directory of the file system itself, not a file in it",
            )),
            Ok(Target::Host { .. }) => Err(invalid(
                "is inside a host mount; use the host directory directly",
            )),
            Err(err) => Err(FileApiError::Fs {
                path: path.to_string(),
                err,
            }),
        }
    }

    /// Create or replace the scratch file `path` with `contents`, creating
    /// missing parent directories under `/tmp` or the home directory.
    pub(crate) fn write_file(&self, path: &str, contents: &[u8]) -> Result<(), FileApiError> {
        let fs_err = |err| FileApiError::Fs {
            path: path.to_string(),
            err,
        };
        self.create_parents(path)?;
        let (parent, name, existing) = self.resolve_scratch(path)?;
        let mut mem = self.mem.lock();
        let ino = match existing {
            Some(ino) => {
                if !matches!(mem.node(ino).map(|n| &n.kind), Ok(NodeKind::File { .. })) {
                    return Err(fs_err(FsErr::IsDirectory));
                }
                mem.set_size(ino, 0).map_err(fs_err)?;
                ino
            }
            None => mem.create_file(parent, &name).map_err(fs_err)?,
        };
        mem.write(ino, 0, contents).map_err(fs_err)
    }

    fn create_parents(&self, path: &str) -> Result<(), FileApiError> {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let Some((_, dirs)) = parts.split_last() else {
            return Ok(());
        };
        let mut prefix = String::new();
        if !path.starts_with('/') {
            prefix.push_str(self.home);
        }
        for dir in dirs {
            prefix.push('/');
            prefix.push_str(dir);
            if let Ok((parent, name, None)) = self.resolve_scratch(&prefix) {
                self.mem
                    .lock()
                    .create_dir(parent, &name)
                    .map_err(|err| FileApiError::Fs {
                        path: prefix.clone(),
                        err,
                    })?;
            }
        }
        Ok(())
    }

    /// The contents of scratch file `path`.
    pub(crate) fn read_file(&self, path: &str) -> Result<Vec<u8>, FileApiError> {
        let fs_err = |err| FileApiError::Fs {
            path: path.to_string(),
            err,
        };
        let (_, _, ino) = self.resolve_scratch(path)?;
        let ino = ino.ok_or(fs_err(FsErr::NoEntry))?;
        let mut mem = self.mem.lock();
        let size = mem.size(ino).map_err(fs_err)?;
        mem.read(ino, 0, usize::try_from(size).unwrap_or(usize::MAX))
            .map_err(fs_err)
    }

    /// The entries of scratch directory `path` (name order).
    pub(crate) fn list_dir(&self, path: &str) -> Result<Vec<(String, EntryKind)>, FileApiError> {
        let fs_err = |err| FileApiError::Fs {
            path: path.to_string(),
            err,
        };
        let trimmed = path.trim_end_matches('/');
        let ino = if trimmed == "/tmp" || trimmed == self.home {
            match self.resolve(&DirLoc::Mem(ROOT), trimmed.trim_start_matches('/'), true) {
                Ok(Target::Mem { ino: Some(ino), .. }) => ino,
                Ok(_) => return Err(fs_err(FsErr::NoEntry)),
                Err(err) => return Err(fs_err(err)),
            }
        } else {
            // "/" trims to "": name what the caller gave.
            let (_, _, ino) =
                self.resolve_scratch(if trimmed.is_empty() { path } else { trimmed })?;
            ino.ok_or(fs_err(FsErr::NoEntry))?
        };
        let mem = self.mem.lock();
        let entries = mem.entries(ino).map_err(fs_err)?;
        Ok(entries
            .into_iter()
            .map(|(name, child)| {
                let kind = match mem.node(child).map(|n| &n.kind) {
                    Ok(NodeKind::File { .. }) => EntryKind::File,
                    Ok(NodeKind::Dir { .. } | NodeKind::Mount(_)) => EntryKind::Directory,
                    _ => EntryKind::Other,
                };
                (name, kind)
            })
            .collect())
    }

    /// Size and use of the file system holding guest path `path`
    /// (absolute): the scratch file system's caps and use, or a mount's
    /// quota; `None` when it does not resolve or for a mount without a
    /// quota (whose size is the host's, not shown to the guest).
    pub(crate) fn fs_usage(&self, path: &str) -> Option<FsUsage> {
        let rel = path.strip_prefix('/')?;
        match self.resolve(&DirLoc::Mem(ROOT), rel, true).ok()? {
            Target::Mem { .. } => {
                let mem = self.mem.lock();
                let caps = mem.caps();
                Some(FsUsage {
                    max_bytes: caps.max_bytes,
                    used_bytes: mem.used_bytes(),
                    max_files: caps.max_files,
                    used_files: mem.used_files(),
                    read_only: false,
                })
            }
            Target::Host { mount, .. } => {
                let mount = &self.mounts[mount];
                let (quota, added) = mount.quota_use()?;
                Some(FsUsage {
                    max_bytes: quota,
                    used_bytes: added.min(quota),
                    max_files: 0,
                    used_files: 0,
                    read_only: !mount.writable,
                })
            }
        }
    }

    /// Bytes and files the scratch file system holds now.
    pub(crate) fn scratch_usage(&self) -> (u64, u64) {
        let mem = self.mem.lock();
        (mem.used_bytes(), mem.used_files())
    }

    /// Record from now on which host files and directories the guest looks
    /// at through its mounts (see [`Vfs::mount_reads`]).
    pub(crate) fn record_mount_reads(&self) {
        for mount in &self.mounts {
            mount.record_reads();
        }
    }

    /// The host paths the guest looked at through its mounts since
    /// [`Vfs::record_mount_reads`], with their identity when first seen.
    pub(crate) fn mount_reads(&self) -> ReadSet {
        let mut all = ReadSet::new();
        for mount in &self.mounts {
            for (path, identity) in mount.reads() {
                all.entry(path).or_insert(identity);
            }
        }
        all
    }

    /// Host descriptors the guest holds open now.
    pub(crate) fn open_host_files(&self) -> usize {
        self.fds.open()
    }

    fn mount(&self, index: usize) -> Result<&Arc<Mount>, FsErr> {
        self.mounts.get(index).ok_or(FsErr::BadDescriptor)
    }

    fn host_path(rel: &Path) -> &Path {
        if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        }
    }
}

/// Largest read served in one call (guests loop for more).
pub(crate) const MAX_READ: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn config(mounts: Vec<MountConfig>) -> VfsConfig {
        VfsConfig {
            scratch: ScratchCaps {
                max_bytes: 0,
                max_files: 0,
            },
            fd_limits: FdLimits { per_sandbox: 0 },
            home: "/home/user",
            mounts,
        }
    }

    fn mount(host: &str, guest: &str) -> MountConfig {
        MountConfig {
            host: PathBuf::from(host),
            guest: guest.into(),
            writable: false,
            quota: None,
        }
    }

    #[test]
    fn bad_guest_mount_paths_are_refused_before_any_file_is_opened() {
        for (guest, why) in [
            ("data", "absolute"),
            ("/", "'/'"),
            ("/dev/x", "/dev"),
            ("/a/../b", "'..'"),
        ] {
            let err = Vfs::new(&config(vec![mount("/definitely/not/here", guest)])).unwrap_err();
            assert!(
                matches!(&err, VfsBuildError::InvalidMount(m) if m.contains(why)),
                "{guest}: {err}"
            );
        }
        let err = Vfs::new(&config(vec![mount("/definitely/not/here", "/data")])).unwrap_err();
        assert!(matches!(err, VfsBuildError::Open { .. }), "{err}");
    }

    #[test]
    fn dot_dot_never_leaves_the_root_and_leaves_mounts_by_name() {
        let dir = std::env::temp_dir();
        let vfs = Vfs::new(&config(vec![mount(dir.to_str().unwrap(), "/mnt/data")])).unwrap();
        let root = DirLoc::Mem(ROOT);
        let tmp = match vfs.resolve(&root, "../../tmp", true).unwrap() {
            Target::Mem { ino: Some(ino), .. } => ino,
            other => panic!("{other:?}"),
        };
        assert!(
            matches!(vfs.resolve(&root, "tmp", true).unwrap(), Target::Mem { ino: Some(i), .. } if i == tmp)
        );
        match vfs.resolve(&root, "mnt/data/a/../b", true).unwrap() {
            Target::Host { mount: 0, rel } => assert_eq!(rel, PathBuf::from("b")),
            other => panic!("{other:?}"),
        }
        let inside = DirLoc::Host {
            mount: 0,
            rel: PathBuf::from("a"),
        };
        assert!(
            matches!(vfs.resolve(&inside, "../../../tmp", true).unwrap(), Target::Mem { ino: Some(i), .. } if i == tmp)
        );
        assert_eq!(
            vfs.resolve(&root, "/etc", true).unwrap_err(),
            FsErr::NotPermitted
        );
        assert_eq!(
            vfs.resolve(&root, "nowhere/passwd", true).unwrap_err(),
            FsErr::NoEntry
        );
        // /etc holds only the local-time files: another name there is
        // missing (to be created, where permitted), not found elsewhere.
        assert!(matches!(
            vfs.resolve(&root, "etc/passwd", true).unwrap(),
            Target::Mem { ino: None, .. }
        ));
    }
}
