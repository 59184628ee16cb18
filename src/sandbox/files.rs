//! Files in and out: the host reads and writes a sandbox's in-memory
//! scratch file system (`/tmp` and the home directory) before or between
//! calls, for uploads and for artifacts the guest produces.

use super::{Error, Result, Sandbox};
use crate::engine::vfs::{EntryKind, FileApiError};

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory (or a mount point).
    Directory,
    /// Anything else (a device).
    Other,
}

/// One entry of [`Sandbox::list_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name (no directory part).
    pub name: String,
    /// What it is.
    pub kind: FileKind,
}

/// What a sandbox's file system holds now ([`Sandbox::file_usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FileUsage {
    /// Bytes of file contents in the scratch file system.
    pub scratch_bytes: u64,
    /// Files and directories in the scratch file system.
    pub scratch_files: u64,
    /// Host files (in mounts) the guest holds open.
    pub open_host_files: usize,
}

fn api_error(e: FileApiError) -> Error {
    match e {
        FileApiError::InvalidPath(message) => Error::InvalidArgument(message),
        fs if fs.is_not_found() => Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no such file in the sandbox: {fs}"),
        )),
        fs if fs.is_no_space() => Error::Io(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!("the sandbox's scratch file system is full: {fs}"),
        )),
        fs => Error::Io(std::io::Error::other(fs.to_string())),
    }
}

impl Sandbox {
    /// Create or replace the file `path` in the sandbox's scratch file
    /// system with `contents` (bytes), creating missing parent directories.
    /// `path` is absolute (under `/tmp` or the home directory
    /// [`GUEST_HOME`](super::GUEST_HOME)) or relative to the home directory.
    /// The scratch caps apply as they do to the guest.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a path outside the scratch file
    /// system; [`Error::Io`] when a cap is hit (`StorageFull`) or a parent
    /// is not a directory.
    pub fn write_file(&mut self, path: &str, contents: &[u8]) -> Result<()> {
        self.vfs().write_file(path, contents).map_err(api_error)
    }

    /// What the sandbox's file system holds now, against the caps set with
    /// [`SandboxOptions::max_scratch_bytes`](super::SandboxOptions::max_scratch_bytes),
    /// [`max_scratch_files`](super::SandboxOptions::max_scratch_files) and
    /// [`max_open_files`](super::SandboxOptions::max_open_files).
    #[must_use]
    pub fn file_usage(&self) -> FileUsage {
        let (scratch_bytes, scratch_files) = self.vfs().scratch_usage();
        FileUsage {
            scratch_bytes,
            scratch_files,
            open_host_files: self.vfs().open_host_files(),
        }
    }

    /// The contents of the file `path` of the scratch file system.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a path outside the scratch file
    /// system; [`Error::Io`] with `NotFound` when the file does not exist.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>> {
        self.vfs().read_file(path).map_err(api_error)
    }

    /// The entries of directory `path` of the scratch file system (`/tmp`,
    /// the home directory or a directory below them), sorted by name.
    ///
    /// # Errors
    /// As [`Sandbox::read_file`].
    pub fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let entries = self.vfs().list_dir(path).map_err(api_error)?;
        Ok(entries
            .into_iter()
            .map(|(name, kind)| DirEntry {
                name,
                kind: match kind {
                    EntryKind::File => FileKind::File,
                    EntryKind::Directory => FileKind::Directory,
                    EntryKind::Other => FileKind::Other,
                },
            })
            .collect())
    }
}
