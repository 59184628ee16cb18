//! `isola_stream_t`: values the host pushes into a running call, which
//! the guest consumes as an iterator argument.

use std::{
    ffi::c_char,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::{
    args::{BoxedHandle, Castable, OwnedByBox, bytes, c_str, check_out, handle, write_out},
    error::{FfiError, isola_error_t},
    feed::Feed,
    guard, guard_value,
};
use crate::{sandbox::TryValueStream, value::Value};

type SharedSlot = Arc<Mutex<Option<mpsc::Receiver<Result<Value, String>>>>>;

/// The reading end as the guest sees it; ends when the guard drops it.
struct SharedReceiver(SharedSlot);

impl futures::Stream for SharedReceiver {
    type Item = Result<Value, String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.lock().as_mut() {
            Some(receiver) => receiver.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

/// Drops the reading end of a stream when the call using it is over.
pub(crate) struct ConsumerGuard(SharedSlot);

impl Drop for ConsumerGuard {
    fn drop(&mut self) {
        self.0.lock().take();
    }
}

/// A bounded queue of values feeding one guest iterator argument.
/// Thread-safe: push and close from any thread while a call consumes it.
pub struct isola_stream_t {
    feed: Feed<Result<Value, String>>,
}

impl Castable for isola_stream_t {
    type Ownership = OwnedByBox;
}

impl isola_stream_t {
    /// Hand the consuming end to a call; a stream feeds one call only. The
    /// guard ends the stream for good when dropped (after the call), so a
    /// guest that keeps the iterator cannot leave pushers blocked.
    pub(crate) fn take_consumer(&self) -> Result<(TryValueStream, ConsumerGuard), FfiError> {
        let receiver = self.feed.take_receiver().ok_or_else(|| {
            FfiError::invalid_state(
                "the stream is already attached to a call; use a new stream per call",
            )
        })?;
        let shared = Arc::new(Mutex::new(Some(receiver)));
        Ok((
            Box::pin(SharedReceiver(Arc::clone(&shared))),
            ConsumerGuard(shared),
        ))
    }
}

/// Create a stream holding at most `capacity` (1 to `SIZE_MAX / 8`;
/// anything else is `ISOLA_ERROR_INVALID_ARGUMENT`) unread values; a push
/// beyond that blocks until the guest reads (back-pressure). On success
/// `*out` receives a stream to free with `isola_stream_free`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_new(
    capacity: usize,
    out: *mut *mut isola_stream_t,
) -> *mut isola_error_t {
    guard(|| {
        check_out(out, "out")?;
        let stream = isola_stream_t {
            feed: Feed::new("stream", capacity)?,
        };
        write_out(out, stream.into_raw(), "out")
    })
}

/// Push a JSON value (NUL-terminated). Blocks while the stream is full;
/// call it from a thread other than the one running the call (or fill at
/// most `capacity` values before the call). Fails with
/// `ISOLA_ERROR_INVALID_STATE` once the stream is closed or its call ended.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_push_json(
    stream: *const isola_stream_t,
    json: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let stream = handle(stream, "stream")?;
        stream.feed.push(
            Ok(Value::from_json_str(c_str(json, "json")?)?),
            "isola_stream_push_json",
            None,
        )
    })
}

/// Push a CBOR value of `len` bytes, like `isola_stream_push_json`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_push_cbor(
    stream: *const isola_stream_t,
    cbor: *const u8,
    len: usize,
) -> *mut isola_error_t {
    guard(|| {
        let stream = handle(stream, "stream")?;
        stream.feed.push(
            Ok(Value::from_cbor(bytes(cbor, len, "cbor")?)?),
            "isola_stream_push_cbor",
            None,
        )
    })
}

/// End the input: the guest's iterator finishes after the values already
/// pushed. Further pushes fail, and so do pushes blocked on a full stream. Closing twice is allowed.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_close(stream: *const isola_stream_t) -> *mut isola_error_t {
    guard(|| {
        handle(stream, "stream")?.feed.close();
        Ok(())
    })
}

/// End the input with a failure: after the values already pushed, the
/// guest's iteration raises `sandbox.StreamError` with `message` (NULL: a
/// generic text). Blocks like a push while the stream is full; the stream
/// is closed afterwards.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_fail(
    stream: *const isola_stream_t,
    message: *const c_char,
) -> *mut isola_error_t {
    guard(|| {
        let stream = handle(stream, "stream")?;
        let message =
            super::args::opt_c_str(message, "message")?.unwrap_or("the host's stream failed");
        stream
            .feed
            .push_last(Err(message.to_string()), "isola_stream_fail")
    })
}

/// Push a JSON value (NUL-terminated) without waiting. `*pushed` (must not
/// be NULL) is set to true when the value was queued, false when the
/// stream is full (nothing was queued; retry later). Fails with
/// `ISOLA_ERROR_INVALID_STATE` once the stream is closed or its call ended.
/// Never blocks, so it may be called from inside callbacks.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_try_push_json(
    stream: *const isola_stream_t,
    json: *const c_char,
    pushed: *mut bool,
) -> *mut isola_error_t {
    guard(|| {
        check_out(pushed, "pushed")?;
        let stream = handle(stream, "stream")?;
        let accepted = stream
            .feed
            .try_push(Ok(Value::from_json_str(c_str(json, "json")?)?))?;
        write_out(pushed, accepted, "pushed")
    })
}

/// Push a CBOR value of `len` bytes without waiting, like
/// `isola_stream_try_push_json`.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_try_push_cbor(
    stream: *const isola_stream_t,
    cbor: *const u8,
    len: usize,
    pushed: *mut bool,
) -> *mut isola_error_t {
    guard(|| {
        check_out(pushed, "pushed")?;
        let stream = handle(stream, "stream")?;
        let accepted = stream
            .feed
            .try_push(Ok(Value::from_cbor(bytes(cbor, len, "cbor")?)?))?;
        write_out(pushed, accepted, "pushed")
    })
}

/// Free a stream. NULL is ignored. A call still reading it keeps its own
/// reference and sees the end of the stream. Pushes (and a fail) blocked
/// on it in other threads are woken and return `ISOLA_ERROR_INVALID_STATE`;
/// they never touch the freed stream. A push that has not started yet must
/// not race with the free.
#[unsafe(no_mangle)]
pub extern "C" fn isola_stream_free(stream: *mut isola_stream_t) {
    guard_value((), || isola_stream_t::free_raw(stream));
}
