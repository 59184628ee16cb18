//! Shared set-up for the integration tests: one template per test process,
//! compiled artifacts cached under target/ so only the first process compiles.

#![allow(dead_code)]

use std::sync::Arc;

use isola::{CallOutput, Host, NoHost, Sandbox, SandboxOptions, SandboxTemplate, Value};

/// The cache directory shared by every test process: the library default
/// (so tests, examples and `make demo` compile the runtime once).
pub fn cache_dir() -> std::path::PathBuf {
    isola::sandbox::default_cache_dir()
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("isola-cache"))
}

/// A template from the embedded runtime, built once per process.
pub async fn template() -> SandboxTemplate {
    static TEMPLATE: tokio::sync::OnceCell<SandboxTemplate> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            SandboxTemplate::builder()
                .cache(Some(cache_dir()))
                .build_embedded()
                .await
                .expect("building the template")
        })
        .await
        .clone()
}

/// A sandbox with default options and no host.
pub async fn sandbox() -> Sandbox {
    sandbox_with(NoHost, &SandboxOptions::default()).await
}

/// A sandbox with a host and options.
pub async fn sandbox_with(host: impl Host, options: &SandboxOptions) -> Sandbox {
    template()
        .await
        .instantiate(host, options)
        .await
        .expect("instantiating")
}

/// Evaluate `code`, panicking with the guest error on failure.
pub async fn eval(sandbox: &mut Sandbox, code: &str) -> CallOutput {
    let sink = Arc::new(Recorder::default());
    sandbox
        .eval_script(code, sink.clone())
        .await
        .expect("eval failed");
    sink.output()
}

/// Evaluate `code`, panicking on failure, and return the events it sent
/// other than the final result, in order.
pub async fn eval_events(sandbox: &mut Sandbox, code: &str) -> Vec<Event> {
    let sink = Arc::new(Recorder::default());
    sandbox
        .eval_script(code, sink.clone())
        .await
        .expect("eval failed");
    sink.events()
        .into_iter()
        .filter(|e| !matches!(e, Event::Result(_)))
        .collect()
}

/// JSON value helper.
pub fn json(text: &str) -> Value {
    Value::from_json_str(text).unwrap()
}

/// JSON text of a value.
pub fn text(value: &Value) -> String {
    value.to_json_string().unwrap()
}

/// An event seen by a sink, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Item(String),
    Result(String),
    Stdout(String),
    Stderr(String),
    Log(u32, String, String),
}

/// A sink recording every event in order.
#[derive(Debug, Default)]
pub struct Recorder {
    events: std::sync::Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    pub fn output(&self) -> CallOutput {
        let mut out = CallOutput::default();
        for event in self.events() {
            match event {
                Event::Item(v) => out.items.push(json(&v)),
                Event::Result(v) => out.result = Some(json(&v)),
                Event::Stdout(t) => out.stdout.push_str(&t),
                Event::Stderr(t) => out.stderr.push_str(&t),
                Event::Log(..) => {}
            }
        }
        out
    }

    fn push(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }
}

impl isola::OutputSink for Recorder {
    fn on_item(&self, value: &Value) {
        self.push(Event::Item(text(value)));
    }
    fn on_result(&self, value: &Value) {
        self.push(Event::Result(text(value)));
    }
    fn on_stdout(&self, t: &str) {
        self.push(Event::Stdout(t.to_string()));
    }
    fn on_stderr(&self, t: &str) {
        self.push(Event::Stderr(t.to_string()));
    }
    fn on_log(&self, level: u32, logger: &str, message: &str) {
        self.push(Event::Log(level, logger.to_string(), message.to_string()));
    }
}
