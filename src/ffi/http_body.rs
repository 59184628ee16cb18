//! `isola_http_body_t`: the body of a streamed HTTP response, pushed chunk
//! by chunk from any thread while the guest reads it (server-sent events,
//! a model's tokens).

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, check_out, handle, opt_c_str, write_out},
    error::{FfiError, isola_error_t},
    feed::Feed,
    guard, guard_value,
    host::CallContext,
};
use crate::host::{BodyStream, BoxError};

/// How the host finished a body.
#[derive(Clone)]
enum Ending {
    /// Not yet: a reader that finds no writer left reports an abandoned body.
    Open,
    /// `isola_http_body_end`.
    Ended,
    /// `isola_http_body_fail`, with its message.
    Failed(String),
}

/// The writing side of a streamed response body. Thread-safe.
pub struct isola_http_body_t {
    feed: Feed<Vec<u8>>,
    ending: Arc<Mutex<Ending>>,
    call: Option<CallContext>,
}

impl Castable for isola_http_body_t {
    type Ownership = OwnedByBox;
}

impl isola_http_body_t {
    /// A body holding at most `capacity` unread chunks, and the stream the
    /// guest reads it from.
    pub(crate) fn new(
        capacity: usize,
        call: Option<CallContext>,
    ) -> Result<(Self, BodyStream), FfiError> {
        let feed = Feed::new("response body", capacity)?;
        let receiver = feed
            .take_receiver()
            .ok_or_else(|| FfiError::internal("a new body has its reading end"))?;
        let ending = Arc::new(Mutex::new(Ending::Open));
        let reader = BodyReader {
            receiver,
            ending: Arc::clone(&ending),
            call: call.clone(),
            done: false,
        };
        Ok((Self { feed, ending, call }, Box::pin(reader)))
    }

    /// Finish the body: what was pushed is read, then `ending`.
    fn finish(&self, ending: Ending) -> Result<(), FfiError> {
        self.check_call()?;
        let mut slot = self.ending.lock();
        if !matches!(*slot, Ending::Open) {
            return Err(FfiError::invalid_state(
                "the response body has already been ended or failed",
            ));
        }
        *slot = ending;
        drop(slot);
        self.feed.close();
        Ok(())
    }

    fn abandoned(&self) -> bool {
        self.feed.reader_gone() || self.call.as_ref().is_some_and(CallContext::has_ended)
    }

    fn check_call(&self) -> Result<(), FfiError> {
        if self.call.as_ref().is_some_and(CallContext::has_ended) {
            return Err(FfiError::invalid_state(
                "the call that made this HTTP request has ended; nothing reads its body any more",
            ));
        }
        Ok(())
    }
}

impl Drop for isola_http_body_t {
    /// A freed body that was never ended or failed reads as an error in
    /// the guest (never as a complete, truncated body).
    fn drop(&mut self) {
        self.feed.close();
    }
}

/// The reading end, as the guest's response body.
struct BodyReader {
    receiver: mpsc::Receiver<Vec<u8>>,
    ending: Arc<Mutex<Ending>>,
    call: Option<CallContext>,
    done: bool,
}

impl futures::Stream for BodyReader {
    type Item = Result<Vec<u8>, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match self.receiver.poll_recv(cx) {
            Poll::Ready(Some(chunk)) => Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(None) => {
                self.done = true;
                let ending = self.ending.lock().clone();
                Poll::Ready(match ending {
                    Ending::Ended => None,
                    Ending::Failed(message) => Some(Err(message.into())),
                    Ending::Open => Some(Err(
                        "the host freed the HTTP response body without ending it".into(),
                    )),
                })
            }
            Poll::Pending if self.call.as_ref().is_some_and(CallContext::has_ended) => {
                // Read in a later call: the host's pushes go nowhere now.
                self.done = true;
                Poll::Ready(Some(Err(
                    "the HTTP response body was not finished before the call that requested it ended"
                        .into(),
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Push the next `len` bytes of the body (copied; an empty chunk is
/// accepted and skipped). Blocks while `capacity` chunks are unread, so
/// call it from a thread other than the one running the call (inside a
/// callback it fails with `ISOLA_ERROR_INVALID_STATE`; use
/// `isola_http_body_try_push` there). Fails with
/// `ISOLA_ERROR_INVALID_STATE` once the body is ended, failed or freed,
/// once the guest stopped reading it, or once the call that made the
/// request has ended (also a push blocked at that moment).
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_push(
    body: *const isola_http_body_t,
    data: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let body = handle(body, "body")?;
        let chunk = bytes(data, len, "data")?;
        body.check_call()?;
        if chunk.is_empty() {
            return Ok(());
        }
        let stop = body.call.as_ref().map(CallContext::ended);
        body.feed.push(chunk.to_vec(), "isola_http_body_push", stop)
    })
}

/// Push `len` bytes without waiting. `*pushed` (must not be NULL) is set
/// to true when the chunk was queued, false when `capacity` chunks are
/// unread (nothing queued; retry later). Fails like
/// `isola_http_body_push`. Never blocks, so it may be called from inside
/// callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_try_push(
    body: *const isola_http_body_t,
    data: *const u8,
    len: usize,
    pushed: *mut bool,
) -> *mut isola_error_t {
    guard(|| {
        check_out(pushed, "pushed")?;
        let body = handle(body, "body")?;
        let chunk = bytes(data, len, "data")?;
        body.check_call()?;
        let accepted = chunk.is_empty() || body.feed.try_push(chunk.to_vec())?;
        write_out(pushed, accepted, "pushed")
    })
}

/// End the body: the guest reads the chunks already pushed, then the end.
/// Never blocks. Pushes blocked on the full body in other threads wake and
/// fail with `ISOLA_ERROR_INVALID_STATE`. Ending (or failing) a second
/// time is `ISOLA_ERROR_INVALID_STATE`. The body must still be freed.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_end(body: *const isola_http_body_t) -> *mut isola_error_t {
    guard(|| handle(body, "body")?.finish(Ending::Ended))
}

/// End the body with a failure: after the chunks already pushed, the
/// guest's read raises `sandbox.http.HTTPError` carrying `message` (NULL:
/// a generic text). Never blocks; otherwise like `isola_http_body_end`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_fail(
    body: *const isola_http_body_t,
    message: *const std::ffi::c_char,
) -> *mut isola_error_t {
    guard(|| {
        let body = handle(body, "body")?;
        let message = opt_c_str(message, "message")?.unwrap_or("the host's response body failed");
        body.finish(Ending::Failed(message.to_string()))
    })
}

/// Whether nobody will read more of the body: the guest dropped it, or
/// the call that made the request is over (finished, failed, cancelled or
/// timed out). A producer may stop then; pushes would fail. Any thread;
/// NULL yields true.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_is_abandoned(body: *const isola_http_body_t) -> bool {
    guard_value(true, || {
        handle(body, "body").map_or(true, isola_http_body_t::abandoned)
    })
}

/// Free the body. NULL is ignored. A body freed before
/// `isola_http_body_end` or `isola_http_body_fail` reads in the guest as
/// an error after the chunks already pushed (never as a complete body).
/// Pushes blocked on it in other threads are woken and return
/// `ISOLA_ERROR_INVALID_STATE`; they never touch the freed body. A push
/// that has not started yet must not race with the free.
#[unsafe(no_mangle)]
pub extern "C" fn isola_http_body_free(body: *mut isola_http_body_t) {
    guard_value((), || isola_http_body_t::free_raw(body));
}
