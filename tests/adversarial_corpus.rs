//! The adversarial corpus (`tests/adversarial/corpus/*.py`): hostile guests,
//! each with its expected outcome in its header, run through the Rust API.
//! For every guest this checks the outcome, that the hostile sandbox is
//! either truly usable or refuses further calls, that a sibling sandbox of
//! the same template carries on, and that the host holds no more file
//! descriptors than before. (`tests/adversarial/run_corpus.py` runs the same
//! corpus through `isola-run`.)
//!
//! Header lines (`# key: value`, before the code):
//! - `expect`: `OK` or an error code name (`TIMEOUT`, `GUEST_EXCEPTION`, ...);
//! - `error`: text the error message must contain;
//! - `stdout`: text the guest's stdout must contain;
//! - `exit-status`: the exit status an uncaught `SystemExit` carries
//!   (`Error::exit_status`; `isola-run` exits with it);
//! - `after`: `usable` or `unusable`, pinning the hostile sandbox's state;
//! - `then`: code run before the follow-up call `1 + 1` that checks a usable
//!   sandbox really works (e.g. `del keep` to free what the guest kept);
//! - `options`: `timeout-ms=N`, `max-memory-mib=N`, `mount=ro:/guest`,
//!   `mount=rw:/guest`, `env=KEY=VALUE` (space separated). The read-only
//!   mount holds `secret.txt` and a symlink `outside` to `/etc`.

mod common;

use std::{path::Path, sync::Arc, time::Duration};

use common::{Recorder, eval, sandbox, sandbox_with};
use isola::{ErrorKind, FsPerms, NoHost, SandboxOptions};

/// Default time limit of a corpus guest without `timeout-ms`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

struct Case {
    name: String,
    code: String,
    expect: String,
    error: Option<String>,
    stdout: Option<String>,
    exit_status: Option<i32>,
    after: Option<String>,
    then: String,
    options: Vec<String>,
}

fn parse(path: &Path) -> Case {
    let code = std::fs::read_to_string(path).unwrap();
    let mut case = Case {
        name: path.file_name().unwrap().to_string_lossy().into_owned(),
        code: code.clone(),
        expect: String::new(),
        error: None,
        stdout: None,
        exit_status: None,
        after: None,
        then: "1 + 1".into(),
        options: Vec::new(),
    };
    for line in code.lines().take_while(|l| l.starts_with('#')) {
        let Some((key, value)) = line.trim_start_matches('#').trim().split_once(": ") else {
            continue;
        };
        let value = value.trim().to_string();
        match key {
            "expect" => case.expect = value,
            "error" => case.error = Some(value),
            "stdout" => case.stdout = Some(value),
            "exit-status" => case.exit_status = Some(value.parse().expect("exit-status: a number")),
            "after" => case.after = Some(value),
            "then" => case.then = format!("{value}\n1 + 1"),
            "options" => case.options = value.split_whitespace().map(String::from).collect(),
            _ => {}
        }
    }
    assert!(
        !case.expect.is_empty(),
        "{}: no `# expect:` line",
        case.name
    );
    case
}

/// The C name of an error kind, as `isola_error_code_name` spells it.
fn code_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::GuestException => "GUEST_EXCEPTION",
        ErrorKind::Timeout => "TIMEOUT",
        ErrorKind::Cancelled => "CANCELLED",
        ErrorKind::MemoryLimit => "MEMORY_LIMIT",
        ErrorKind::OutputLimit => "OUTPUT_LIMIT",
        ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
        ErrorKind::InvalidState => "INVALID_STATE",
        ErrorKind::Trap => "TRAP",
        ErrorKind::Io => "IO",
        ErrorKind::Internal => "INTERNAL",
        ErrorKind::ResourceExhausted => "RESOURCE_EXHAUSTED",
    }
}

/// Mount fixtures: a read-only directory with a secret and a symlink out,
/// and an empty writable one.
fn fixtures() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ro")).unwrap();
    std::fs::create_dir(dir.path().join("rw")).unwrap();
    std::fs::write(dir.path().join("ro/secret.txt"), "secret\n").unwrap();
    std::os::unix::fs::symlink("/etc", dir.path().join("ro/outside")).unwrap();
    dir
}

