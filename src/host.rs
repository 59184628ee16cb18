//! What the embedding application provides: privileged operations ([`Host`])
//! and a destination for guest output ([`OutputSink`]).

use std::pin::Pin;

use futures::Stream;

use crate::value::Value;

/// Error type returned by host implementations; its text reaches the guest.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A stream of HTTP body chunks produced by the host.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, BoxError>> + Send + 'static>>;

/// An HTTP request made by guest code. The host decides whether and how to
/// perform it; the sandbox itself has no network access.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method, upper case as the guest gave it (`GET`, `POST`, ...).
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header pairs in guest order.
    pub headers: Vec<(String, String)>,
    /// Request body, if any.
    pub body: Option<Vec<u8>>,
}

/// The host's answer to an [`HttpRequest`].
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header pairs.
    pub headers: Vec<(String, String)>,
    /// Body chunks, pulled lazily as the guest reads.
    pub body: BodyStream,
}

impl HttpResponse {
    /// A response whose body is one buffer.
    #[must_use]
    pub fn with_body(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        let chunks = if body.is_empty() {
            vec![]
        } else {
            vec![Ok(body)]
        };
        Self {
            status,
            headers,
            body: Box::pin(futures::stream::iter(chunks)),
        }
    }
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// Privileged operations the guest may request. Every method has a default
/// that refuses, so a host implements only what it offers.
///
/// Methods are called on the thread driving the sandbox call; the returned
/// futures may complete later (the guest keeps running other tasks).
#[async_trait::async_trait]
pub trait Host: Send + Sync + 'static {
    /// Answer `await sandbox.hostcall(name, payload)` from the guest.
    async fn hostcall(&self, name: &str, payload: Value) -> Result<Value, BoxError> {
        let _ = payload;
        Err(format!("host call '{name}' is not supported by this host").into())
    }

    /// Perform (or refuse) an HTTP request made by the guest.
    async fn http_request(&self, request: HttpRequest) -> Result<HttpResponse, BoxError> {
        Err(format!(
            "HTTP requests are not allowed by this host ({})",
            request.url
        )
        .into())
    }
}

/// A host offering nothing: host calls and HTTP are refused.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHost;

impl Host for NoHost {}

/// Python `logging` level of a log event (numeric, as Python defines them).
pub type LogLevel = u32;

/// Receives everything a running call produces, in order, on the thread
/// driving the call. Calls for one sandbox never overlap.
pub trait OutputSink: Send + Sync {
    /// A value yielded by a generator (or `sandbox.emit`).
    fn on_item(&self, value: &Value) {
        let _ = value;
    }
    /// The final return value of a call.
    fn on_result(&self, value: &Value) {
        let _ = value;
    }
    /// Text the guest wrote to `sys.stdout`.
    fn on_stdout(&self, text: &str) {
        let _ = text;
    }
    /// Text the guest wrote to `sys.stderr`.
    fn on_stderr(&self, text: &str) {
        let _ = text;
    }
    /// A Python `logging` record.
    fn on_log(&self, level: LogLevel, logger: &str, message: &str) {
        let _ = (level, logger, message);
    }
}

/// A sink that drops everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct DiscardSink;

impl OutputSink for DiscardSink {}
