//! Mounts (read-only, read-write, no escape), env vars, eval_file, options merge.

mod common;

use std::sync::Arc;

use common::{Recorder, eval, sandbox_with};
use isola::{FsPerms, NoHost, SandboxOptions};

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.txt"), "hello from host").unwrap();
    std::fs::write(
        dir.path().join("script.py"),
        "import os\nfrom_file = os.environ.get('GREETING')\nprint('script ran')\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("pkgs")).unwrap();
    std::fs::create_dir(dir.path().join("pkgs/mylib")).unwrap();
    std::fs::write(
        dir.path().join("pkgs/mylib/__init__.py"),
        "def shout(s):\n    return s.upper() + '!'\n",
    )
    .unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_mount_is_readable_but_not_writable() {
    let dir = fixture();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/data", FsPerms::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "print(open('/data/data.txt').read())\n\
         try:\n    open('/data/new.txt', 'w').write('x')\n    print('wrote')\n\
         except PermissionError:\n    print('PermissionError')\n\
         except OSError as e:\n    print('OSError', e.errno)\n",
    )
    .await;
    assert_eq!(out.stdout.lines().next(), Some("hello from host"));
    assert!(
        !dir.path().join("new.txt").exists(),
        "read-only mount was written"
    );
    assert!(out.stdout.contains("Error"), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn read_write_mount_writes_reach_the_host() {
    let dir = fixture();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/work", FsPerms::ReadWrite);
    let mut sb = sandbox_with(NoHost, &options).await;
    eval(
        &mut sb,
        "with open('/work/out.txt', 'w') as f:\n    f.write('written by guest')\n",
    )
    .await;
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "written by guest"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_outside_the_mounts_is_reachable() {
    let dir = fixture();
    std::os::unix::fs::symlink("/etc", dir.path().join("etc-link")).unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/data", FsPerms::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import os\n\
         for p in ['/etc/passwd', '/data/../etc/passwd', '/data/etc-link/passwd', '../../etc/passwd', '/proc/self/environ']:\n\
         \x20   try:\n        open(p).read()\n        print('LEAK', p)\n\
         \x20   except OSError:\n        print('blocked')\n",
    )
    .await;
    assert!(!out.stdout.contains("LEAK"), "{}", out.stdout);
    assert_eq!(out.stdout.matches("blocked").count(), 5, "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn env_comes_only_from_options_and_overrides_win() {
    let template = isola::SandboxTemplate::builder()
        .cache(Some(common::cache_dir()))
        .env("GREETING", "hello")
        .env("MODE", "template")
        .build_embedded()
        .await
        .unwrap();
    let mut overrides = SandboxOptions::default();
    overrides.env("MODE", "sandbox");
    let mut sb = template.instantiate(NoHost, &overrides).await.unwrap();
    let out = eval(
        &mut sb,
        "import os\nprint(os.environ.get('GREETING'), os.environ.get('MODE'), 'HOME' in os.environ, 'PATH' in os.environ)",
    )
    .await;
    assert_eq!(out.stdout, "hello sandbox False False\n");
}

/// A command-line program: argparse over `sys.argv`.
const ARGPARSE_PROGRAM: &str = "\
import argparse, sys
parser = argparse.ArgumentParser()
parser.add_argument('--count', type=int, default=1)
parser.add_argument('-v', '--verbose', action='store_true')
parser.add_argument('files', nargs='*')
args = parser.parse_args()
print(sys.argv[0], args.count, args.verbose, args.files)
";

#[tokio::test(flavor = "multi_thread")]
async fn argparse_program_sees_the_argv_option() {
    let mut options = SandboxOptions::default();
    options
        .argv(["report.py", "--count", "3", "-v", "a.csv", "b.csv"])
        .unwrap();
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(&mut sb, ARGPARSE_PROGRAM).await;
    assert_eq!(out.stdout, "report.py 3 True ['a.csv', 'b.csv']\n");

    // Without the option: a stand-in program name and no arguments.
    let mut plain = common::sandbox().await;
    let out = eval(&mut plain, "import sys\nprint(sys.argv)").await;
    assert_eq!(out.stdout, "['sandbox']\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn sandboxes_of_one_template_get_their_own_argv() {
    let mut defaults = SandboxOptions::default();
    defaults.argv(["tool.py", "--from-template"]).unwrap();
    let template = isola::SandboxTemplate::builder()
        .cache(Some(common::cache_dir()))
        .options(defaults)
        .build_embedded()
        .await
        .unwrap();
    let mut first = SandboxOptions::default();
    first.argv(["tool.py", "--count", "7"]).unwrap();
    let mut second = SandboxOptions::default();
    second.argv(["tool.py", "x.txt"]).unwrap();
    let mut a = template.instantiate(NoHost, &first).await.unwrap();
    let mut b = template.instantiate(NoHost, &second).await.unwrap();
    let mut inherits = template
        .instantiate(NoHost, &SandboxOptions::default())
        .await
        .unwrap();
    let read = "import sys\nprint(sys.argv)";
    assert_eq!(
        eval(&mut a, read).await.stdout,
        "['tool.py', '--count', '7']\n"
    );
    assert_eq!(eval(&mut b, read).await.stdout, "['tool.py', 'x.txt']\n");
    assert_eq!(
        eval(&mut inherits, read).await.stdout,
        "['tool.py', '--from-template']\n"
    );
}

#[test]
fn argv_refuses_an_empty_list_and_nul_bytes() {
    let mut options = SandboxOptions::default();
    let err = options.argv(Vec::<String>::new()).unwrap_err();
    assert_eq!(err.kind(), isola::sandbox::ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("program name"), "{err}");
    let err = options.argv(["prog", "ok", "bad\0arg"]).unwrap_err();
    assert_eq!(err.kind(), isola::sandbox::ErrorKind::InvalidArgument);
    assert!(
        err.to_string().contains("argv[2] contains a NUL byte"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn eval_file_runs_a_mounted_script() {
    let dir = fixture();
    let mut options = SandboxOptions::default();
    options
        .mount(dir.path(), "/code", FsPerms::ReadOnly)
        .env("GREETING", "hi");
    let mut sb = sandbox_with(NoHost, &options).await;
    let sink = Arc::new(Recorder::default());
    sb.eval_file("/code/script.py", sink.clone()).await.unwrap();
    assert_eq!(sink.output().stdout, "script ran\n");
    let out = eval(&mut sb, "print(from_file)").await;
    assert_eq!(out.stdout, "hi\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn packages_in_a_mounted_directory_import() {
    let dir = fixture();
    let mut options = SandboxOptions::default();
    options.mount(dir.path().join("pkgs"), "/pkgs", FsPerms::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import sys\nsys.path.append('/pkgs')\nimport mylib\nprint(mylib.shout('hi'))",
    )
    .await;
    assert_eq!(out.stdout, "HI!\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn pythonpath_env_adds_package_directories() {
    let dir = fixture();
    let mut options = SandboxOptions::default();
    options
        .mount(dir.path().join("pkgs"), "/pkgs", FsPerms::ReadOnly)
        .env("PYTHONPATH", "/pkgs");
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(&mut sb, "import mylib\nprint(mylib.shout('ok'))").await;
    assert_eq!(out.stdout, "OK!\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_mount_directory_fails_sandbox_creation() {
    let mut options = SandboxOptions::default();
    options.mount("/definitely/not/here", "/data", FsPerms::ReadOnly);
    let err = common::template()
        .await
        .instantiate(NoHost, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), isola::ErrorKind::Io, "{err}");
    assert!(err.to_string().contains("/definitely/not/here"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bytecode_compiled_in_a_sandbox_is_used_from_a_read_only_mount() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/__init__.py"), "VALUE = 42\n").unwrap();
    let mut rw = SandboxOptions::default();
    rw.mount(dir.path(), "/pkgs", FsPerms::ReadWrite);
    let mut sb = sandbox_with(NoHost, &rw).await;
    let out = eval(
        &mut sb,
        "import compileall\nprint(compileall.compile_dir('/pkgs', quiet=1))",
    )
    .await;
    assert_eq!(out.stdout, "True\n");
    let cached = dir.path().join("pkg/__pycache__/__init__.cpython-314.pyc");
    assert!(cached.is_file(), "no bytecode written at {cached:?}");

    // A later sandbox on a read-only mount imports through the bytecode. To
    // tell, change the source behind its back, keeping its size and mtime
    // (what the .pyc records): the old bytecode must still be what runs.
    let source = dir.path().join("pkg/__init__.py");
    let mtime = std::fs::metadata(&source).unwrap().modified().unwrap();
    std::fs::write(&source, "VALUE = 43\n").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&source)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let mut ro = SandboxOptions::default();
    ro.mount(dir.path(), "/pkgs", FsPerms::ReadOnly)
        .env("PYTHONPATH", "/pkgs");
    let mut sb = sandbox_with(NoHost, &ro).await;
    let out = eval(&mut sb, "import pkg\nprint(pkg.VALUE, pkg.__spec__.cached)").await;
    assert_eq!(
        out.stdout,
        "42 /pkgs/pkg/__pycache__/__init__.cpython-314.pyc\n"
    );
}
