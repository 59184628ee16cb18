//! stdout, stderr and logging reach the sink as separate, ordered events.

mod common;

use std::sync::Arc;

use common::{Event, Recorder, sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn stdout_stderr_and_logging_are_separate_events_in_order() {
    let mut sb = sandbox().await;
    let sink = Arc::new(Recorder::default());
    sb.eval_script(
        "import sys, logging\nprint('a')\nprint('b', file=sys.stderr)\nlogging.getLogger('app').warning('careful %d', 3)\nprint('c')\n",
        sink.clone(),
    )
    .await
    .unwrap();
    let events: Vec<Event> = sink
        .events()
        .into_iter()
        .filter(|e| !matches!(e, Event::Result(_)))
        .collect();
    assert_eq!(
        events,
        vec![
            Event::Stdout("a\n".into()),
            Event::Stderr("b\n".into()),
            Event::Log(30, "app".into(), "careful 3".into()),
            Event::Stdout("c\n".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_flushed_even_when_the_call_fails() {
    let mut sb = sandbox().await;
    let sink = Arc::new(Recorder::default());
    let err = sb
        .eval_script(
            "import sys\nsys.stdout.write('partial')\nraise RuntimeError('x')\n",
            sink.clone(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("RuntimeError"));
    assert_eq!(sink.output().stdout, "partial");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_levels_are_numeric_python_levels() {
    let mut sb = sandbox().await;
    let sink = Arc::new(Recorder::default());
    sb.eval_script(
        "import logging\nlog = logging.getLogger('lv')\nlog.setLevel(logging.DEBUG)\nlog.debug('d')\nlog.info('i')\nlog.error('e')\n",
        sink.clone(),
    )
    .await
    .unwrap();
    let levels: Vec<u32> = sink
        .events()
        .into_iter()
        .filter_map(|e| {
            if let Event::Log(l, _, _) = e {
                Some(l)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(levels, [10, 20, 40]);
}

/// A sink whose callback needs far more stack than a wasmtime fiber has.
struct StackHungrySink(std::sync::Mutex<Vec<String>>);

impl isola::OutputSink for StackHungrySink {
    fn on_stdout(&self, text: &str) {
        let mut big = [0u8; 6 << 20];
        big[text.len() % 1024] = 1;
        let used = std::hint::black_box(&big)
            .iter()
            .filter(|b| **b == 1)
            .count();
        self.0.lock().unwrap().push(format!("{used} {text}"));
    }
}

#[test]
fn sink_callbacks_run_on_the_calling_threads_own_stack() {
    // 6 MiB of callback stack would overflow a fiber stack; on the calling
    // thread (given 32 MiB here) it is fine.
    let worker = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut sb = sandbox().await;
                let sink = Arc::new(StackHungrySink(Default::default()));
                sb.eval_script("print('deep')", sink.clone()).await.unwrap();
                sink.0.lock().unwrap().clone()
            })
        })
        .unwrap();
    assert_eq!(worker.join().unwrap(), ["1 deep\n"]);
}
