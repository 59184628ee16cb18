//! Templates whose prelude runs once, at template build, and is snapshotted
//! (`SandboxTemplateBuilder::prelude_snapshot`).
//!
//! Each snapshot of a new prelude costs two compiles of the runtime (tens
//! of seconds on a small machine), so the tests share one cache directory
//! and one snapshotted template; the other preludes fail before their
//! snapshot and reuse the instrumented runtime compiled for the first.

mod common;

use std::path::{Path, PathBuf};

use common::eval;
use isola::{
    NoHost, SandboxOptions, SandboxTemplate,
    sandbox::{ErrorKind, MountMode},
};

/// Appends one line to a mounted file per run, imports a few modules (one
/// from a mounted package directory), defines functions and data, and draws
/// a random number.
const PRELUDE: &str = "\
import json, decimal, statistics, random, os, sys
with open('/data/runs.txt', 'a') as f:
    f.write('ran\\n')
sys.path.insert(0, '/pkgs')
import helper
HELPER_X = helper.X
TOKEN = random.random()
SEEN = []
os.environ['SET_BY_PRELUDE'] = '1'
ARGV_AT_BUILD = list(sys.argv)
def mean_json(xs):
    return json.dumps({'mean': str(statistics.mean(decimal.Decimal(x) for x in xs))})
";

struct Shared {
    cache: tempfile::TempDir,
    data: tempfile::TempDir,
    pkgs: tempfile::TempDir,
    template: SandboxTemplate,
    /// The mounted file's contents right after the first build.
    runs_after_build: String,
    /// Held by tests that run the prelude again or count its runs.
    runs_lock: tokio::sync::Mutex<()>,
}

fn builder(cache: &Path, data: &Path, pkgs: &Path) -> isola::sandbox::SandboxTemplateBuilder {
    SandboxTemplate::builder()
        .cache(Some(cache.to_path_buf()))
        .mount(data, "/data", MountMode::ReadWrite)
        .mount(pkgs, "/pkgs", MountMode::ReadOnly)
        .env("TEMPLATE_VAR", "from-template")
        .prelude(Some(PRELUDE.into()))
        .prelude_snapshot(true)
}

/// The one snapshotted template of this test binary, built once.
async fn shared() -> &'static Shared {
    static SHARED: tokio::sync::OnceCell<Shared> = tokio::sync::OnceCell::const_new();
    SHARED
        .get_or_init(|| async {
            let cache = tempfile::tempdir().unwrap();
            let data = tempfile::tempdir().unwrap();
            let pkgs = tempfile::tempdir().unwrap();
            std::fs::write(pkgs.path().join("helper.py"), "X = 1\n").unwrap();
            // Files that changed within the file-system timestamp
            // granularity (2 s) before a snapshot are not trusted to stay
            // unchanged, so its cache entry would not be reused.
            tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
            let template = builder(cache.path(), data.path(), pkgs.path())
                .build_embedded()
                .await
                .unwrap();
            Shared {
                runs_after_build: runs(data.path()),
                cache,
                data,
                pkgs,
                template,
                runs_lock: tokio::sync::Mutex::new(()),
            }
        })
        .await
}

fn runs(data: &Path) -> String {
    std::fs::read_to_string(data.join("runs.txt")).unwrap_or_default()
}

/// Compiled entries of a cache directory: name and inode (a rewritten
/// entry is a new file, renamed into place).
fn entries(dir: &Path) -> Vec<(PathBuf, u64)> {
    use std::os::unix::fs::MetadataExt;
    let mut list: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
        .map(|e| (e.path(), e.metadata().unwrap().ino()))
        .collect();
    list.sort();
    list
}