fn options_for(case: &Case, fixtures: &Path) -> SandboxOptions {
    let mut options = SandboxOptions::default();
    options.timeout(Some(DEFAULT_TIMEOUT));
    for option in &case.options {
        let (key, value) = option.split_once('=').unwrap();
        match key {
            "timeout-ms" => {
                options.timeout(Some(Duration::from_millis(value.parse().unwrap())));
            }
            "max-memory-mib" => {
                options.max_memory(value.parse::<usize>().unwrap() << 20);
            }
            "mount" => {
                let (mode, guest) = value.split_once(':').unwrap();
                let perms = if mode == "rw" {
                    FsPerms::ReadWrite
                } else {
                    FsPerms::ReadOnly
                };
                options.mount(fixtures.join(mode), guest, perms);
            }
            "env" => {
                let (k, v) = value.split_once('=').unwrap();
                options.env(k, v);
            }
            other => panic!("{}: unknown option {other}", case.name),
        }
    }
    options
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Run one case; `Err` says what went wrong.
async fn run(case: &Case) -> Result<(), String> {
    let fixtures = fixtures();
    let mut sibling = sandbox().await;
    eval(&mut sibling, "x = 41").await;
    let fds_before = open_fds();

    let options = options_for(case, fixtures.path());
    let mut hostile = sandbox_with(NoHost, &options).await;
    let sink = Arc::new(Recorder::default());
    let outcome = hostile.eval_script(&case.code, sink.clone()).await;
    let got = match &outcome {
        Ok(()) => "OK",
        Err(e) => code_name(e.kind()),
    };
    let message = outcome.as_ref().err().map(ToString::to_string);
    if got != case.expect {
        return Err(format!("expected {}, got {got}: {message:?}", case.expect));
    }
    let exit_status = outcome.as_ref().err().and_then(isola::Error::exit_status);
    if exit_status != case.exit_status {
        return Err(format!(
            "expected exit status {:?}, got {exit_status:?}",
            case.exit_status
        ));
    }
    if let Some(fragment) = &case.error
        && !message.as_deref().unwrap_or("").contains(fragment.as_str())
    {
        return Err(format!("error lacks {fragment:?}: {message:?}"));
    }
    let stdout = sink.output().stdout;
    if let Some(fragment) = &case.stdout
        && !stdout.contains(fragment.as_str())
    {
        return Err(format!("stdout lacks {fragment:?}: {stdout:?}"));
    }

    // The hostile sandbox is either truly usable or refuses further calls.
    let usable = hostile.is_usable();
    let again = hostile
        .eval_script(&case.then, Arc::new(Recorder::default()))
        .await;
    // A usable sandbox answers (a sandbox still full of the guest's data
    // may answer MEMORY_LIMIT again, but never traps); an unusable one
    // refuses with INVALID_STATE.
    match (usable, &again) {
        (true, Ok(())) => {}
        (true, Err(e)) if e.kind() == ErrorKind::MemoryLimit && hostile.is_usable() => {}
        (false, Err(e)) if e.kind() == ErrorKind::InvalidState => {}
        _ => return Err(format!("usable={usable} but the next call gave {again:?}")),
    }
    if let Some(after) = &case.after
        && (after == "usable") != usable
    {
        return Err(format!("expected the sandbox to be {after}"));
    }
    drop(hostile);

    // The sibling and the host carry on.
    let out = eval(&mut sibling, "x + 1").await;
    if out.result.as_ref().map(common::text).as_deref() != Some("42") {
        return Err(format!("sibling sandbox broken: {:?}", out.result));
    }
    let fds_after = open_fds();
    if fds_after > fds_before + 2 {
        return Err(format!(
            "the host holds {} more file descriptors",
            fds_after - fds_before
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_hostile_guest_is_contained() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/adversarial/corpus");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 40, "the corpus has {} guests", paths.len());
    let only = std::env::var("ISOLA_CORPUS_ONLY").ok();
    let mut failures = Vec::new();
    for path in &paths {
        let case = parse(path);
        if only
            .as_ref()
            .is_some_and(|o| !case.name.contains(o.as_str()))
        {
            continue;
        }
        let started = std::time::Instant::now();
        let result = run(&case).await;
        eprintln!(
            "{} {} ({:.1} s)",
            if result.is_ok() { "ok  " } else { "FAIL" },
            case.name,
            started.elapsed().as_secs_f64()
        );
        if let Err(why) = result {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
