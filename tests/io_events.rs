//! stdout, stderr and logging reach the sink as separate, ordered events.

mod common;

use std::sync::Arc;

use common::{Event, Recorder, eval, eval_events, sandbox};

#[tokio::test(flavor = "multi_thread")]
async fn stdout_stderr_and_logging_are_separate_events_in_order() {
    let mut sb = sandbox().await;
    let events = eval_events(
        &mut sb,
        "import sys, logging\nprint('a')\nprint('b', file=sys.stderr)\nlogging.getLogger('app').warning('careful %d', 3)\nprint('c')\n",
    )
    .await;
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
    let levels: Vec<u32> = eval_events(
        &mut sb,
        "import logging\nlog = logging.getLogger('lv')\nlog.setLevel(logging.DEBUG)\nlog.debug('d')\nlog.info('i')\nlog.error('e')\n",
    )
    .await
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

#[tokio::test(flavor = "multi_thread")]
async fn fd_writes_and_print_arrive_in_program_order() {
    let mut sb = sandbox().await;
    let events = eval_events(
        &mut sb,
        "import os, sys\n\
         assert (sys.stdout.fileno(), sys.stderr.fileno(), sys.stdout.buffer.fileno()) == (1, 2, 1)\n\
         print('a')\n\
         os.write(1, b'b\\n')\n\
         print('c', file=sys.stderr)\n\
         os.write(2, b'd\\n')\n\
         with open(1, 'w', closefd=False) as f:\n    f.write('e\\n')\n\
         print('f')\n\
         os.write(sys.stdout.fileno(), b'g\\n')\n",
    )
    .await;
    assert_eq!(
        events,
        vec![
            Event::Stdout("a\n".into()),
            Event::Stdout("b\n".into()),
            Event::Stderr("c\n".into()),
            Event::Stderr("d\n".into()),
            Event::Stdout("e\n".into()),
            Event::Stdout("f\n".into()),
            Event::Stdout("g\n".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fd_bytes_are_decoded_across_writes_and_never_lost() {
    let mut sb = sandbox().await;
    // A euro sign split over two writes, an invalid byte, and a character
    // cut off at the end of the call.
    let out = common::eval(
        &mut sb,
        "import os\nos.write(1, b'\\xe2\\x82')\nos.write(1, b'\\xac \\xff ok')\nos.write(1, b'\\xe2\\x82')\n",
    )
    .await;
    assert_eq!(out.stdout, "€ \\xff ok\\xe2\\x82");
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_reads_end_of_file() {
    let mut sb = sandbox().await;
    let out = common::eval(
        &mut sb,
        "import os, sys\nprint(repr(sys.stdin.read()), repr(os.read(0, 10)))\n\
         try:\n    input()\nexcept EOFError:\n    print('EOF')\n",
    )
    .await;
    assert_eq!(out.stdout, "'' b''\nEOF\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn fd_output_past_the_limit_fails_the_call_even_if_swallowed() {
    let mut options = isola::SandboxOptions::default();
    options.max_output_bytes(10_000);
    let mut sb = common::sandbox_with(isola::NoHost, &options).await;
    let sink = Arc::new(Recorder::default());
    let err = sb
        .eval_script(
            "import os\nrefused = 0\nfor _ in range(100):\n    try:\n        os.write(1, b'x' * 1000)\n    except OSError:\n        refused += 1\n\
             assert refused > 0\n",
            sink.clone(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), isola::ErrorKind::OutputLimit, "{err}");
    assert!(err.to_string().contains("10000 bytes"), "{err}");
    // Everything accepted before the limit was delivered.
    assert_eq!(sink.output().stdout.len(), 10_000);
    // The sandbox carries on with a fresh budget.
    let out = common::eval(&mut sb, "import os\nos.write(1, b'again\\n')").await;
    assert_eq!(out.stdout, "again\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn standard_descriptors_can_be_saved_redirected_and_restored() {
    // What pytest's output capture does with descriptors 1 and 2.
    let mut sb = sandbox().await;
    let events = eval_events(
        &mut sb,
        "import os\n\
         saved = os.dup(1)\n\
         assert os.dup2(2, 1) == 1\n\
         os.write(1, b'fd 1 now writes to stderr\\n')\n\
         print('and so does print')\n\
         os.write(saved, b'the saved copy is still stdout\\n')\n\
         os.dup2(saved, 1)\n\
         os.close(saved)\n\
         print('restored')\n",
    )
    .await;
    assert_eq!(
        events,
        vec![
            Event::Stderr("fd 1 now writes to stderr\n".into()),
            Event::Stderr("and so does print\n".into()),
            Event::Stdout("the saved copy is still stdout\n".into()),
            Event::Stdout("restored\n".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn files_opened_on_a_standard_descriptor_follow_its_redirection() {
    // click's CliRunner(capture="fd"): a writer opened on descriptor 1 or 2
    // before the redirection (a logging handler's stream) writes where
    // os.dup2 sent the descriptor, as in python; it wrote to stdout.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os, tempfile\n\
         stale = open(1, 'w', closefd=False)\n\
         raw = open(2, 'wb', buffering=0, closefd=False)\n\
         f = tempfile.TemporaryFile()\n\
         saved_out, saved_err = os.dup(1), os.dup(2)\n\
         os.dup2(f.fileno(), 1)\n\
         os.dup2(f.fileno(), 2)\n\
         stale.write('stale\\n'); stale.flush()\n\
         print(raw.write(b'raw\\n'))\n\
         os.dup2(saved_out, 1); os.dup2(saved_err, 2)\n\
         stale.write('back\\n'); stale.flush()\n\
         f.seek(0)\n\
         print(f.read())\n",
    )
    .await;
    assert_eq!(out.stdout, "back\nb'stale\\nraw\\n4\\n'\n");
}
