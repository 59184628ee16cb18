//! Evaluating scripts and calling guest functions.

mod common;

use std::sync::Arc;

use common::{Event, Recorder, eval, json, sandbox, text};
use isola::{Arg, ErrorKind};

#[tokio::test(flavor = "multi_thread")]
async fn call_with_positional_args_returns_the_result() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def add(a, b):\n    return a + b\n").await;
    let out = sb
        .call(
            "add",
            [Arg::Positional(json("1")), Arg::Positional(json("2"))],
        )
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "3");
    assert!(out.items.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn call_with_named_args() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def greet(name, punct='!'):\n    return f'hi {name}{punct}'\n",
    )
    .await;
    let out = sb
        .call(
            "greet",
            [
                Arg::Positional(json("\"bob\"")),
                Arg::Named("punct".into(), json("\"?\"")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "\"hi bob?\"");
}

#[tokio::test(flavor = "multi_thread")]
async fn argument_order_and_names_are_checked_on_every_call_path() {
    let mut sb = sandbox().await;
    eval(
        &mut sb,
        "def pair(a, b=0, **more):\n    return [a, b, sorted(more)]\n",
    )
    .await;
    // Complete values, positional first: the guest's call-cbor export.
    let out = sb
        .call(
            "pair",
            [
                Arg::Positional(json("1")),
                Arg::Named("b".into(), json("2")),
                Arg::Named("z".into(), json("3")),
            ],
        )
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "[1,2,[\"z\"]]");
    let twice = sb
        .call(
            "pair",
            [
                Arg::Positional(json("1")),
                Arg::Named("b".into(), json("2")),
                Arg::Named("b".into(), json("3")),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(twice.kind(), ErrorKind::InvalidArgument, "{twice:?}");
    assert!(
        twice.to_string().contains("'b' given more than once"),
        "{twice}"
    );
    // A positional argument after a named one goes through call-func,
    // which refuses it as python's syntax does.
    let late = sb
        .call(
            "pair",
            [
                Arg::Named("b".into(), json("2")),
                Arg::Positional(json("1")),
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(late.kind(), ErrorKind::InvalidArgument, "{late:?}");
    assert!(
        late.to_string().contains("follows keyword arguments"),
        "{late}"
    );
    // The sandbox goes on after refused arguments.
    let out = sb.call("pair", [Arg::Positional(json("5"))]).await.unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "[5,0,[]]");
}

#[tokio::test(flavor = "multi_thread")]
async fn definitions_persist_between_evals() {
    let mut sb = sandbox().await;
    eval(&mut sb, "x = 40").await;
    eval(&mut sb, "def f():\n    return x + 2\n").await;
    let out = sb.call("f", []).await.unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "42");
}

#[tokio::test(flavor = "multi_thread")]
async fn exception_carries_type_and_traceback() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def boom(n):\n    raise ValueError(f'bad {n}')\n").await;
    let err = sb
        .call("boom", [Arg::Positional(json("7"))])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GuestException);
    let isola::Error::UserCode {
        kind,
        message,
        exit_status,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(kind, "ValueError");
    assert_eq!(*exit_status, None);
    assert!(message.contains("Traceback"), "{message}");
    assert!(message.contains("ValueError: bad 7"), "{message}");
    assert!(message.contains("in boom"), "{message}");
    // the sandbox keeps working after a Python exception
    eval(&mut sb, "y = 1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn system_exit_carries_the_exit_status_python_would_give() {
    let mut sb = sandbox().await;
    // sys.exit() and sys.exit(0) end a script or a call successfully.
    eval(&mut sb, "import sys\nsys.exit(0)\n").await;
    eval(&mut sb, "def leave(code):\n    sys.exit(code)\n").await;
    let out = sb
        .call("leave", [Arg::Positional(json("null"))])
        .await
        .unwrap();
    assert_eq!(text(out.result.as_ref().unwrap()), "null");
    for (code, status) in [("3", 3), ("300", 300), ("-1", -1), ("\"usage\"", 1)] {
        let err = sb
            .call("leave", [Arg::Positional(json(code))])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::GuestException, "{err:?}");
        assert_eq!(err.exit_status(), Some(status), "{err:?}");
        assert!(err.to_string().contains("SystemExit"), "{err}");
    }
    let err = sb
        .eval_script("raise SystemExit(7)", Arc::new(isola::DiscardSink))
        .await
        .unwrap_err();
    assert_eq!(err.exit_status(), Some(7));
    let err = sb
        .eval_script("raise ValueError(7)", Arc::new(isola::DiscardSink))
        .await
        .unwrap_err();
    assert_eq!(err.exit_status(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn os_exit_ends_the_sandbox_with_its_status_and_no_clean_up() {
    for (status, code) in [(0, "0"), (3, "3"), (-1, "-1"), (300, "300")] {
        let mut sb = sandbox().await;
        eval(
            &mut sb,
            "import atexit, os\natexit.register(print, 'atexit ran')\n",
        )
        .await;
        eval(
            &mut sb,
            "def leave(code):\n    print('before', end='')\n    try:\n        os._exit(code)\n    \
             finally:\n        print('finally ran')\n",
        )
        .await;
        let sink = Arc::new(Recorder::default());
        let err = sb
            .call_with_sink("leave", [Arg::Positional(json(code))], sink.clone())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::GuestException, "{err:?}");
        assert_eq!(err.exit_status(), Some(status), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("os._exit({status}) ended the sandbox")),
            "{err}"
        );
        // What was printed before arrives; no finally or atexit code ran.
        assert_eq!(sink.output().stdout, "before");
        assert!(!sb.is_usable());
        let again = sb
            .eval_script("1", Arc::new(isola::DiscardSink))
            .await
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::InvalidState, "{again:?}");
    }
    // A bad status is python's TypeError and the sandbox goes on.
    let mut sb = sandbox().await;
    let err = sb
        .eval_script("import os\nos._exit('3')", Arc::new(isola::DiscardSink))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TypeError"), "{err}");
    assert_eq!(err.exit_status(), None);
    eval(&mut sb, "y = 1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_script_is_named_so_in_tracebacks_and_inspect() {
    let mut sb = sandbox().await;
    let sink = Arc::new(Recorder::default());
    let err = sb
        .eval_script_named(
            "def parse(s):\n    return int(s)\nparse('x')\n",
            "/srv/udf/parse.py",
            sink.clone(),
        )
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("File \"/srv/udf/parse.py\", line 2, in parse\n    return int(s)"),
        "{message}"
    );
    // Unnamed scripts keep their numbers; `__file__` is not set by a name.
    let out = eval(
        &mut sb,
        "import inspect\nprint(inspect.getsourcefile(parse), inspect.currentframe().f_code.co_filename, '__file__' in globals())",
    )
    .await;
    assert_eq!(out.stdout, "/srv/udf/parse.py <script-1> False\n");
    // The same name again replaces its source: the new lines are shown.
    sb.eval_script_named("\ndef parse(s):\n    return 2\n", "/srv/udf/parse.py", sink)
        .await
        .unwrap();
    let out = eval(&mut sb, "print(inspect.getsource(parse), end='')").await;
    assert_eq!(out.stdout, "def parse(s):\n    return 2\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn tracebacks_and_inspect_see_each_scripts_source() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def first():\n    return 1 // 0\n").await;
    eval(&mut sb, "def second():\n    return 'two'\n").await;
    // A function keeps its own script's lines after later scripts ran.
    let err = sb.call("first", []).await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("File \"<script-1>\", line 2, in first"),
        "{message}"
    );
    assert!(message.contains("    return 1 // 0"), "{message}");
    let out = eval(
        &mut sb,
        "import inspect\nprint(inspect.getsource(first), end='')\nprint(inspect.getsource(second), end='')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "def first():\n    return 1 // 0\ndef second():\n    return 'two'\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn syntax_error_is_a_guest_exception() {
    let mut sb = sandbox().await;
    let err = sb
        .eval_script("def (:", Arc::new(Recorder::default()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GuestException);
    assert!(err.to_string().contains("SyntaxError"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_function_is_an_invalid_argument() {
    let mut sb = sandbox().await;
    let err = sb.call("nope", []).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn print_reaches_the_sink_as_stdout() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import sys\nprint('hello')\nprint('oops', file=sys.stderr)",
    )
    .await;
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.stderr, "oops\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn values_roundtrip_with_full_precision() {
    let mut sb = sandbox().await;
    eval(&mut sb, "def echo(v):\n    return v\n").await;
    for v in [
        r#"{"a":[1,2.5,"x",null,true,false]}"#,
        "18446744073709551615",
        "-18446744073709551616",
        "123456789012345678901234567890",
        r#""üñí €""#,
    ] {
        let out = sb.call("echo", [Arg::Positional(json(v))]).await.unwrap();
        assert_eq!(text(out.result.as_ref().unwrap()), v);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sandboxes_are_isolated() {
    let mut a = sandbox().await;
    let mut b = sandbox().await;
    eval(&mut a, "secret = 1").await;
    let err = b
        .eval_script("secret", Arc::new(Recorder::default()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NameError"), "{err}");
    let events = {
        let r = Arc::new(Recorder::default());
        a.eval_script("print(secret)", r.clone()).await.unwrap();
        r.events()
    };
    assert!(events.contains(&Event::Stdout("1\n".into())), "{events:?}");
}

/// Sandboxes created and freed one after another reuse one warm pool slot.
/// From the second on, the first eval maps the pages the template's first
/// sandbox wrote, and a freed sandbox's pages of that set after its 31st
/// run are returned to the kernel before wasmtime resets the slot
/// (engine::prefault): whatever one sandbox wrote, the next starts from
/// the runtime's image.
#[tokio::test(flavor = "multi_thread")]
async fn a_reused_slot_starts_from_the_image() {
    // A template of its own, so its first sandbox is the one that learns.
    let template = isola::SandboxTemplate::builder()
        .cache(Some(common::cache_dir()))
        .build_embedded()
        .await
        .expect("building the template");
    let modules = "(sys, json, os, re, collections, random, functools, builtins)";
    for round in 0..12 {
        let mut sb = template
            .instantiate(isola::NoHost, &isola::SandboxOptions::default())
            .await
            .expect("instantiating");
        eval(
            &mut sb,
            &format!(
                "import sys, json, os, re, collections, random, functools, builtins\n\
                 def seen():\n    \
                     return [m.__name__ for m in {modules} if hasattr(m, 'isola_mark')]\n"
            ),
        )
        .await;
        let out = sb.call("seen", []).await.unwrap();
        assert_eq!(text(out.result.as_ref().unwrap()), "[]", "round {round}");
        eval(
            &mut sb,
            &format!(
                "for m in {modules}:\n    m.isola_mark = {round}\n\
                 kept = [bytearray(b'x' * 4096) for _ in range(64)]\n"
            ),
        )
        .await;
        let out = sb.call("seen", []).await.unwrap();
        assert_eq!(
            text(out.result.as_ref().unwrap()),
            r#"["sys","json","os","re","collections","random","functools","builtins"]"#,
            "round {round}"
        );
    }
}
