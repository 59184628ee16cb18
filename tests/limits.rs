//! Time, memory and output limits, cancellation, and the unusable state.

mod common;

use std::{sync::Arc, time::Duration};

use common::{Recorder, eval, sandbox, sandbox_with};
use isola::{CancelOutcome, ErrorKind, NoHost, SandboxOptions};

#[tokio::test(flavor = "multi_thread")]
async fn timeout_traps_and_sandbox_refuses_reuse() {
    let mut sb = sandbox().await;
    sb.set_timeout(Some(Duration::from_millis(200)));
    let started = std::time::Instant::now();
    let err = sb
        .eval_script("while True:\n    pass\n", Arc::new(Recorder::default()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!sb.is_usable());
    let again = sb
        .eval_script("1", Arc::new(Recorder::default()))
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::InvalidState, "{again}");
    assert!(again.to_string().contains("timed out"), "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_from_options_applies_to_every_call() {
    let mut options = SandboxOptions::default();
    options.timeout(Some(Duration::from_millis(100)));
    let mut sb = sandbox_with(NoHost, &options).await;
    eval(&mut sb, "def spin():\n    while True:\n        pass\n").await;
    let err = sb.call("spin", []).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_also_stops_a_guest_sleeping_on_the_host() {
    let mut sb = sandbox().await;
    sb.set_timeout(Some(Duration::from_millis(200)));
    let err = sb
        .eval_script(
            "import asyncio\nawait asyncio.sleep(30)\n",
            Arc::new(Recorder::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_from_another_thread_stops_the_call() {
    let mut sb = sandbox().await;
    let handle = sb.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        handle.cancel();
    });
    let err = sb
        .eval_script("while True:\n    pass\n", Arc::new(Recorder::default()))
        .await
        .unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
    assert!(!sb.is_usable());
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_while_idle_does_nothing_and_a_handle_outlives_its_sandbox() {
    let mut sb = sandbox().await;
    let handle = sb.cancel_handle();
    assert_eq!(handle.cancel(), CancelOutcome::Idle);
    sb.eval_script("x = 1", Arc::new(Recorder::default()))
        .await
        .expect("an idle cancel must not reach the next call");
    assert!(sb.is_usable());
    drop(sb);
    assert_eq!(handle.cancel(), CancelOutcome::Gone);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_bomb_gets_memory_error_and_sandbox_survives() {
    let mut options = SandboxOptions::default();
    options.max_memory(96 << 20);
    let mut sb = sandbox_with(NoHost, &options).await;
    let err = sb
        .eval_script(
            "x = bytearray(512 * 1024 * 1024)",
            Arc::new(Recorder::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MemoryLimit, "{err}");
    assert!(err.to_string().contains("MemoryError"), "{err}");
    assert!(sb.is_usable());
    let out = eval(&mut sb, "print(sum(range(10)))").await;
    assert_eq!(out.stdout, "45\n");
    assert!(sb.memory_usage() <= 96 << 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_can_catch_memory_error() {
    let mut options = SandboxOptions::default();
    options.max_memory(96 << 20);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "try:\n    x = bytearray(512 * 1024 * 1024)\nexcept MemoryError:\n    print('caught')\n",
    )
    .await;
    assert_eq!(out.stdout, "caught\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_usage_grows_with_allocation() {
    let mut sb = sandbox().await;
    let before = sb.memory_usage();
    assert!(before > 0);
    eval(&mut sb, "big = bytearray(64 * 1024 * 1024)").await;
    assert!(
        sb.memory_usage() >= before + (60 << 20),
        "{before} -> {}",
        sb.memory_usage()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn too_small_memory_limit_fails_creation_clearly() {
    let mut options = SandboxOptions::default();
    options.max_memory(1 << 20);
    let err = common::template()
        .await
        .instantiate(NoHost, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MemoryLimit, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn value_larger_than_cap_is_an_output_limit() {
    let mut options = SandboxOptions::default();
    options.max_value_bytes(1024);
    let mut sb = sandbox_with(NoHost, &options).await;
    eval(&mut sb, "def big():\n    return 'x' * 5000\n").await;
    let err = sb.call("big", []).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutputLimit, "{err}");
    assert!(sb.is_usable());
    eval(&mut sb, "def small():\n    return 'ok'\n").await;
    assert!(sb.call("small", []).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn total_output_cap_stops_a_chatty_call() {
    let mut options = SandboxOptions::default();
    options.max_output_bytes(10_000);
    let mut sb = sandbox_with(NoHost, &options).await;
    let err = sb
        .eval_script(
            "while True:\n    print('spam' * 100)\n",
            Arc::new(Recorder::default()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutputLimit, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_recursion_is_contained() {
    let mut sb = sandbox().await;
    let err = sb
        .eval_script(
            "def f(n):\n    return f(n + 1)\nf(0)\n",
            Arc::new(Recorder::default()),
        )
        .await
        .unwrap_err();
    // Either Python's RecursionError or a contained stack-overflow trap.
    assert!(
        matches!(err.kind(), ErrorKind::GuestException | ErrorKind::Trap),
        "{err:?}"
    );
    if err.kind() == ErrorKind::GuestException {
        assert!(err.to_string().contains("RecursionError"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn runaway_recursion_under_a_raised_limit_raises_recursion_error() {
    // `sys.setrecursionlimit(10**6)` is a common idiom. Freeing the
    // traceback of an exception that unwound through more than about
    // 220,000 frames recursed past the native stack and trapped, ending the
    // sandbox; the guest caps the limit below that depth.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import sys\n\
         sys.setrecursionlimit(10**6)\n\
         def runaway(n):\n    return runaway(n + 1)\n\
         try:\n    runaway(0)\nexcept RecursionError as e:\n    print(type(e).__name__)\n\
         def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\n\
         print(depth(100_000), sys.getrecursionlimit() >= 100_000)\n",
    )
    .await;
    assert_eq!(out.stdout, "RecursionError\n100000 True\n");
    assert_eq!(eval(&mut sb, "print(sum(range(4)))").await.stdout, "6\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_tracebacks_format_as_python_formats_them() {
    // The guest formats only the frames a traceback shows (a runaway
    // recursion's 150,000 frames took over 20 s); the text must stay
    // CPython's, byte for byte, including repeats, mixed frames and a
    // subclass that hides frames.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import sys, traceback\n\
         from isola_guest import tracebacks\n\
         def down(n):\n    return 1 // 0 if n == 0 else up(n) if n % 500 == 0 else down(n - 1) + 1\n\
         def up(n):\n    return down(n - 1)\n\
         def rec(n):\n    return rec(n + 1) + 1\n\
         class Hiding(traceback.StackSummary):\n\
         \x20   def format_frame_summary(self, fs, **kw):\n\
         \x20       return None if fs.name == 'up' else super().format_frame_summary(fs, **kw)\n\
         def failure(call, limit):\n\
         \x20   sys.setrecursionlimit(limit)\n\
         \x20   try:\n        call()\n    except (ZeroDivisionError, RecursionError) as e:\n        return e\n\
         same = 0\n\
         for call in (lambda: down(1200), lambda: rec(0)):\n\
         \x20   stack = traceback.extract_tb(failure(call, 3000).__traceback__)\n\
         \x20   for summary in (stack, Hiding.from_list(stack)):\n\
         \x20       same += summary.format() == tracebacks._original_format(summary)\n\
         text = ''.join(traceback.format_exception(failure(lambda: rec(0), 10**6)))\n\
         repeats = [int(w) for w in text.split() if w.isdigit() and int(w) > 100_000]\n\
         print(same, text.count('Previous line repeated'), repeats[0] > 149_900)\n",
    )
    .await;
    assert_eq!(out.stdout, "4 1 True\n", "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn recursion_through_c_code_raises_recursion_error() {
    // Recursion that goes through C functions (map, __getattr__, repr,
    // pickle, lru_cache) uses the native stack; it must end in Python's
    // RecursionError, catchable, with the sandbox still usable, not in a
    // trap (with wasmtime's default 512 KiB stack it trapped at a few
    // hundred levels, inside Python's default recursion limit).
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import functools, pickle, sys\n\
         def via_map(n):\n    return 0 if n == 0 else 1 + sum(map(via_map, [n - 1]))\n\
         class Attr:\n    def __getattr__(self, name):\n        return getattr(self, name + 'x')\n\
         @functools.lru_cache(None)\ndef fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\
         nested = []\nfor _ in range(100_000):\n    nested = [nested]\n\
         print(via_map(300))\n\
         for name, call in (('map', lambda: via_map(100_000)), ('getattr', lambda: Attr().y),\n\
         \x20                  ('repr', lambda: repr(nested)), ('pickle', lambda: pickle.dumps(nested)),\n\
         \x20                  ('lru_cache', lambda: fib(50_000))):\n\
         \x20   try:\n        call()\n        print(name, 'returned')\n\
         \x20   except RecursionError:\n        print(name, 'RecursionError')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "300\nmap RecursionError\ngetattr RecursionError\nrepr RecursionError\n\
         pickle RecursionError\nlru_cache RecursionError\n"
    );
    assert_eq!(eval(&mut sb, "print(sum(range(4)))").await.stdout, "6\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_comparisons_and_json_raise_recursion_error() {
    // These C recursions use little of CPython's linear-memory stack per
    // level, so they reach its check only with a native stack many times
    // larger (with 8 MiB they trapped; boltons' tests compare
    // self-referential lists on purpose).
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import json\n\
         def nest(n, wrap):\n    x = wrap(None)\n    for _ in range(n):\n        x = wrap(x)\n    return x\n\
         a = []\na.append(a)\nb = []\nb.append(b)\nd = {}\nd['self'] = d\ne = {}\ne['self'] = e\n\
         lists = nest(90_000, lambda x: [x]), nest(90_000, lambda x: [x])\n\
         dicts = nest(60_000, lambda x: {'k': x}), nest(60_000, lambda x: {'k': x})\n\
         for name, call in (('self-referential lists', lambda: a == b), ('self-referential dicts', lambda: d == e),\n\
         \x20                  ('nested lists', lambda: lists[0] == lists[1]), ('nested dicts', lambda: dicts[0] == dicts[1]),\n\
         \x20                  ('repr', lambda: repr(dicts[0])), ('json.loads', lambda: json.loads('[' * 90_000 + ']' * 90_000))):\n\
         \x20   try:\n        call()\n        print(name, 'returned')\n\
         \x20   except RecursionError:\n        print(name, 'RecursionError')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "self-referential lists RecursionError\nself-referential dicts RecursionError\n\
         nested lists RecursionError\nnested dicts RecursionError\nrepr RecursionError\n\
         json.loads RecursionError\n"
    );
    assert_eq!(eval(&mut sb, "print(sum(range(4)))").await.stdout, "6\n");
}
