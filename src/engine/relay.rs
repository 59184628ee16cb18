//! Work the guest asks of the host that must run on the caller's own
//! stack rather than on the wasmtime fiber stack the guest runs on: sink
//! callbacks and the first poll of host calls (which calls into C).
//!
//! Host imports queue that work here and briefly suspend the guest; the
//! future driving the call delivers the queue between fiber resumptions.
//! Callbacks into C, Go or C++ therefore see the thread's normal stack, and
//! ordering is preserved (each item reaches the sink before the guest
//! computes the next one).

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::{
    host::{LogLevel, OutputSink},
    value::Value,
};

/// One piece of deferred work.
pub(crate) enum Deferred {
    Item(Value),
    Result(Value),
    Stdout(String),
    Stderr(String),
    Log(LogLevel, String, String),
    /// Run a closure (starting a host call) on the caller's stack.
    Start(Box<dyn FnOnce() + Send>),
}

/// The queue between a sandbox's host imports and its call driver.
#[derive(Default)]
pub(crate) struct Relay {
    queue: Mutex<VecDeque<Deferred>>,
}

impl Relay {
    /// Queue `work` and suspend the guest so the driver performs it now.
    pub(crate) async fn hand_over(&self, work: Deferred) {
        self.push(work);
        tokio::task::yield_now().await;
    }

    /// Queue `work` without suspending the guest; it is performed at the
    /// driver's next turn, after everything queued before it.
    pub(crate) fn push(&self, work: Deferred) {
        self.queue.lock().push_back(work);
    }

    /// Perform all queued work, in order, on the current stack. The lock is
    /// not held while callbacks run.
    pub(crate) fn deliver(&self, sink: &dyn OutputSink) {
        loop {
            let Some(work) = self.queue.lock().pop_front() else {
                return;
            };
            match work {
                Deferred::Item(value) => sink.on_item(&value),
                Deferred::Result(value) => sink.on_result(&value),
                Deferred::Stdout(text) => sink.on_stdout(&text),
                Deferred::Stderr(text) => sink.on_stderr(&text),
                Deferred::Log(level, logger, message) => sink.on_log(level, &logger, &message),
                Deferred::Start(start) => start(),
            }
        }
    }
}
