//! The guest's file descriptors 1 and 2 (`wasi:cli/stdout`, `wasi:cli/stderr`).
//!
//! Bytes written there (`os.write(1, …)`, C code, `faulthandler`) become
//! `stdout` / `stderr` events on the same [`Relay`] queue as `print`, so the
//! sink sees them in the order the guest produced them. They count against
//! the call's output budget; past it the write fails (the guest sees an
//! `OSError`) and the call ends with the output-limit error, whatever the
//! guest does with that `OSError`.
//!
//! Events carry text: bytes are decoded as UTF-8, a character split across
//! two writes is joined, and invalid bytes are shown as `\xNN` escapes (as
//! Python's `backslashreplace` does). A split character still pending when
//! the call ends is delivered, escaped, by [`GuestStdio::finish_call`].

use std::{pin::Pin, sync::Arc, task::Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime_wasi::{
    cli::{IsTerminal, StdoutStream},
    p2::{OutputStream, Pollable, StreamError, StreamResult},
};

use super::{
    relay::{Deferred, Relay},
    state::OutputBudget,
};

/// Largest write the guest may issue in one `write` (the usual WASI figure).
const WRITE_PERMIT: usize = 64 * 1024;

/// Which descriptor a [`FdOutput`] stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Channel {
    Stdout,
    Stderr,
}

/// Shared state of one descriptor: every stream the guest opens on it
/// (each `get-stdout` makes a new one) writes here.
struct FdShared {
    channel: Channel,
    relay: Arc<Relay>,
    budget: Arc<OutputBudget>,
    /// The first bytes of a UTF-8 character whose rest has not arrived yet.
    pending: Mutex<Vec<u8>>,
}

impl FdShared {
    fn write(&self, bytes: &[u8]) -> Result<(), String> {
        self.budget.charge(bytes.len(), false)?;
        let mut pending = self.pending.lock();
        pending.extend_from_slice(bytes);
        let text = decode_complete(&mut pending);
        drop(pending);
        self.deliver(text);
        Ok(())
    }

    /// Deliver a split character left over at the end of a call.
    fn finish(&self) {
        let rest = std::mem::take(&mut *self.pending.lock());
        if !rest.is_empty() {
            let mut text = String::new();
            escape_into(&rest, &mut text);
            self.deliver(text);
        }
    }

    fn deliver(&self, text: String) {
        if text.is_empty() {
            return;
        }
        self.relay.push(match self.channel {
            Channel::Stdout => Deferred::Stdout(text),
            Channel::Stderr => Deferred::Stderr(text),
        });
    }
}

/// Take the decodable prefix of `buf` as text (invalid bytes escaped) and
/// leave only an incomplete trailing character in it.
fn decode_complete(buf: &mut Vec<u8>) -> String {
    let mut text = String::with_capacity(buf.len());
    let mut rest: &[u8] = buf;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                text.push_str(valid);
                rest = &[];
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                text.push_str(&String::from_utf8_lossy(valid));
                match e.error_len() {
                    Some(bad) => {
                        escape_into(&after[..bad], &mut text);
                        rest = &after[bad..];
                    }
                    None => {
                        // An incomplete character at the end: wait for the rest.
                        rest = after;
                        break;
                    }
                }
            }
        }
    }
    let keep = rest.len();
    let start = buf.len() - keep;
    buf.drain(..start);
    text
}

fn escape_into(bytes: &[u8], text: &mut String) {
    use std::fmt::Write as _;
    for b in bytes {
        let _ = write!(text, "\\x{b:02x}");
    }
}

/// The guest's stdout and stderr for one sandbox.
#[derive(Clone)]
pub(crate) struct GuestStdio {
    stdout: FdOutput,
    stderr: FdOutput,
}

impl GuestStdio {
    /// Descriptors 1 and 2 feeding `relay`, charged to `budget`.
    pub(crate) fn new(relay: &Arc<Relay>, budget: &Arc<OutputBudget>) -> Self {
        let fd = |channel| {
            FdOutput(Arc::new(FdShared {
                channel,
                relay: Arc::clone(relay),
                budget: Arc::clone(budget),
                pending: Mutex::new(Vec::new()),
            }))
        };
        Self {
            stdout: fd(Channel::Stdout),
            stderr: fd(Channel::Stderr),
        }
    }

    /// The `wasi:cli/stdout` implementation to put in the WASI context.
    pub(crate) fn stdout(&self) -> FdOutput {
        self.stdout.clone()
    }

    /// The `wasi:cli/stderr` implementation to put in the WASI context.
    pub(crate) fn stderr(&self) -> FdOutput {
        self.stderr.clone()
    }

    /// Deliver what is still pending at the end of a call.
    pub(crate) fn finish_call(&self) {
        self.stdout.0.finish();
        self.stderr.0.finish();
    }
}

/// One of the guest's output descriptors, as WASI sees it.
#[derive(Clone)]
pub(crate) struct FdOutput(Arc<FdShared>);

impl IsTerminal for FdOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for FdOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl Pollable for FdOutput {
    async fn ready(&mut self) {
        // Written bytes are queued on the relay; suspending the guest here
        // (the end of every blocking write) lets the call driver deliver
        // them before the guest continues.
        tokio::task::yield_now().await;
    }
}

impl OutputStream for FdOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.0
            .write(&bytes)
            .map_err(|message| StreamError::LastOperationFailed(wasmtime::format_err!(message)))
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        match self.0.budget.exceeded() {
            Some(message) => Err(StreamError::LastOperationFailed(wasmtime::format_err!(
                message
            ))),
            None => Ok(WRITE_PERMIT),
        }
    }
}

impl tokio::io::AsyncWrite for FdOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(
            self.0
                .write(buf)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::decode_complete;

    fn decode(chunks: &[&[u8]]) -> (Vec<String>, Vec<u8>) {
        let mut pending = Vec::new();
        let mut out = Vec::new();
        for chunk in chunks {
            pending.extend_from_slice(chunk);
            out.push(decode_complete(&mut pending));
        }
        (out, pending)
    }

    #[test]
    fn a_character_split_across_writes_is_joined() {
        let euro = "€".as_bytes();
        let (out, pending) = decode(&[b"a", &euro[..1], &euro[1..], b"b"]);
        assert_eq!(out, ["a", "", "€", "b"]);
        assert!(pending.is_empty());
    }

    #[test]
    fn invalid_bytes_become_escapes() {
        let (out, pending) = decode(&[b"x\xffy\xc3(z"]);
        assert_eq!(out, ["x\\xffy\\xc3(z"]);
        assert!(pending.is_empty());
    }

    #[test]
    fn an_incomplete_tail_waits_for_the_next_write() {
        let (out, pending) = decode(&[b"ok\xe2\x82"]);
        assert_eq!(out, ["ok"]);
        assert_eq!(pending, b"\xe2\x82");
    }
}
