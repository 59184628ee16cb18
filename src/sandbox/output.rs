//! Collecting a call's output into memory.

use parking_lot::Mutex;

use crate::{host::OutputSink, value::Value};

/// Everything a call produced, collected by [`super::Sandbox::call`].
#[derive(Debug, Default, Clone)]
pub struct CallOutput {
    /// Values yielded, in order.
    pub items: Vec<Value>,
    /// The return value.
    pub result: Option<Value>,
    /// Text written to stdout.
    pub stdout: String,
    /// Text written to stderr.
    pub stderr: String,
}

/// A sink that records into a [`CallOutput`].
#[derive(Debug, Default)]
pub(crate) struct Collector(Mutex<CallOutput>);

impl Collector {
    pub(crate) fn take(&self) -> CallOutput {
        std::mem::take(&mut self.0.lock())
    }
}

impl OutputSink for Collector {
    fn on_item(&self, value: &Value) {
        self.0.lock().items.push(value.clone());
    }
    fn on_result(&self, value: &Value) {
        self.0.lock().result = Some(value.clone());
    }
    fn on_stdout(&self, text: &str) {
        self.0.lock().stdout.push_str(text);
    }
    fn on_stderr(&self, text: &str) {
        self.0.lock().stderr.push_str(text);
    }
}
