//! The in-memory part of a sandbox's file system: the root directory, the
//! built-in directories (`/dev`, `/home`), the scratch directories (`/tmp`,
//! the default working directory) and the device files.
//!
//! Nodes live in one table keyed by inode number. A file's bytes are freed
//! (and leave the byte count) when it has no directory entry and no open
//! descriptor or stream, as on Linux.

use std::{collections::BTreeMap, time::SystemTime};

use super::FsErr;

/// Inode number of a node of the in-memory tree.
pub(crate) type Ino = u64;

/// Inode number of `/`.
pub(crate) const ROOT: Ino = 1;

/// Longest path a symbolic link may hold (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: usize = 4096;

/// A character device under `/dev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Device {
    /// `/dev/null`: reads end at once, writes are discarded.
    Null,
    /// `/dev/zero`: reads give zero bytes, writes are discarded.
    Zero,
    /// `/dev/urandom`: reads give random bytes, writes are discarded.
    Urandom,
}

/// What a node is.
#[derive(Debug)]
pub(crate) enum NodeKind {
    /// A directory. `writable`: the guest may create and remove entries.
    Dir {
        entries: BTreeMap<String, Ino>,
        parent: Ino,
        writable: bool,
    },
    /// A regular file.
    File { data: Vec<u8> },
    /// A device file.
    Device(Device),
    /// A symbolic link and the path it holds (resolved when the link is
    /// followed, relative to the link's directory unless absolute).
    Symlink(String),
    /// The point where host mount number `.0` is attached.
    Mount(usize),
}

/// One node and its bookkeeping.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    /// Directory entries naming the node (0 or 1: no hard links here).
    links: u32,
    /// Open descriptors and streams of the node.
    open: u32,
    /// Counted against the scratch caps (false for built-in nodes).
    counted: bool,
    pub(crate) accessed: SystemTime,
    pub(crate) modified: SystemTime,
    pub(crate) changed: SystemTime,
}

impl Node {
    /// Whether the node is part of the built-in tree (`/dev`, `/etc`, …)
    /// rather than something the guest made.
    pub(crate) fn is_built_in(&self) -> bool {
        !self.counted
    }
}

/// Caps of the scratch file system; 0 means no cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScratchCaps {
    /// Most bytes of file contents.
    pub(crate) max_bytes: u64,
    /// Most files and directories the guest or host may create.
    pub(crate) max_files: u64,
}

/// Summary of a node, for `stat` and directory listings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NodeStat {
    pub(crate) kind: NodeType,
    pub(crate) size: u64,
    pub(crate) links: u64,
    pub(crate) accessed: SystemTime,
    pub(crate) modified: SystemTime,
    pub(crate) changed: SystemTime,
}

/// The type of a node as the guest sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeType {
    Directory,
    File,
    CharDevice,
    Symlink,
}

/// The in-memory tree of one sandbox.
#[derive(Debug)]
pub(crate) struct MemFs {
    nodes: std::collections::HashMap<Ino, Node>,
    next_ino: Ino,
    bytes: u64,
    files: u64,
    caps: ScratchCaps,
}

