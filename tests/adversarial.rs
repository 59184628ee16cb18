//! Hostile guest code is contained with a clear error, and the host and
//! other sandboxes carry on.

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Recorder, eval, sandbox, sandbox_with};
use isola::{ErrorKind, NoHost, SandboxOptions};

async fn failing(code: &str, options: &SandboxOptions) -> isola::Error {
    let mut sb = sandbox_with(NoHost, options).await;
    sb.set_timeout(Some(Duration::from_secs(5)));
    sb.eval_script(code, Arc::new(Recorder::default()))
        .await
        .unwrap_err()
}

#[tokio::test(flavor = "multi_thread")]
async fn process_creation_is_impossible() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os\n\
         for name, attempt in [('fork', lambda: os.fork()), ('system', lambda: os.system('ls')),\n\
         \x20                     ('execv', lambda: os.execv('/bin/sh', ['sh'])), ('kill', lambda: os.kill(1, 9))]:\n\
         \x20   try:\n        attempt()\n        print('ALLOWED', name)\n\
         \x20   except (AttributeError, OSError, NotImplementedError) as e:\n        print('blocked', name)\n",
    )
    .await;
    assert!(!out.stdout.contains("ALLOWED"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("blocked").count(), 4, "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_environment_is_invisible() {
    // SAFETY: set before any sandbox of this test reads the environment; tests
    // in this binary do not depend on this variable.
    unsafe { std::env::set_var("ISOLA_HOST_SECRET", "leaked") };
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os\nprint(sorted(os.environ.items()), os.getcwd())",
    )
    .await;
    assert!(!out.stdout.contains("leaked"), "{}", out.stdout);
    // Nothing of the host's: only the LC_CTYPE that python's start-up sets
    // in an environment without a locale (PEP 538).
    assert!(
        out.stdout.starts_with("[('LC_CTYPE', 'C.UTF-8')] "),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn host_filesystem_is_invisible_without_mounts() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os\n\
         for p in ['/', '/etc', '/proc', '/tmp', '.']:\n\
         \x20   try:\n        print(p, os.listdir(p))\n\
         \x20   except OSError as e:\n        print(p, 'blocked')\n",
    )
    .await;
    assert!(!out.stdout.contains("passwd"), "{}", out.stdout);
    // /etc is the sandbox's own: its UTC local-time files, nothing else.
    assert!(
        out.stdout.starts_with(
            "/ ['dev', 'etc', 'home', 'tmp']\n/etc ['localtime', 'timezone']\n/proc blocked\n"
        ),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn huge_output_hits_the_output_limit() {
    let mut options = SandboxOptions::default();
    options.max_output_bytes(1 << 20);
    let err = failing(
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        &options,
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::OutputLimit, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn output_limit_cannot_be_swallowed() {
    let mut options = SandboxOptions::default();
    options.max_output_bytes(10_000);
    let err = failing(
        "for _ in range(1000):\n    try:\n        print('x' * 1000)\n    except BaseException:\n        pass\n",
        &options,
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::OutputLimit, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_growth_bomb_is_a_memory_error() {
    let mut options = SandboxOptions::default();
    options.max_memory(128 << 20);
    let err = failing("x = []\nwhile True:\n    x.append('y' * 10000)\n", &options).await;
    assert_eq!(err.kind(), ErrorKind::MemoryLimit, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn threads_do_not_escape() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "try:\n    import threading\n    t = threading.Thread(target=lambda: None)\n    t.start()\n    t.join()\n    print('ran')\n\
         except Exception as e:\n    print('blocked', type(e).__name__)\n",
    )
    .await;
    assert!(
        out.stdout.starts_with("blocked") || out.stdout == "ran\n",
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runaway_sandbox_does_not_disturb_another() {
    let template = common::template().await;
    let runaway = tokio::spawn({
        let template = template.clone();
        async move {
            let mut sb = template
                .instantiate(NoHost, &Default::default())
                .await
                .unwrap();
            sb.set_timeout(Some(Duration::from_millis(500)));
            sb.eval_script("while True:\n    pass\n", Arc::new(Recorder::default()))
                .await
                .unwrap_err()
        }
    });
    let mut calm = template
        .instantiate(NoHost, &Default::default())
        .await
        .unwrap();
    for i in 0..20 {
        let out = eval(&mut calm, &format!("print({i} * 2)")).await;
        assert_eq!(out.stdout, format!("{}\n", i * 2));
    }
    assert_eq!(runaway.await.unwrap().kind(), ErrorKind::Timeout);
    let out = eval(&mut calm, "print('still fine')").await;
    assert_eq!(out.stdout, "still fine\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_sandboxes_live_at_once() {
    let template = common::template().await;
    let mut sandboxes = Vec::new();
    for i in 0..100 {
        let mut sb = template
            .instantiate(NoHost, &Default::default())
            .await
            .unwrap();
        eval(&mut sb, &format!("me = {i}")).await;
        sandboxes.push(sb);
    }
    for (i, sb) in sandboxes.iter_mut().enumerate() {
        let out = eval(sb, "print(me)").await;
        assert_eq!(out.stdout, format!("{i}\n"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_log_levels_reach_the_sink_as_standard_levels() {
    let mut sb = sandbox().await;
    let sink = Arc::new(Recorder::default());
    sb.eval_script(
        "from isola_guest import hostapi\n\
         for level in [4_000_000_000, 51, 25, 10, 0]:\n    hostapi.emit_log(level, 'forged', str(level))\n",
        sink.clone(),
    )
    .await
    .unwrap();
    let levels: Vec<(u32, String)> = sink
        .events()
        .into_iter()
        .filter_map(|e| match e {
            common::Event::Log(level, _, message) => Some((level, message)),
            _ => None,
        })
        .collect();
    let expected = [
        (50, "4000000000"),
        (50, "51"),
        (20, "25"),
        (10, "10"),
        (0, "0"),
    ];
    assert_eq!(
        levels,
        expected.map(|(l, m)| (l, m.to_string())),
        "levels outside 0, 10, ..., 50 are normalized"
    );
}

/// A host that never answers and counts what reaches it.
struct Silent(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl isola::Host for Silent {
    async fn hostcall(
        &self,
        _name: &str,
        _payload: isola::Value,
    ) -> Result<isola::Value, isola::BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_host_calls_are_capped_before_reaching_the_host() {
    let reached = Arc::new(AtomicUsize::new(0));
    let mut sb = sandbox_with(Silent(reached.clone()), &SandboxOptions::default()).await;
    let out = eval(
        &mut sb,
        "from isola_guest import hostapi\n\
         held = [hostapi.hostcall('wait', b'\\xf6') for _ in range(1100)]\n\
         last = held[-1].get()\n\
         del held\n\
         str(getattr(last, 'value', last))\n",
    )
    .await;
    assert_eq!(
        reached.load(Ordering::SeqCst),
        isola::sandbox::MAX_PENDING_HOST_CALLS
    );
    let message = common::text(&out.result.unwrap());
    assert!(message.contains("too many host calls"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pending_host_calls_cap_is_a_sandbox_option() {
    let reached = Arc::new(AtomicUsize::new(0));
    let mut options = SandboxOptions::default();
    options.max_pending_host_calls(8);
    let mut sb = sandbox_with(Silent(reached.clone()), &options).await;
    let out = eval(
        &mut sb,
        "from isola_guest import hostapi\n\
         held = [hostapi.hostcall('wait', b'\\xf6') for _ in range(20)]\n\
         last = held[-1].get()\n\
         del held\n\
         str(getattr(last, 'value', last))\n",
    )
    .await;
    assert_eq!(reached.load(Ordering::SeqCst), 8);
    let message = common::text(&out.result.unwrap());
    assert!(message.contains("too many host calls"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn host_objects_cap_is_a_sandbox_option() {
    let flood = "from isola_guest import hostapi\n\
                 fut = hostapi.hostcall('x', b'\\xf6')\n\
                 held = [fut.subscribe() for _ in range(1000)]\n\
                 print(len(held))\n";
    // The default cap leaves room for 1000 pollables ...
    let mut sb = sandbox().await;
    assert_eq!(eval(&mut sb, flood).await.stdout, "1000\n");
    // ... a cap of 300 does not: the call traps naming the cap.
    let mut options = SandboxOptions::default();
    options.max_host_objects(300);
    let err = failing(flood, &options).await;
    assert_eq!(err.kind(), ErrorKind::Trap, "{err}");
    assert!(
        err.to_string().contains("more than 300 host objects"),
        "{err}"
    );
    // The lowest cap (asking for less gives 64) still runs ordinary code.
    let mut options = SandboxOptions::default();
    options.max_host_objects(1);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import json, os\nprint(json.dumps(os.listdir('/')))",
    )
    .await;
    assert!(out.stdout.contains("tmp"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn process_apis_import_and_fail_at_use_naming_the_sandbox() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os, subprocess, multiprocessing\n\
         for name, attempt in [('subprocess.run', lambda: subprocess.run(['sh', '-c', 'echo hi'])),\n\
         \x20                     ('os.popen', lambda: os.popen('ls')), ('os.fork', lambda: os.fork()),\n\
         \x20                     ('Process.start', lambda: multiprocessing.Process(target=print).start())]:\n\
         \x20   try:\n        attempt()\n        print('ALLOWED', name)\n\
         \x20   except OSError as e:\n        print(name, type(e).__name__, 'isola sandbox' in str(e))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "subprocess.run ProcessNotAvailable True\nos.popen ProcessNotAvailable True\n\
         os.fork ProcessNotAvailable True\nProcess.start ProcessNotAvailable True\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn network_is_unreachable_even_below_the_socket_module() {
    // A real listener on the host: no attempt may reach it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        &format!(
            "import socket, _socket\n\
             addr = ('127.0.0.1', {port})\n\
             def raw():\n    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)\n    s.connect(addr)\n\
             for name, attempt in [('connect', lambda: socket.socket().connect(addr)),\n\
             \x20   ('create_connection', lambda: socket.create_connection(addr, timeout=1)),\n\
             \x20   ('_socket', raw),\n\
             \x20   ('udp', lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', addr)),\n\
             \x20   ('bind', lambda: socket.socket().bind(('127.0.0.1', 0))),\n\
             \x20   ('socketpair', lambda: socket.socketpair()),\n\
             \x20   ('dns', lambda: socket.getaddrinfo('localhost', 80))]:\n\
             \x20   try:\n        attempt()\n        print('ALLOWED', name)\n\
             \x20   except OSError as e:\n        print(name, type(e).__name__, 'isola sandbox' in str(e))\n"
        ),
    )
    .await;
    assert_eq!(
        out.stdout,
        "connect PermissionError True\ncreate_connection gaierror True\n_socket PermissionError False\n\
         udp PermissionError True\nbind PermissionError True\nsocketpair PermissionError True\n\
         dns gaierror True\n"
    );
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "a connection reached the host"
    );
}
