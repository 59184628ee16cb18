//! `wasi:io` streams over the guest's files: in-memory files, host files
//! and devices. Every operation completes at once (no background tasks), so
//! the streams are always ready.

use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};

use super::{
    FsErr, MAX_READ,
    hostfs::HostFile,
    mem::{Device, Ino, MemFs},
};

/// Bytes a writer accepts per `check-write`.
const WRITE_BUDGET: usize = 1 << 20;

impl std::fmt::Display for FsErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl std::error::Error for FsErr {}

/// A failed stream operation. The preview-1 adapter bundled with
/// componentize-py 0.25.1 reports every failed stream write to the guest as
/// `EIO` (newer adapters ask `filesystem-error-code`, which maps this error
/// exactly); positional writes, truncation and creation report the exact code,
/// and the guest's `isola_guest.file_errors` recovers it for stream writes.
fn failed(err: FsErr) -> StreamError {
    StreamError::LastOperationFailed(wasmtime::Error::new(err))
}

/// An open reference to an in-memory node: keeps an unlinked file's bytes
/// alive until the last descriptor or stream is dropped.
#[derive(Debug)]
pub(crate) struct MemRef {
    pub(crate) fs: Arc<Mutex<MemFs>>,
    pub(crate) ino: Ino,
}

impl MemRef {
    pub(crate) fn new(fs: &Arc<Mutex<MemFs>>, ino: Ino) -> Arc<Self> {
        fs.lock().open(ino);
        Arc::new(Self {
            fs: Arc::clone(fs),
            ino,
        })
    }
}

impl Drop for MemRef {
    fn drop(&mut self) {
        self.fs.lock().close(self.ino);
    }
}

/// What a stream reads from or writes to.
#[derive(Debug, Clone)]
pub(crate) enum StreamTarget {
    Mem(Arc<MemRef>),
    Host(Arc<HostFile>),
    Device(Device),
}

/// A reading stream at a position.
pub(crate) struct FileReader {
    target: StreamTarget,
    position: u64,
}

impl FileReader {
    pub(crate) fn new(target: StreamTarget, position: u64) -> Self {
        Self { target, position }
    }
}

#[async_trait::async_trait]
impl Pollable for FileReader {
    async fn ready(&mut self) {}
}

#[async_trait::async_trait]
impl InputStream for FileReader {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        let size = size.min(MAX_READ);
        let data = match &self.target {
            StreamTarget::Mem(file) => file
                .fs
                .lock()
                .read(file.ino, self.position, size)
                .map_err(failed)?,
            StreamTarget::Host(file) => file.read_at(self.position, size).map_err(failed)?,
            StreamTarget::Device(Device::Null) => return Err(StreamError::Closed),
            StreamTarget::Device(Device::Zero) => vec![0; size],
            StreamTarget::Device(Device::Urandom) => {
                let mut buf = vec![0; size];
                getrandom::fill(&mut buf).map_err(|_| failed(FsErr::Io))?;
                buf
            }
        };
        if data.is_empty() && size > 0 {
            return Err(StreamError::Closed);
        }
        self.position += data.len() as u64;
        Ok(Bytes::from(data))
    }
}

/// A writing stream at a position, or appending.
pub(crate) struct FileWriter {
    target: StreamTarget,
    /// `None`: append at the current end.
    position: Option<u64>,
}

impl FileWriter {
    pub(crate) fn new(target: StreamTarget, position: Option<u64>) -> Self {
        Self { target, position }
    }
}

#[async_trait::async_trait]
impl Pollable for FileWriter {
    async fn ready(&mut self) {}
}

#[async_trait::async_trait]
impl OutputStream for FileWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        match &self.target {
            StreamTarget::Mem(file) => {
                let mut fs = file.fs.lock();
                let offset = match self.position {
                    Some(p) => p,
                    None => fs.size(file.ino).map_err(failed)?,
                };
                fs.write(file.ino, offset, &bytes).map_err(failed)?;
                if let Some(p) = &mut self.position {
                    *p = offset + bytes.len() as u64;
                }
            }
            StreamTarget::Host(file) => {
                let end = file.write_at(self.position, &bytes).map_err(failed)?;
                if let Some(p) = &mut self.position {
                    *p = end;
                }
            }
            StreamTarget::Device(_) => {}
        }
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}