#[tokio::test(flavor = "multi_thread")]
async fn prelude_runs_once_at_build_and_every_sandbox_sees_its_definitions() {
    let shared = shared().await;
    assert_eq!(shared.runs_after_build, "ran\n");
    let _runs = shared.runs_lock.lock().await;
    let runs_before = runs(shared.data.path());
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let mut sb = shared
            .template
            .instantiate(NoHost, &SandboxOptions::default())
            .await
            .unwrap();
        // Named as without a snapshot: `<prelude>`, then the host's scripts
        // from `<script-1>`.
        let out = eval(
            &mut sb,
            "import inspect\nprint(inspect.getsourcefile(mean_json), inspect.currentframe().f_code.co_filename)",
        )
        .await;
        assert_eq!(out.stdout, "<prelude> <script-1>\n");
        let out = eval(&mut sb, "print(HELPER_X, mean_json([1, 2, 4]), TOKEN)").await;
        let (mean, token) = out.stdout.trim().rsplit_once(' ').unwrap();
        assert_eq!(mean, r#"1 {"mean": "2.333333333333333333333333333"}"#);
        tokens.push(token.to_string());
    }
    // One run at build, none per sandbox: the same drawn number everywhere
    // and no new line in the mounted file.
    assert!(tokens.iter().all(|t| t == &tokens[0]), "{tokens:?}");
    assert_eq!(runs(shared.data.path()), runs_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn sandboxes_of_a_snapshot_differ_in_randomness_and_see_their_own_environment() {
    let shared = shared().await;
    let probe = "import random, uuid, os\n\
                 print(random.random(), uuid.uuid4(), os.urandom(8).hex(), \
                 os.environ.get('WHO'), os.environ.get('TEMPLATE_VAR'), \
                 os.environ.get('SET_BY_PRELUDE'), os.getcwd())";
    let mut lines = Vec::new();
    for who in ["alice", "bob"] {
        let mut options = SandboxOptions::default();
        options.env("WHO", who);
        let mut sb = shared.template.instantiate(NoHost, &options).await.unwrap();
        lines.push(eval(&mut sb, probe).await.stdout);
    }
    let fields: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    // random.random(), uuid4() and urandom differ between the sandboxes.
    for (i, (a, b)) in fields[0].iter().zip(&fields[1]).take(3).enumerate() {
        assert_ne!(a, b, "field {i} repeats: {lines:?}");
    }
    assert_eq!(
        fields[0][3..],
        ["alice", "from-template", "None", "/home/user"]
    );
    assert_eq!(
        fields[1][3..],
        ["bob", "from-template", "None", "/home/user"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sandbox_of_a_snapshot_has_its_own_argv() {
    let shared = shared().await;
    let probe = "import sys\nprint(ARGV_AT_BUILD, sys.argv)";
    let mut options = SandboxOptions::default();
    options.argv(["first.py", "--flag"]).unwrap();
    let mut first = shared.template.instantiate(NoHost, &options).await.unwrap();
    options.argv(["second.py", "arg"]).unwrap();
    let mut second = shared.template.instantiate(NoHost, &options).await.unwrap();
    let mut plain = shared
        .template
        .instantiate(NoHost, &SandboxOptions::default())
        .await
        .unwrap();
    // The prelude ran once, with the template's (default) command line;
    // every sandbox then gets its own.
    assert_eq!(
        eval(&mut first, probe).await.stdout,
        "['sandbox'] ['first.py', '--flag']\n"
    );
    assert_eq!(
        eval(&mut second, probe).await.stdout,
        "['sandbox'] ['second.py', 'arg']\n"
    );
    assert_eq!(
        eval(&mut plain, probe).await.stdout,
        "['sandbox'] ['sandbox']\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_in_one_sandbox_do_not_reach_another() {
    let shared = shared().await;
    let options = SandboxOptions::default();
    let mut first = shared.template.instantiate(NoHost, &options).await.unwrap();
    let out = eval(
        &mut first,
        "SEEN.append(1); TOKEN = 'changed'; import os; f = open('/home/user/mine', 'w'); \
         f.write('x'); f.close(); print(SEEN, TOKEN)",
    )
    .await;
    assert_eq!(out.stdout, "[1] changed\n");
    let mut second = shared.template.instantiate(NoHost, &options).await.unwrap();
    let out = eval(
        &mut second,
        "import os; print(SEEN, TOKEN == 'changed', os.path.exists('/home/user/mine'))",
    )
    .await;
    assert_eq!(out.stdout, "[] False False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_build_maps_the_cached_snapshot_until_a_file_the_prelude_read_changes() {
    let shared = shared().await;
    let _runs = shared.runs_lock.lock().await;
    let build = || async {
        builder(shared.cache.path(), shared.data.path(), shared.pkgs.path())
            .build_embedded()
            .await
            .unwrap()
    };
    let helper_x = |template: SandboxTemplate| async move {
        let mut sb = template
            .instantiate(NoHost, &SandboxOptions::default())
            .await
            .unwrap();
        eval(&mut sb, "print(HELPER_X, len(SEEN))").await.stdout
    };
    let before = entries(shared.cache.path());
    // The runtime instrumented for snapshots and the snapshot itself.
    assert_eq!(before.len(), 2, "{before:?}");
    let runs_before = runs(shared.data.path());
    let template = build().await;
    assert_eq!(entries(shared.cache.path()), before);
    // Nothing ran again, and the template works.
    assert_eq!(runs(shared.data.path()), runs_before);
    assert_eq!(helper_x(template).await, "1 0\n");

    // The mounted module the prelude imported changes: the next build
    // runs the prelude again and caches a new snapshot beside the old one.
    std::fs::write(shared.pkgs.path().join("helper.py"), "X = 22\n").unwrap();
    let template = build().await;
    assert_eq!(helper_x(template).await, "22 0\n");
    assert_eq!(runs(shared.data.path()), format!("{runs_before}ran\n"));
    let after = entries(shared.cache.path());
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(
        before.iter().all(|entry| after.contains(entry)),
        "{after:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_prelude_fails_the_template_build_with_its_error() {
    let shared = shared().await;
    let err = SandboxTemplate::builder()
        .cache(Some(shared.cache.path().to_path_buf()))
        .prelude(Some("x = 1\nraise RuntimeError('bad prelude')".into()))
        .prelude_snapshot(true)
        .build_embedded()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::GuestException, "{err}");
    assert!(err.to_string().contains("bad prelude"), "{err}");
    assert!(
        err.to_string().contains("File \"<prelude>\", line 2"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prelude_leaving_files_or_tasks_behind_is_refused() {
    let shared = shared().await;
    for (prelude, expected) in [
        ("LOG = open('/home/user/log.txt', 'w')", "open files"),
        (
            "import os\nFD = os.open('/home/user/raw', os.O_CREAT | os.O_WRONLY)",
            "open file descriptors",
        ),
        (
            "import asyncio\nT = asyncio.get_event_loop().create_task(asyncio.sleep(60))",
            "unfinished asyncio task",
        ),
        (
            "with open('/home/user/data.json', 'w') as f:\n    f.write('{}')",
            "scratch file system",
        ),
    ] {
        let err = SandboxTemplate::builder()
            .cache(Some(shared.cache.path().to_path_buf()))
            .prelude(Some(prelude.into()))
            .prelude_snapshot(true)
            .build_embedded()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        let message = err.to_string();
        assert!(
            message.contains("cannot be snapshotted") && message.contains(expected),
            "{message}"
        );
    }
}
