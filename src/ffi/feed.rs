//! The bounded, thread-safe queue behind every object the host pushes
//! into a running call: `isola_stream_t` (values) and `isola_http_body_t`
//! (response body chunks). One rule set for both: a push blocks while the
//! queue is full, a try-push never blocks, a close or free wakes every
//! blocked push, and a blocked push never touches the object it was
//! called on once it waits.

use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use super::{error::FfiError, runtime::ensure_can_block};

/// Largest capacity of a feed (`SIZE_MAX / 8`, the limit of tokio's
/// bounded channel).
pub(crate) const MAX_CAPACITY: usize = tokio::sync::Semaphore::MAX_PERMITS;

/// A bounded queue of `T` with a writing side shared by any number of
/// threads and one reading end handed to a call.
pub(crate) struct Feed<T> {
    /// What the C API calls the object ("stream", "response body"), for
    /// error messages.
    name: &'static str,
    sender: Mutex<Option<mpsc::Sender<T>>>,
    receiver: Mutex<Option<mpsc::Receiver<T>>>,
    /// Wakes pushes blocked on a full queue when it is closed or freed.
    closed: watch::Sender<bool>,
}

impl<T: Send> Feed<T> {
    /// A feed holding at most `capacity` unread items (1 to
    /// [`MAX_CAPACITY`], else `INVALID_ARGUMENT`).
    pub(crate) fn new(name: &'static str, capacity: usize) -> Result<Self, FfiError> {
        if capacity == 0 || capacity > MAX_CAPACITY {
            return Err(FfiError::invalid_argument(format!(
                "{name} capacity must be between 1 and {MAX_CAPACITY}, not {capacity}"
            )));
        }
        let (sender, receiver) = mpsc::channel(capacity);
        Ok(Self {
            name,
            sender: Mutex::new(Some(sender)),
            receiver: Mutex::new(Some(receiver)),
            closed: watch::channel(false).0,
        })
    }

    /// The reading end, once.
    pub(crate) fn take_receiver(&self) -> Option<mpsc::Receiver<T>> {
        self.receiver.lock().take()
    }

    /// The sending end, while the feed is open.
    fn sender(&self) -> Result<mpsc::Sender<T>, FfiError> {
        self.sender
            .lock()
            .clone()
            .ok_or_else(|| FfiError::invalid_state(format!("the {} is closed", self.name)))
    }

    /// Push, waiting while the feed is full; `stop` (when given) ends the
    /// wait too once it turns true. The wait uses only owned clones, never
    /// `self`: a free during the wait wakes it (see `Drop`) and cannot be a
    /// use-after-free.
    pub(crate) fn push(
        &self,
        value: T,
        what: &str,
        stop: Option<watch::Receiver<bool>>,
    ) -> Result<(), FfiError> {
        let sender = self.sender()?;
        ensure_can_block(what)?;
        let closed = self.closed.subscribe();
        send_blocking(self.name, &sender, closed, stop, value)
    }

    /// Push without waiting: `Ok(false)` when the feed is full.
    pub(crate) fn try_push(&self, value: T) -> Result<bool, FfiError> {
        match self.sender()?.try_send(value) {
            Ok(()) => Ok(true),
            Err(mpsc::error::TrySendError::Full(_)) => Ok(false),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(reader_finished(self.name)),
        }
    }

    /// Push a last value, waiting for room, and close: the sending end
    /// leaves the feed first, so the wait never touches `self`.
    pub(crate) fn push_last(&self, value: T, what: &str) -> Result<(), FfiError> {
        ensure_can_block(what)?;
        let sender = self
            .sender
            .lock()
            .take()
            .ok_or_else(|| FfiError::invalid_state(format!("the {} is closed", self.name)))?;
        let closer = self.closed.clone();
        let closed = self.closed.subscribe();
        let pushed = send_blocking(self.name, &sender, closed, None, value);
        // Wake pushes still blocked on the full feed.
        closer.send_replace(true);
        pushed
    }

    /// Close the writing side (idempotent); blocked pushes wake and fail.
    /// `false` when it was already closed.
    pub(crate) fn close(&self) -> bool {
        let was_open = self.sender.lock().take().is_some();
        self.closed.send_replace(true);
        was_open
    }

    /// Whether the reading end is gone (the reader dropped it).
    pub(crate) fn reader_gone(&self) -> bool {
        self.sender
            .lock()
            .as_ref()
            .is_some_and(mpsc::Sender::is_closed)
    }
}

impl<T> Drop for Feed<T> {
    /// A free wakes every push still waiting on the feed.
    fn drop(&mut self) {
        self.closed.send_replace(true);
    }
}

fn reader_finished(name: &str) -> FfiError {
    FfiError::invalid_state(format!(
        "the {name}'s reader has finished; nothing reads it any more"
    ))
}

/// Send `value`, waiting for room; a close (or free), or `stop` turning
/// true, ends the wait.
fn send_blocking<T>(
    name: &str,
    sender: &mpsc::Sender<T>,
    mut closed: watch::Receiver<bool>,
    stop: Option<watch::Receiver<bool>>,
    value: T,
) -> Result<(), FfiError> {
    futures::executor::block_on(async {
        let stopped = async {
            match stop {
                Some(mut stop) => {
                    // An error means the sender is gone: the call is over.
                    let _ = stop.wait_for(|stopped| *stopped).await;
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            sent = sender.send(value) => sent.map_err(|_| reader_finished(name)),
            _ = closed.wait_for(|closed| *closed) => {
                Err(FfiError::invalid_state(format!("the {name} was closed while this push waited")))
            }
            () = stopped => {
                Err(FfiError::invalid_state(format!(
                    "the call reading the {name} ended while this push waited"
                )))
            }
        }
    })
}