impl MemFs {
    /// An empty tree holding only `/`.
    pub(crate) fn new(caps: ScratchCaps) -> Self {
        let mut fs = Self {
            nodes: std::collections::HashMap::new(),
            next_ino: ROOT,
            bytes: 0,
            files: 0,
            caps,
        };
        let root = fs.alloc(
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: ROOT,
                writable: false,
            },
            false,
        );
        debug_assert_eq!(root, ROOT);
        fs.nodes.get_mut(&ROOT).expect("root").links = 1;
        fs
    }

    /// Bytes of file contents held now.
    pub(crate) fn used_bytes(&self) -> u64 {
        self.bytes
    }

    /// Files and directories created so far and still present.
    pub(crate) fn used_files(&self) -> u64 {
        self.files
    }

    /// The caps it was made with.
    pub(crate) fn caps(&self) -> ScratchCaps {
        self.caps
    }

    fn alloc(&mut self, kind: NodeKind, counted: bool) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        let now = SystemTime::now();
        self.nodes.insert(
            ino,
            Node {
                kind,
                links: 0,
                open: 0,
                counted,
                accessed: now,
                modified: now,
                changed: now,
            },
        );
        ino
    }

    /// The node `ino`.
    pub(crate) fn node(&self, ino: Ino) -> Result<&Node, FsErr> {
        self.nodes.get(&ino).ok_or(FsErr::BadDescriptor)
    }

    fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, FsErr> {
        self.nodes.get_mut(&ino).ok_or(FsErr::BadDescriptor)
    }

    /// Add a built-in node (not counted against the caps) under `parent`;
    /// returns the existing node when `name` is taken.
    pub(crate) fn add_builtin(&mut self, parent: Ino, name: &str, kind: NodeKind) -> Ino {
        if let Ok(Some(existing)) = self.lookup(parent, name) {
            return existing;
        }
        let kind = match kind {
            NodeKind::Dir {
                entries, writable, ..
            } => NodeKind::Dir {
                entries,
                parent,
                writable,
            },
            other => other,
        };
        let ino = self.alloc(kind, false);
        self.link(parent, name, ino)
            .expect("built-in parent is a directory");
        ino
    }

    /// Replace what `ino` is (used to turn a built-in directory into a
    /// mount point).
    pub(crate) fn set_kind(&mut self, ino: Ino, kind: NodeKind) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.kind = kind;
        }
    }

    fn link(&mut self, parent: Ino, name: &str, ino: Ino) -> Result<(), FsErr> {
        match &mut self.node_mut(parent)?.kind {
            NodeKind::Dir { entries, .. } => {
                entries.insert(name.to_string(), ino);
            }
            _ => return Err(FsErr::NotDirectory),
        }
        self.node_mut(ino)?.links += 1;
        self.touch_modified(parent);
        Ok(())
    }

    fn touch_modified(&mut self, ino: Ino) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            let now = SystemTime::now();
            node.modified = now;
            node.changed = now;
        }
    }

    /// The entry `name` of directory `dir`, if any.
    pub(crate) fn lookup(&self, dir: Ino, name: &str) -> Result<Option<Ino>, FsErr> {
        match &self.node(dir)?.kind {
            NodeKind::Dir { entries, .. } => Ok(entries.get(name).copied()),
            _ => Err(FsErr::NotDirectory),
        }
    }

    /// The parent of directory `dir` (`/` is its own parent).
    pub(crate) fn parent(&self, dir: Ino) -> Result<Ino, FsErr> {
        match &self.node(dir)?.kind {
            NodeKind::Dir { parent, .. } => Ok(*parent),
            _ => Err(FsErr::NotDirectory),
        }
    }

    /// Entries of directory `dir`, in name order.
    pub(crate) fn entries(&self, dir: Ino) -> Result<Vec<(String, Ino)>, FsErr> {
        match &self.node(dir)?.kind {
            NodeKind::Dir { entries, .. } => {
                Ok(entries.iter().map(|(n, i)| (n.clone(), *i)).collect())
            }
            _ => Err(FsErr::NotDirectory),
        }
    }

    fn writable_dir(&self, dir: Ino) -> Result<(), FsErr> {
        match &self.node(dir)?.kind {
            NodeKind::Dir { writable: true, .. } => Ok(()),
            NodeKind::Dir { .. } => Err(FsErr::Access),
            _ => Err(FsErr::NotDirectory),
        }
    }

    fn charge_file(&mut self) -> Result<(), FsErr> {
        if self.caps.max_files != 0 && self.files >= self.caps.max_files {
            return Err(FsErr::NoSpace);
        }
        self.files += 1;
        Ok(())
    }

    fn check_name(name: &str) -> Result<(), FsErr> {
        if name.is_empty() || name == "." || name == ".." || name.contains('/') {
            return Err(FsErr::Invalid);
        }
        if name.len() > 255 {
            return Err(FsErr::NameTooLong);
        }
        Ok(())
    }

    /// Create an empty file `name` in `dir`.
    pub(crate) fn create_file(&mut self, dir: Ino, name: &str) -> Result<Ino, FsErr> {
        Self::check_name(name)?;
        self.writable_dir(dir)?;
        if self.lookup(dir, name)?.is_some() {
            return Err(FsErr::Exist);
        }
        self.charge_file()?;
        let ino = self.alloc(NodeKind::File { data: Vec::new() }, true);
        self.link(dir, name, ino)?;
        Ok(ino)
    }

    /// Create a symbolic link `name` in `dir` holding `target`.
    pub(crate) fn create_symlink(
        &mut self,
        dir: Ino,
        name: &str,
        target: &str,
    ) -> Result<Ino, FsErr> {
        Self::check_name(name)?;
        self.writable_dir(dir)?;
        if self.lookup(dir, name)?.is_some() {
            return Err(FsErr::Exist);
        }
        if target.is_empty() {
            return Err(FsErr::NoEntry);
        }
        if target.len() > MAX_LINK_TARGET {
            return Err(FsErr::NameTooLong);
        }
        self.charge_file()?;
        let ino = self.alloc(NodeKind::Symlink(target.to_string()), true);
        self.link(dir, name, ino)?;
        Ok(ino)
    }

    /// The path held by symbolic link `ino`.
    pub(crate) fn read_link(&self, ino: Ino) -> Result<String, FsErr> {
        match &self.node(ino)?.kind {
            NodeKind::Symlink(target) => Ok(target.clone()),
            _ => Err(FsErr::Invalid),
        }
    }

    /// Create a directory `name` in `dir`.
    pub(crate) fn create_dir(&mut self, dir: Ino, name: &str) -> Result<Ino, FsErr> {
        Self::check_name(name)?;
        self.writable_dir(dir)?;
        if self.lookup(dir, name)?.is_some() {
            return Err(FsErr::Exist);
        }
        self.charge_file()?;
        let ino = self.alloc(
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: dir,
                writable: true,
            },
            true,
        );
        self.link(dir, name, ino)?;
        Ok(ino)
    }

    fn unlink_entry(&mut self, dir: Ino, name: &str) -> Result<Ino, FsErr> {
        let ino = match &mut self.node_mut(dir)?.kind {
            NodeKind::Dir { entries, .. } => entries.remove(name).ok_or(FsErr::NoEntry)?,
            _ => return Err(FsErr::NotDirectory),
        };
        self.touch_modified(dir);
        let node = self.node_mut(ino)?;
        node.links = node.links.saturating_sub(1);
        node.changed = SystemTime::now();
        self.maybe_free(ino);
        Ok(ino)
    }

    /// Remove file `name` from `dir`.
    pub(crate) fn unlink_file(&mut self, dir: Ino, name: &str) -> Result<(), FsErr> {
        self.writable_dir(dir)?;
        let ino = self.lookup(dir, name)?.ok_or(FsErr::NoEntry)?;
        match self.node(ino)?.kind {
            NodeKind::Dir { .. } => return Err(FsErr::IsDirectory),
            NodeKind::Mount(_) => return Err(FsErr::Busy),
            NodeKind::File { .. } | NodeKind::Device(_) | NodeKind::Symlink(_) => {}
        }
        if !self.node(ino)?.counted {
            return Err(FsErr::Access);
        }
        self.unlink_entry(dir, name).map(drop)
    }

    /// Remove the empty directory `name` from `dir`.
    pub(crate) fn remove_dir(&mut self, dir: Ino, name: &str) -> Result<(), FsErr> {
        self.writable_dir(dir)?;
        let ino = self.lookup(dir, name)?.ok_or(FsErr::NoEntry)?;
        match &self.node(ino)?.kind {
            NodeKind::Dir { entries, .. } if !entries.is_empty() => return Err(FsErr::NotEmpty),
            NodeKind::Dir { .. } => {}
            NodeKind::Mount(_) => return Err(FsErr::Busy),
            _ => return Err(FsErr::NotDirectory),
        }
        if !self.node(ino)?.counted {
            return Err(FsErr::Busy);
        }
        self.unlink_entry(dir, name).map(drop)
    }

    fn is_ancestor(&self, ancestor: Ino, mut ino: Ino) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            match self.parent(ino) {
                Ok(parent) if parent != ino => ino = parent,
                _ => return false,
            }
        }
    }

    /// Move `from_dir/from_name` to `to_dir/to_name`, replacing a file or an
    /// empty directory there.
    pub(crate) fn rename(
        &mut self,
        from_dir: Ino,
        from_name: &str,
        to_dir: Ino,
        to_name: &str,
    ) -> Result<(), FsErr> {
        Self::check_name(to_name)?;
        self.writable_dir(from_dir)?;
        self.writable_dir(to_dir)?;
        let ino = self.lookup(from_dir, from_name)?.ok_or(FsErr::NoEntry)?;
        let moving_dir = matches!(self.node(ino)?.kind, NodeKind::Dir { .. });
        if matches!(self.node(ino)?.kind, NodeKind::Mount(_)) || !self.node(ino)?.counted {
            return Err(FsErr::Busy);
        }
        if moving_dir && self.is_ancestor(ino, to_dir) {
            return Err(FsErr::Invalid);
        }
        if let Some(existing) = self.lookup(to_dir, to_name)? {
            if existing == ino {
                return Ok(());
            }
            match (&self.node(existing)?.kind, moving_dir) {
                (NodeKind::Dir { entries, .. }, true) if entries.is_empty() => {}
                (NodeKind::Dir { .. }, true) => return Err(FsErr::NotEmpty),
                (NodeKind::Dir { .. }, false) => return Err(FsErr::IsDirectory),
                (NodeKind::File { .. } | NodeKind::Symlink(_), false) => {}
                (NodeKind::File { .. } | NodeKind::Device(_) | NodeKind::Symlink(_), true) => {
                    return Err(FsErr::NotDirectory);
                }
                (NodeKind::Mount(_) | NodeKind::Device(_), _) => return Err(FsErr::Busy),
            }
            if !self.node(existing)?.counted {
                return Err(FsErr::Busy);
            }
            self.unlink_entry(to_dir, to_name)?;
        }
        // Keep the node alive while it has no entry.
        self.node_mut(ino)?.open += 1;
        self.unlink_entry(from_dir, from_name)?;
        self.link(to_dir, to_name, ino)?;
        if let NodeKind::Dir { parent, .. } = &mut self.node_mut(ino)?.kind {
            *parent = to_dir;
        }
        self.close(ino);
        Ok(())
    }

    /// Record an open descriptor or stream of `ino`.
    pub(crate) fn open(&mut self, ino: Ino) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.open += 1;
        }
    }

    /// Record that a descriptor or stream of `ino` was dropped.
    pub(crate) fn close(&mut self, ino: Ino) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.open = node.open.saturating_sub(1);
        }
        self.maybe_free(ino);
    }

    fn maybe_free(&mut self, ino: Ino) {
        let free = self
            .nodes
            .get(&ino)
            .is_some_and(|n| n.links == 0 && n.open == 0 && ino != ROOT);
        if !free {
            return;
        }
        if let Some(node) = self.nodes.remove(&ino) {
            if node.counted {
                self.files = self.files.saturating_sub(1);
            }
            if let NodeKind::File { data } = node.kind {
                self.bytes = self.bytes.saturating_sub(data.len() as u64);
            }
        }
    }

    /// Summary of `ino`.
    pub(crate) fn stat(&self, ino: Ino) -> Result<NodeStat, FsErr> {
        let node = self.node(ino)?;
        let (kind, size) = match &node.kind {
            NodeKind::Dir { entries, .. } => (NodeType::Directory, entries.len() as u64),
            NodeKind::File { data } => (NodeType::File, data.len() as u64),
            NodeKind::Device(_) => (NodeType::CharDevice, 0),
            NodeKind::Mount(_) => (NodeType::Directory, 0),
            NodeKind::Symlink(target) => (NodeType::Symlink, target.len() as u64),
        };
        Ok(NodeStat {
            kind,
            size,
            links: u64::from(node.links.max(1)),
            accessed: node.accessed,
            modified: node.modified,
            changed: node.changed,
        })
    }

    fn file_data(&mut self, ino: Ino) -> Result<&mut Vec<u8>, FsErr> {
        match &mut self.node_mut(ino)?.kind {
            NodeKind::File { data } => Ok(data),
            NodeKind::Dir { .. } | NodeKind::Mount(_) => Err(FsErr::IsDirectory),
            NodeKind::Device(_) | NodeKind::Symlink(_) => Err(FsErr::Invalid),
        }
    }

    /// Up to `len` bytes of file `ino` from `offset`.
    pub(crate) fn read(&mut self, ino: Ino, offset: u64, len: usize) -> Result<Vec<u8>, FsErr> {
        let data = self.file_data(ino)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start.saturating_add(len).min(data.len());
        let out = data[start..end].to_vec();
        if let Ok(node) = self.node_mut(ino) {
            node.accessed = SystemTime::now();
        }
        Ok(out)
    }

    /// Size of file `ino`.
    pub(crate) fn size(&self, ino: Ino) -> Result<u64, FsErr> {
        match &self.node(ino)?.kind {
            NodeKind::File { data } => Ok(data.len() as u64),
            _ => Ok(0),
        }
    }

    /// Resize file `ino` to `size` bytes, zero-filling growth.
    pub(crate) fn set_size(&mut self, ino: Ino, size: u64) -> Result<(), FsErr> {
        let current = self.size(ino)?;
        if size > current {
            self.reserve(size - current)?;
        }
        let new_len = usize::try_from(size).map_err(|_| FsErr::FileTooLarge)?;
        let data = self.file_data(ino)?;
        if new_len > data.len() {
            data.try_reserve(new_len - data.len())
                .map_err(|_| FsErr::NoSpace)?;
        }
        data.resize(new_len, 0);
        self.bytes = self.bytes - current + size;
        self.touch_modified(ino);
        Ok(())
    }

    fn reserve(&self, growth: u64) -> Result<(), FsErr> {
        let total = self.bytes.checked_add(growth).ok_or(FsErr::NoSpace)?;
        if self.caps.max_bytes != 0 && total > self.caps.max_bytes {
            return Err(FsErr::NoSpace);
        }
        Ok(())
    }

    /// Write `bytes` into file `ino` at `offset` (zero-filling a gap).
    pub(crate) fn write(&mut self, ino: Ino, offset: u64, bytes: &[u8]) -> Result<(), FsErr> {
        let current = self.size(ino)?;
        let end = offset
            .checked_add(bytes.len() as u64)
            .ok_or(FsErr::FileTooLarge)?;
        if end > current {
            self.reserve(end - current)?;
        }
        let start = usize::try_from(offset).map_err(|_| FsErr::FileTooLarge)?;
        let end_usize = usize::try_from(end).map_err(|_| FsErr::FileTooLarge)?;
        let data = self.file_data(ino)?;
        if end_usize > data.len() {
            data.try_reserve(end_usize - data.len())
                .map_err(|_| FsErr::NoSpace)?;
            data.resize(end_usize, 0);
        }
        data[start..end_usize].copy_from_slice(bytes);
        if end > current {
            self.bytes += end - current;
        }
        self.touch_modified(ino);
        Ok(())
    }

    /// Set the access and modification times of `ino` (`None`: unchanged).
    pub(crate) fn set_times(
        &mut self,
        ino: Ino,
        accessed: Option<SystemTime>,
        modified: Option<SystemTime>,
    ) -> Result<(), FsErr> {
        let node = self.node_mut(ino)?;
        if let Some(t) = accessed {
            node.accessed = t;
        }
        if let Some(t) = modified {
            node.modified = t;
        }
        node.changed = SystemTime::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs_with_tmp(caps: ScratchCaps) -> (MemFs, Ino) {
        let mut fs = MemFs::new(caps);
        let tmp = fs.add_builtin(
            ROOT,
            "tmp",
            NodeKind::Dir {
                entries: BTreeMap::new(),
                parent: ROOT,
                writable: true,
            },
        );
        (fs, tmp)
    }

    #[test]
    fn byte_cap_refuses_growth_and_keeps_the_file() {
        let (mut fs, tmp) = fs_with_tmp(ScratchCaps {
            max_bytes: 10,
            max_files: 0,
        });
        let f = fs.create_file(tmp, "a").unwrap();
        fs.write(f, 0, b"12345678").unwrap();
        assert_eq!(fs.write(f, 8, b"abc"), Err(FsErr::NoSpace));
        fs.write(f, 0, b"ABCDEFGHIJ").unwrap();
        assert_eq!(fs.used_bytes(), 10);
        assert_eq!(fs.set_size(f, 11), Err(FsErr::NoSpace));
        fs.set_size(f, 2).unwrap();
        assert_eq!(fs.used_bytes(), 2);
        assert_eq!(fs.read(f, 0, 100).unwrap(), b"AB");
    }

    #[test]
    fn file_cap_counts_files_and_directories_and_frees_on_unlink() {
        let (mut fs, tmp) = fs_with_tmp(ScratchCaps {
            max_bytes: 0,
            max_files: 2,
        });
        fs.create_file(tmp, "a").unwrap();
        fs.create_dir(tmp, "d").unwrap();
        assert_eq!(fs.create_file(tmp, "b"), Err(FsErr::NoSpace));
        fs.unlink_file(tmp, "a").unwrap();
        fs.create_file(tmp, "b").unwrap();
        assert_eq!(fs.used_files(), 2);
    }

    #[test]
    fn unlinked_open_file_keeps_its_bytes_until_closed() {
        let (mut fs, tmp) = fs_with_tmp(ScratchCaps {
            max_bytes: 0,
            max_files: 0,
        });
        let f = fs.create_file(tmp, "a").unwrap();
        fs.open(f);
        fs.write(f, 0, b"hello").unwrap();
        fs.unlink_file(tmp, "a").unwrap();
        assert_eq!(fs.read(f, 0, 5).unwrap(), b"hello");
        assert_eq!(fs.used_bytes(), 5);
        fs.close(f);
        assert_eq!(fs.used_bytes(), 0);
        assert_eq!(fs.used_files(), 0);
    }

    #[test]
    fn symlinks_count_against_the_file_cap_and_hold_their_target() {
        let (mut fs, tmp) = fs_with_tmp(ScratchCaps {
            max_bytes: 0,
            max_files: 1,
        });
        let link = fs.create_symlink(tmp, "l", "../x").unwrap();
        assert_eq!(fs.read_link(link).unwrap(), "../x");
        assert_eq!(fs.stat(link).unwrap().kind, NodeType::Symlink);
        assert_eq!(
            fs.create_symlink(tmp, "m", "y").unwrap_err(),
            FsErr::NoSpace
        );
        assert_eq!(fs.create_symlink(tmp, "l", "y").unwrap_err(), FsErr::Exist);
        fs.unlink_file(tmp, "l").unwrap();
        assert_eq!(fs.used_files(), 0);
        assert_eq!(fs.create_symlink(tmp, "e", "").unwrap_err(), FsErr::NoEntry);
    }

    #[test]
    fn rename_replaces_files_and_refuses_moving_a_dir_into_itself() {
        let (mut fs, tmp) = fs_with_tmp(ScratchCaps {
            max_bytes: 0,
            max_files: 0,
        });
        let a = fs.create_file(tmp, "a").unwrap();
        fs.write(a, 0, b"aa").unwrap();
        let b = fs.create_file(tmp, "b").unwrap();
        fs.write(b, 0, b"bbb").unwrap();
        fs.rename(tmp, "a", tmp, "b").unwrap();
        assert_eq!(fs.lookup(tmp, "b").unwrap(), Some(a));
        assert_eq!(fs.lookup(tmp, "a").unwrap(), None);
        assert_eq!(fs.used_bytes(), 2);
        let d = fs.create_dir(tmp, "d").unwrap();
        let sub = fs.create_dir(d, "sub").unwrap();
        assert_eq!(fs.rename(tmp, "d", sub, "x"), Err(FsErr::Invalid));
        fs.rename(tmp, "d", tmp, "e").unwrap();
        assert_eq!(fs.parent(sub).unwrap(), d);
        assert_eq!(fs.lookup(tmp, "e").unwrap(), Some(d));
    }

    #[test]
    fn built_in_directories_are_read_only() {
        let (mut fs, _) = fs_with_tmp(ScratchCaps {
            max_bytes: 0,
            max_files: 0,
        });
        assert_eq!(fs.create_file(ROOT, "x"), Err(FsErr::Access));
        assert_eq!(fs.remove_dir(ROOT, "tmp"), Err(FsErr::Access));
    }
}
