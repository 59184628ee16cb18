//! Host resources the guest waits on: host-fed chunk streams and pending
//! answers (host calls, HTTP). Each is a `Pollable`, so the guest event loop
//! can wait for many at once with `wasi:io/poll`.

use std::{future::Future, pin::Pin, task::Poll};

use futures::{FutureExt, Stream, StreamExt, future::BoxFuture, stream::BoxStream};

use std::sync::Arc;

use parking_lot::Mutex;

use super::{
    bindings::isola::sandbox::types::StreamNext,
    relay::{Deferred, Relay},
};

/// A lazily pulled stream of byte chunks (CBOR values or body bytes).
/// Nothing is buffered beyond the one chunk the guest is waiting for, so the
/// producer sees back-pressure.
pub struct ChunkStream {
    source: BoxStream<'static, Result<Vec<u8>, String>>,
    ready: Option<StreamNext>,
    finished: bool,
}

impl ChunkStream {
    /// Wrap a stream of chunks; an `Err` item ends the stream as `failed`.
    pub(crate) fn new(
        source: impl Stream<Item = Result<Vec<u8>, String>> + Send + 'static,
    ) -> Self {
        Self {
            source: source.boxed(),
            ready: None,
            finished: false,
        }
    }

    fn step(item: Option<Result<Vec<u8>, String>>) -> StreamNext {
        match item {
            Some(Ok(chunk)) => StreamNext::Chunk(chunk),
            Some(Err(message)) => StreamNext::Failed(message),
            None => StreamNext::End,
        }
    }

    /// Take the next step without blocking.
    pub(crate) fn try_next(&mut self) -> StreamNext {
        if let Some(step) = self.ready.take() {
            self.finished = !matches!(step, StreamNext::Chunk(_));
            return step;
        }
        if self.finished {
            return StreamNext::End;
        }
        match self.source.next().now_or_never() {
            Some(item) => {
                let step = Self::step(item);
                self.finished = !matches!(step, StreamNext::Chunk(_));
                step
            }
            None => StreamNext::Pending,
        }
    }
}

#[async_trait::async_trait]
impl wasmtime_wasi::p2::Pollable for ChunkStream {
    async fn ready(&mut self) {
        if self.ready.is_some() || self.finished {
            return;
        }
        let item = self.source.next().await;
        self.ready = Some(Self::step(item));
    }
}

/// An answer the host produces later, taken by the guest exactly once.
pub struct PendingAnswer<T: Send + 'static> {
    state: AnswerState<T>,
}

enum AnswerState<T> {
    Waiting(BoxFuture<'static, Result<T, String>>),
    Ready(Result<T, String>),
    Taken,
}

impl<T: Send + 'static> PendingAnswer<T> {
    /// Start `future` with its first poll on the call driver's stack (where
    /// a C host callback may safely run), then track it.
    pub(crate) async fn start(
        relay: &Relay,
        future: impl Future<Output = Result<T, String>> + Send + 'static,
    ) -> Self {
        let slot: Arc<Mutex<Option<AnswerState<T>>>> = Arc::new(Mutex::new(None));
        let filled = Arc::clone(&slot);
        let mut future = future.boxed();
        relay
            .hand_over(Deferred::Start(Box::new(move || {
                let state = match poll_once(&mut future) {
                    Poll::Ready(answer) => AnswerState::Ready(answer),
                    Poll::Pending => AnswerState::Waiting(future),
                };
                *filled.lock() = Some(state);
            })))
            .await;
        let state = slot.lock().take().unwrap_or_else(|| {
            AnswerState::Ready(Err("internal error: the host call was not started".into()))
        });
        Self { state }
    }

    /// An answer that is a failure from the start (the host is not asked).
    pub(crate) fn failed(message: String) -> Self {
        Self {
            state: AnswerState::Ready(Err(message)),
        }
    }

    /// `None` while the answer is not there; then the answer, once. A second
    /// take after the answer reports an error instead of trapping.
    pub(crate) fn take(&mut self) -> Option<Result<T, String>> {
        if let AnswerState::Waiting(future) = &mut self.state {
            match poll_once(future) {
                Poll::Ready(answer) => self.state = AnswerState::Ready(answer),
                Poll::Pending => return None,
            }
        }
        match std::mem::replace(&mut self.state, AnswerState::Taken) {
            AnswerState::Ready(answer) => Some(answer),
            AnswerState::Taken => Some(Err("the answer was already taken".into())),
            AnswerState::Waiting(_) => unreachable!("handled above"),
        }
    }
}

#[async_trait::async_trait]
impl<T: Send + 'static> wasmtime_wasi::p2::Pollable for PendingAnswer<T> {
    async fn ready(&mut self) {
        if let AnswerState::Waiting(future) = &mut self.state {
            let answer = future.await;
            self.state = AnswerState::Ready(answer);
        }
    }
}

/// Poll a future once without a waker; a later poll registers the real one.
fn poll_once<T>(future: &mut BoxFuture<'static, T>) -> Poll<T> {
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    Pin::new(future).poll(&mut cx)
}

/// The pending answer of a guest host call: CBOR bytes or the host's error.
pub type HostcallFuture = PendingAnswer<Vec<u8>>;

/// The pending answer of a guest HTTP request.
pub type HttpFuture = PendingAnswer<crate::host::HttpResponse>;
