//! The guest's file system: `/`, the scratch directories, devices, caps,
//! mount quotas and host file descriptor limits.

mod common;

use common::{eval, sandbox, sandbox_with};
use isola::{MountMode, NoHost, Sandbox, SandboxOptions};

/// A sandbox with a fresh host directory mounted read-write at `/out`.
async fn sandbox_with_out_mount() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/out", MountMode::ReadWrite);
    let sb = sandbox_with(NoHost, &options).await;
    (dir, sb)
}

#[tokio::test(flavor = "multi_thread")]
async fn root_lists_built_in_directories_and_mount_points() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options
        .mount(dir.path(), "/data", MountMode::ReadOnly)
        .mount(dir.path(), "/mnt/deep/pkgs", MountMode::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import os\nprint(sorted(os.listdir('/')))\nprint(os.listdir('/mnt'), os.listdir('/mnt/deep'))\n\
         print(os.path.isdir('/'), os.path.isdir('/data'), os.path.isdir('/home/user'))\n\
         os.chdir('/')\nprint(os.getcwd(), sorted(os.listdir('.')) == sorted(os.listdir('/')))\n\
         try:\n    open('/new.txt', 'w')\nexcept PermissionError:\n    print('root read-only')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "['data', 'dev', 'etc', 'home', 'mnt', 'tmp']\n['deep'] ['pkgs']\nTrue True True\n/ True\nroot read-only\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn default_cwd_is_the_writable_home_and_chdir_works() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os\nprint(os.getcwd())\n\
         with open('notes.txt', 'w') as f:\n    f.write('kept')\n\
         print(os.listdir('/home/user'), open('/home/user/notes.txt').read())\n\
         os.chdir('/tmp')\nopen('t.txt', 'w').write('t')\nprint(os.getcwd(), os.listdir('.'))\n\
         os.chdir('..')\nprint(os.getcwd())\nos.chdir('home/user')\nprint(os.getcwd(), os.path.exists('notes.txt'))\n\
         try:\n    os.chdir('/nowhere')\nexcept FileNotFoundError:\n    print('missing')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "/home/user\n['notes.txt'] kept\n/tmp ['t.txt']\n/\n/home/user True\nmissing\n"
    );
    // Files persist between calls of one sandbox.
    let out = eval(
        &mut sb,
        "print(open('/tmp/t.txt').read(), open('notes.txt').read())",
    )
    .await;
    assert_eq!(out.stdout, "t kept\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn scratch_files_are_private_to_each_sandbox() {
    let mut a = sandbox().await;
    let mut b = sandbox().await;
    eval(&mut a, "open('/tmp/secret', 'w').write('a')").await;
    let out = eval(
        &mut b,
        "import os\nprint(os.listdir('/tmp'), os.path.exists('/tmp/secret'))",
    )
    .await;
    assert_eq!(out.stdout, "[] False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_files_behave_like_linux() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os\n\
         print(open('/dev/null').read() == '', open('/dev/null', 'w').write('gone'))\n\
         print(open('/dev/zero', 'rb').read(5))\n\
         a = open('/dev/urandom', 'rb').read(32); b = open('/dev/urandom', 'rb').read(32)\n\
         print(len(a), a != b, a != bytes(32))\n\
         print(sorted(os.listdir('/dev')))\n\
         fd = os.open(os.devnull, os.O_RDWR)\nprint(os.write(fd, b'abc'), os.read(fd, 10))\nos.close(fd)\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "True 4\nb'\\x00\\x00\\x00\\x00\\x00'\n32 True True\n['null', 'random', 'urandom', 'zero']\n3 b''\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tempfile_and_shutil_work_in_scratch() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os, tempfile, shutil\n\
         fd, path = tempfile.mkstemp(suffix='.csv')\nos.write(fd, b'a,b\\n1,2\\n')\nos.close(fd)\n\
         print(path.startswith('/tmp/'), open(path).read().splitlines())\n\
         with tempfile.TemporaryDirectory() as d:\n\
         \x20   os.makedirs(os.path.join(d, 'x/y'))\n\
         \x20   shutil.copy(path, os.path.join(d, 'x/y/c.csv'))\n\
         \x20   os.rename(os.path.join(d, 'x'), os.path.join(d, 'z'))\n\
         \x20   print(os.listdir(os.path.join(d, 'z/y')))\n\
         os.unlink(path)\nprint(os.listdir('/tmp'))\n",
    )
    .await;
    assert_eq!(out.stdout, "True ['a,b', '1,2']\n['c.csv']\n[]\n");
}

/// Python code probing one cap: the exact errno from truncation, positional
/// writes, `os.write`, an unbuffered binary file object and a buffered text
/// file, written past the cap at once and at `close` (the last three are stream writes,
/// which the preview-1 adapter reports as `EIO`; the guest's `file_errors`
/// recovers the real code).
const CAP_PROBE: &str = "import errno, os\n\
    def probe(path, size, code):\n\
    \x20   fd = os.open(path, os.O_RDWR | os.O_CREAT)\n\
    \x20   for name, attempt in [('truncate', lambda: os.ftruncate(fd, size)),\n\
    \x20                         ('pwrite', lambda: os.pwrite(fd, b'x' * size, 0))]:\n\
    \x20       try:\n            attempt()\n            print(name, 'ALLOWED')\n\
    \x20       except OSError as e:\n            print(name, e.errno == code)\n\
    \x20   fd = os.open(path + '.raw', os.O_WRONLY | os.O_CREAT)\n\
    \x20   data = memoryview(b'w' * size)\n\
    \x20   try:\n        while data:\n            data = data[os.write(fd, data):]\n        print('os.write ALLOWED')\n\
    \x20   except OSError as e:\n        print('os.write', e.errno == code)\n\
    \x20   os.close(fd)\n\
    \x20   with open(path + '.obj', 'wb', buffering=0) as f:\n\
    \x20       data = memoryview(b'y' * size)\n\
    \x20       try:\n            while data:\n                data = data[f.write(data):]\n            print('write ALLOWED')\n\
    \x20       except OSError as e:\n            print('write', e.errno == code)\n\
    \x20   f = open(path + '.txt', 'w')\n\
    \x20   try:\n        f.write('t' * size)\n        f.close()\n        print('text ALLOWED')\n\
    \x20   except OSError as e:\n        print('text', e.errno == code)\n\
    \x20   f = open(path + '.txt', 'a')\n\
    \x20   f.write('u' * min(size, 60_000))\n\
    \x20   try:\n        f.close()\n        print('close ALLOWED')\n\
    \x20   except OSError as e:\n        print('close', e.errno == code)\n\
    \x20   return sum(os.path.getsize(path + s) for s in ('', '.raw', '.obj', '.txt'))\n";

#[tokio::test(flavor = "multi_thread")]
async fn scratch_byte_cap_gives_enospc_and_the_sandbox_carries_on() {
    let mut options = SandboxOptions::default();
    options.max_scratch_bytes(1 << 20);
    let mut sb = sandbox_with(NoHost, &options).await;
    let code = format!(
        "{CAP_PROBE}held = probe('/tmp/big', 2 << 20, errno.ENOSPC)\nprint(held <= 1 << 20)\n\
         for name in os.listdir('/tmp'):\n    os.unlink('/tmp/' + name)\n\
         open('/tmp/small', 'wb').write(b'z' * 900_000)\nprint(os.path.getsize('/tmp/small'))\n"
    );
    let out = eval(&mut sb, &code).await;
    assert_eq!(
        out.stdout,
        "truncate True\npwrite True\nos.write True\nwrite True\ntext True\nclose True\nTrue\n900000\n"
    );
    let out = eval(&mut sb, "print('still usable')").await;
    assert_eq!(out.stdout, "still usable\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_past_the_end_beyond_the_cap_gives_enospc() {
    // A write after seeking past the end (CPython's test_large_file_ops
    // seeks to 2 GiB) is beyond the 64 MiB cap: ENOSPC, as the host says.
    // The guest's probe for the exact code wrote at the end of the file,
    // where the bytes fit, so os.write and files raised EIO.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import errno, os\n\
         fd = os.open('/tmp/sparse', os.O_RDWR | os.O_CREAT)\n\
         os.write(fd, b'abc'); os.lseek(fd, 2**31, os.SEEK_SET)\n\
         try:\n    os.write(fd, b'xyz')\nexcept OSError as e:\n    print('os.write', errno.errorcode[e.errno])\n\
         f = open('/tmp/sparse2', 'w+b', buffering=0); f.write(b'abc'); f.seek(2**31)\n\
         try:\n    f.write(b'xyz')\nexcept OSError as e:\n    print('file', errno.errorcode[e.errno])\n\
         print(os.fstat(fd).st_size, os.path.getsize('/tmp/sparse2'))\n",
    )
    .await;
    assert_eq!(out.stdout, "os.write ENOSPC\nfile ENOSPC\n3 3\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn scratch_file_cap_gives_enospc() {
    let mut options = SandboxOptions::default();
    options.max_scratch_files(5);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import errno, os\nmade = 0\n\
         try:\n    for i in range(10):\n        open(f'/tmp/f{i}', 'w').close()\n        made += 1\n\
         except OSError as e:\n    print(made, e.errno == errno.ENOSPC)\n\
         try:\n    os.mkdir('/tmp/d')\nexcept OSError as e:\n    print('mkdir', e.errno == errno.ENOSPC)\n\
         os.unlink('/tmp/f0')\nos.mkdir('/tmp/d')\nprint('ok')\n",
    )
    .await;
    assert_eq!(out.stdout, "5 True\nmkdir True\nok\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn zero_turns_the_scratch_caps_off() {
    let mut options = SandboxOptions::default();
    options.max_scratch_bytes(0).max_scratch_files(0);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "for i in range(5000):\n    open(f'/tmp/f{i}', 'w').close()\n\
         open('/tmp/big', 'wb').write(b'x' * (80 << 20))\nimport os\nprint(len(os.listdir('/tmp')), os.path.getsize('/tmp/big'))\n",
    )
    .await;
    assert_eq!(out.stdout, format!("5001 {}\n", 80 << 20));
}

#[tokio::test(flavor = "multi_thread")]
async fn read_write_mount_quota_gives_edquot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("existing"), vec![b'e'; 50_000]).unwrap();
    let mut options = SandboxOptions::default();
    options.mount_with_quota(dir.path(), "/out", 10_000);
    let mut sb = sandbox_with(NoHost, &options).await;
    let code = format!(
        "{CAP_PROBE}probe('/out/big', 20_000, errno.EDQUOT)\n\
         for suffix in ('', '.raw', '.obj', '.txt'):\n    os.unlink('/out/big' + suffix)\n\
         open('/out/a', 'wb').write(b'a' * 6000)\n\
         try:\n    os.truncate('/out/a', 12_000)\nexcept OSError as e:\n    print('grow', e.errno == errno.EDQUOT)\n\
         os.unlink('/out/a')\nopen('/out/c', 'wb').write(b'c' * 9000)\nprint('after delete ok')\n"
    );
    let out = eval(&mut sb, &code).await;
    assert_eq!(
        out.stdout,
        "truncate True\npwrite True\nos.write True\nwrite True\ntext True\nclose True\ngrow True\nafter delete ok\n"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut names = names;
    names.sort();
    assert_eq!(names, ["c", "existing"]);
    assert_eq!(std::fs::metadata(dir.path().join("c")).unwrap().len(), 9000);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_descriptors_per_sandbox_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..20 {
        std::fs::write(dir.path().join(format!("f{i}")), "x").unwrap();
    }
    let mut options = SandboxOptions::default();
    options
        .mount(dir.path(), "/data", MountMode::ReadOnly)
        .max_open_files(8);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import errno\nheld = []\n\
         try:\n    for i in range(20):\n        held.append(open(f'/data/f{i}'))\n\
         except OSError as e:\n    print(len(held), e.errno == errno.EMFILE)\n\
         import os\ntry:\n    os.open('/data/f19', os.O_RDONLY)\nexcept OSError as e:\n    print('os.open', e.errno == errno.EMFILE)\n\
         for f in held:\n    f.close()\n\
         print(len([open(f'/data/f{i}').read() for i in range(20)]))\n\
         # Scratch files hold no host descriptor.\n\
         many = [open(f'/tmp/s{i}', 'w') for i in range(50)]\nprint(len(many))\n",
    )
    .await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    // WASI has no EMFILE: the guest's open maps the host's ENOMEM to it.
    assert_eq!(lines[0], "8 True", "{}", out.stdout);
    assert_eq!(&lines[1..], ["os.open True", "20", "50"], "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn host_writes_reads_and_lists_scratch_files() {
    let mut sb = sandbox().await;
    let upload: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    sb.write_file("/tmp/in/data.bin", &upload).unwrap();
    sb.write_file("notes.txt", b"relative to home").unwrap();
    let out = eval(
        &mut sb,
        "import os\ndata = open('/tmp/in/data.bin', 'rb').read()\nprint(len(data), data[:3], open('notes.txt').read())\n\
         os.makedirs('/tmp/out/sub')\nopen('/tmp/out/result.csv', 'w').write('a,b\\n1,2\\n')\n\
         open('/home/user/plot.png', 'wb').write(bytes([137, 80, 78, 71, 0, 255]))\n",
    )
    .await;
    assert_eq!(out.stdout, "300000 b'\\x00\\x01\\x02' relative to home\n");
    assert_eq!(sb.read_file("/tmp/out/result.csv").unwrap(), b"a,b\n1,2\n");
    assert_eq!(sb.read_file("plot.png").unwrap(), [137, 80, 78, 71, 0, 255]);
    assert_eq!(sb.read_file("/tmp/in/data.bin").unwrap(), upload);
    let names: Vec<(String, isola::sandbox::FileKind)> = sb
        .list_dir("/tmp/out")
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect();
    assert_eq!(
        names,
        [
            ("result.csv".to_string(), isola::sandbox::FileKind::File),
            ("sub".to_string(), isola::sandbox::FileKind::Directory)
        ]
    );
    let home: Vec<String> = sb
        .list_dir("/home/user")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(home, ["notes.txt", "plot.png"]);
    // Replacing a file between calls is visible to the next call.
    sb.write_file("/tmp/in/data.bin", b"new").unwrap();
    let out = eval(&mut sb, "print(open('/tmp/in/data.bin').read())").await;
    assert_eq!(out.stdout, "new\n");
    let usage = sb.file_usage();
    assert_eq!(usage.scratch_files, 7, "{usage:?}");
    assert_eq!(usage.open_host_files, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn file_api_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options
        .mount(dir.path(), "/data", MountMode::ReadWrite)
        .max_scratch_bytes(100);
    let mut sb = sandbox_with(NoHost, &options).await;
    let missing = sb.read_file("/tmp/nope.txt").unwrap_err();
    assert_eq!(missing.kind(), isola::ErrorKind::Io, "{missing}");
    assert!(missing.to_string().contains("/tmp/nope.txt"), "{missing}");
    for outside in [
        "/etc/passwd",
        "/data/x",
        "/dev/null",
        "/x.txt",
        "/tmp/../etc/x",
    ] {
        let err = sb.write_file(outside, b"x").unwrap_err();
        assert_eq!(
            err.kind(),
            isola::ErrorKind::InvalidArgument,
            "{outside}: {err}"
        );
        assert!(
            err.to_string().contains("scratch") || err.to_string().contains("mount"),
            "{err}"
        );
        let err = sb.read_file(outside).unwrap_err();
        assert_ne!(err.kind(), isola::ErrorKind::Internal, "{outside}: {err}");
    }
    assert!(!dir.path().join("x").exists());
    let full = sb.write_file("/tmp/big", &[0; 101]).unwrap_err();
    assert_eq!(full.kind(), isola::ErrorKind::Io, "{full}");
    assert!(full.to_string().contains("full"), "{full}");
    sb.write_file("/tmp/f", b"x").unwrap();
    let not_dir = sb.list_dir("/tmp/f").unwrap_err();
    assert_eq!(not_dir.kind(), isola::ErrorKind::Io, "{not_dir}");
    // Outside the scratch file system: the message names the path given.
    let root = sb.list_dir("/").unwrap_err();
    assert_eq!(root.kind(), isola::ErrorKind::InvalidArgument, "{root}");
    assert!(
        root.to_string().contains("/: not below /tmp or /home/user"),
        "{root}"
    );
    let err = sb.write_file("/tmp/f/g", b"x").unwrap_err();
    assert_eq!(err.kind(), isola::ErrorKind::Io, "{err}");
}

/// `open` for writing builds its file on the guest's error-reporting `FileIO`
/// (see CAP_PROBE); every mode, buffering choice and argument check must
/// still behave as CPython's own `open`.
#[tokio::test(flavor = "multi_thread")]
async fn open_for_writing_keeps_cpython_behaviour() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import errno, io, os\n\
         with open('/tmp/t.txt', 'w', encoding='utf-16', newline='\\r\\n') as f:\n\
         \x20   print(type(f).__name__, type(f.buffer).__name__, isinstance(f.buffer.raw, io.FileIO), f.mode, f.encoding)\n\
         \x20   f.write('a\\nb')\n\
         print(open('/tmp/t.txt', 'rb').read() == 'a\\r\\nb'.encode('utf-16'))\n\
         with open('/tmp/t.txt', 'a') as f:\n    f.write('+')\n\
         with open('/tmp/b', 'wb', buffering=0) as f:\n    print(isinstance(f, io.FileIO), f.mode, f.write(b'xyz'))\n\
         with open('/tmp/b', 'r+b') as f:\n    print(type(f).__name__, f.read(1), f.write(b'Q'))\n\
         print(open('/tmp/b', 'rb').read())\n\
         with open('/tmp/b', 'ab') as f:\n    print(type(f).__name__, f.mode, f.tell())\n\
         try:\n    open('/tmp/b', 'x')\nexcept FileExistsError as e:\n    print('x', e.errno == errno.EEXIST, e.filename)\n\
         fd = os.open('/tmp/fd', os.O_WRONLY | os.O_CREAT)\n\
         with os.fdopen(fd, 'w') as f:\n    f.write('via fd')\n\
         print(open('/tmp/fd').read(), open is io.open)\n\
         for args, kw in [(('/tmp/b', 'wt', 0), {}), (('/tmp/b', 'wb'), {'encoding': 'utf-8'}),\n\
         \x20                (('/tmp/b', 'ww'), {}), (('/tmp/b', 'rw'), {}), (('/tmp/b', 'wbt'), {}),\n\
         \x20                (('/tmp/b', 'wq'), {}), ((3.5, 'w'), {})]:\n\
         \x20   try:\n        open(*args, **kw)\n\
         \x20   except (ValueError, TypeError, OSError) as e:\n        print(type(e).__name__, e)\n\
         try:\n    open('/no/such/dir/f', 'w')\nexcept FileNotFoundError as e:\n    print('missing', e.filename)\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "TextIOWrapper BufferedWriter True w utf-16\n\
         True\n\
         True wb 3\n\
         BufferedRandom b'x' 1\n\
         b'xQz'\n\
         BufferedWriter ab 3\n\
         x True /tmp/b\n\
         via fd True\n\
         ValueError can't have unbuffered text I/O\n\
         ValueError binary mode doesn't take an encoding argument\n\
         ValueError invalid mode: 'ww'\n\
         ValueError must have exactly one of create/read/write/append mode\n\
         ValueError can't have text and binary mode at once\n\
         ValueError invalid mode: 'wq'\n\
         TypeError expected str, bytes or os.PathLike object, not float\n\
         missing /no/such/dir/f\n"
    );
}

/// `mmap` is emulated over reads and writes (`isola_guest.mmap_shim`): a
/// shared writable map reaches the file through its methods at once and
/// through the buffer protocol on `flush`; private and read-only maps never
/// change the file.
#[tokio::test(flavor = "multi_thread")]
async fn mmap_maps_files_and_anonymous_memory() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import mmap, os\n\
         with open('/tmp/m', 'wb') as f:\n    f.write(b'hello world\\nsecond line\\n')\n\
         with open('/tmp/m', 'r+b') as f:\n\
         \x20   m = mmap.mmap(f.fileno(), 0)\n\
         \x20   print(len(m), m[:5], m.readline(), m.find(b'line'), m.size())\n\
         \x20   m[0:5] = b'HELLO'\n\
         \x20   print(open('/tmp/m', 'rb').read(5))\n\
         \x20   memoryview(m)[6:11] = b'WORLD'\n\
         \x20   print(open('/tmp/m', 'rb').read(11))\n\
         \x20   m.flush()\n\
         \x20   print(open('/tmp/m', 'rb').read(11))\n\
         \x20   m.seek(0)\n    m.write(b'J')\n    m.close()\n\
         \x20   print(m.closed, open('/tmp/m', 'rb').read(5))\n\
         with open('/tmp/m', 'rb') as f:\n\
         \x20   r = mmap.mmap(f.fileno(), 5, access=mmap.ACCESS_READ, offset=0)\n\
         \x20   try:\n        r[0] = 1\n    except TypeError as e:\n        print('read-only:', e)\n\
         \x20   c = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)\n\
         \x20   c[:5] = b'zzzzz'\n    c.flush()\n    print(c[:5], open('/tmp/m', 'rb').read(5))\n\
         \x20   try:\n        mmap.mmap(f.fileno(), 1000)\n    except ValueError as e:\n        print(e)\n\
         a = mmap.mmap(-1, 16)\n\
         a.write(b'abc')\na.resize(4)\nprint(bytes(a), len(a), isinstance(a, mmap.mmap))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "24 b'hello' b'hello world\\n' 19 24\n\
         b'HELLO'\n\
         b'HELLO world'\n\
         b'HELLO WORLD'\n\
         True b'JELLO'\n\
         read-only: mmap can't modify a readonly memory map.\n\
         b'zzzzz' b'JELLO'\n\
         mmap length is greater than file size\n\
         b'abc\\x00' 4 True\n"
    );
}

/// Symbolic links in the scratch file system behave as on Linux: followed
/// inside paths and by `open`/`stat`, not by `lstat`, `readlink`, `unlink`
/// and `rename`; relative targets start at the link's directory, absolute
/// ones at `/` (a mount included); a loop fails with `ELOOP`.
#[tokio::test(flavor = "multi_thread")]
async fn symlinks_in_scratch_behave_as_on_linux() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.txt"), "from the host").unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/data", MountMode::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import errno, os, shutil, pathlib\n\
         os.makedirs('/tmp/a/b')\nopen('/tmp/a/b/f.txt', 'w').write('hello')\n\
         os.symlink('a/b', '/tmp/lb')\nos.symlink('/tmp/a/b/f.txt', '/tmp/abs')\n\
         os.symlink('/data/data.txt', '/tmp/host')\nos.symlink('nowhere', '/tmp/dangling')\n\
         os.symlink('loop2', '/tmp/loop1')\nos.symlink('loop1', '/tmp/loop2')\n\
         print(open('/tmp/lb/f.txt').read(), open('/tmp/abs').read(), open('/tmp/host').read())\n\
         print(os.readlink('/tmp/lb'), os.path.islink('/tmp/lb'), os.path.isdir('/tmp/lb'), os.path.islink('/tmp/a'))\n\
         print(os.lstat('/tmp/abs').st_size == len('/tmp/a/b/f.txt'), os.stat('/tmp/abs').st_size)\n\
         print(os.path.realpath('/tmp/lb/f.txt'), os.path.exists('/tmp/dangling'), os.path.lexists('/tmp/dangling'))\n\
         try:\n    open('/tmp/loop1')\nexcept OSError as e:\n    print('loop', e.errno == errno.ELOOP)\n\
         try:\n    os.symlink('x', '/tmp/abs')\nexcept FileExistsError:\n    print('exists')\n\
         open('/tmp/dangling', 'w').write('made')\nprint(open('/tmp/nowhere').read())\n\
         print(sorted(os.listdir('/tmp')))\n\
         print([(e.name, e.is_symlink(), e.is_dir()) for e in sorted(os.scandir('/tmp'), key=lambda e: e.name) if e.name in ('a', 'lb')])\n\
         os.rename('/tmp/lb', '/tmp/lb2')\nprint(os.readlink('/tmp/lb2'), os.listdir('/tmp/lb2'))\n\
         shutil.copytree('/tmp/a', '/tmp/copy', symlinks=True)\n\
         os.symlink('b/f.txt', '/tmp/a/rel')\nshutil.copytree('/tmp/a', '/tmp/copy2', symlinks=True)\n\
         print(os.readlink('/tmp/copy2/rel'), open('/tmp/copy2/rel').read())\n\
         os.unlink('/tmp/lb2')\nprint(os.path.exists('/tmp/a/b/f.txt'), pathlib.Path('/tmp/abs').resolve())\n\
         os.symlink('/data/../../../etc/passwd', '/tmp/escape')\nos.symlink('../../../../../etc', '/tmp/up')\n\
         for p in ('/tmp/escape', '/tmp/up/passwd'):\n\
         \x20   try:\n        open(p)\n        print('ESCAPED', p)\n    except FileNotFoundError:\n        print('contained')\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "hello hello from the host\n\
         a/b True True False\n\
         True 5\n\
         /tmp/a/b/f.txt False True\n\
         loop True\n\
         exists\n\
         made\n\
         ['a', 'abs', 'dangling', 'host', 'lb', 'loop1', 'loop2', 'nowhere']\n\
         [('a', False, True), ('lb', True, True)]\n\
         a/b ['f.txt']\n\
         b/f.txt hello\n\
         True /tmp/a/b/f.txt\n\
         contained\ncontained\n"
    );
}

/// `os.stat` of a symbolic link reports its target's inode, as on Linux
/// (it reported the link's: the preview-1 adapter asks the inode without
/// the caller's follow flag), so `os.path.samefile` and `shutil.copyfile`
/// onto a link to its source (which truncated the source) see one file.
/// `lstat` of a link reports the target's inode too; a dangling link its own.
#[tokio::test(flavor = "multi_thread")]
async fn stat_of_a_symlink_reports_its_targets_inode() {
    let (_dir, mut sb) = sandbox_with_out_mount().await;
    let out = eval(
        &mut sb,
        "import os, shutil\n\
         for d in ('/tmp', '/out'):\n\
         \x20   open(d + '/f', 'w').write('x')\n\
         \x20   os.symlink('f', d + '/l')\n\
         \x20   os.mkdir(d + '/dir'); os.symlink('dir', d + '/dl')\n\
         \x20   f, l = os.stat(d + '/f'), os.stat(d + '/l')\n\
         \x20   os.symlink('nowhere', d + '/dangling')\n\
         \x20   print(l.st_ino == f.st_ino, os.path.islink(d + '/l'), os.lstat(d + '/dangling').st_ino > 0,\n\
         \x20         os.path.samefile(d + '/f', d + '/l'), os.path.samefile(d + '/dir', d + '/dl'))\n\
         \x20   try:\n        shutil.copyfile(d + '/f', d + '/l')\n\
         \x20   except shutil.SameFileError:\n        print('same file', open(d + '/f').read())\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "True True True True True\nsame file x\nTrue True True True True\nsame file x\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn large_writes_to_files_are_whole_as_on_linux() {
    // The file streams take at most 1 MiB per write; os.write and raw files
    // write the rest, so importlib's .pyc writer (which treats a short
    // write as an error) works for large modules.
    let (dir, mut sb) = sandbox_with_out_mount().await;
    let out = eval(
        &mut sb,
        "import os, py_compile, importlib.util, array\n\
         big = b'x' * (3 << 20) + b'end'\n\
         for path in ('/tmp/w', '/out/w'):\n\
         \x20   fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC)\n\
         \x20   n = os.write(fd, memoryview(big))\n\
         \x20   os.close(fd)\n\
         \x20   with open(path + '.raw', 'wb', buffering=0) as f:\n\
         \x20       m = f.write(array.array('i', range(1 << 19)))\n\
         \x20   print(n, os.path.getsize(path), m, open(path, 'rb').read()[-3:])\n\
         open('/out/mod.py', 'w').write('DATA = %r\\n' % ('y' * (3 << 20)))\n\
         pyc = py_compile.compile('/out/mod.py', doraise=True)\n\
         print(pyc == importlib.util.cache_from_source('/out/mod.py'), os.path.getsize(pyc) > (3 << 20))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "3145731 3145731 2097152 b'end'\n3145731 3145731 2097152 b'end'\nTrue True\n"
    );
    assert_eq!(
        std::fs::metadata(dir.path().join("w")).unwrap().len(),
        3 << 20 | 3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn stat_reports_permission_bits_so_archives_unpack_readable() {
    // WASI has no permission bits; without them archives written in the
    // sandbox stored mode 0 and unpacked unreadable on the host.
    let (dir, mut sb) = sandbox_with_out_mount().await;
    let out = eval(
        &mut sb,
        "import os, pathlib, stat, tarfile, zipfile\n\
         open('/out/data.txt', 'w').write('hello')\nos.mkdir('/tmp/d')\n\
         for p in ('/out/data.txt', '/out', '/tmp/d', '/dev/null'):\n\
         \x20   print(p, stat.filemode(os.stat(p).st_mode), stat.filemode(os.lstat(p).st_mode),\n\
         \x20         stat.filemode(pathlib.Path(p).stat().st_mode))\n\
         with open('/out/data.txt') as f:\n    print(oct(os.fstat(f.fileno()).st_mode))\n\
         with tarfile.open('/out/a.tar', 'w') as t:\n    t.add('/out/data.txt', 'data.txt')\n\
         with zipfile.ZipFile('/out/a.zip', 'w') as z:\n    z.write('/out/data.txt', 'data.txt')\n\
         print(os.stat in os.supports_follow_symlinks, os.stat.__name__)\n\
         print(os.access('/out/data.txt', os.X_OK), os.access('/out/data.txt', os.R_OK | os.W_OK),\n\
         \x20     os.access('/out', os.X_OK), os.access('/tmp/d', os.X_OK), os.access in os.supports_dir_fd)\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "/out/data.txt -rw-r--r-- -rw-r--r-- -rw-r--r--\n\
         /out drwxr-xr-x drwxr-xr-x drwxr-xr-x\n\
         /tmp/d drwxr-xr-x drwxr-xr-x drwxr-xr-x\n\
         /dev/null crw-rw-rw- crw-rw-rw- crw-rw-rw-\n\
         0o100644\nTrue stat\nFalse True True True True\n"
    );
    // The host reads the modes back from the archives.
    let tar = std::fs::read(dir.path().join("a.tar")).unwrap();
    // The member's ustar header (after a pax header): name first, the mode
    // as octal digits at offset 100.
    let header = tar
        .chunks(512)
        .find(|block| block.starts_with(b"data.txt\0"))
        .unwrap();
    assert_eq!(&header[100..107], b"0000644");
    let zip = std::fs::read(dir.path().join("a.zip")).unwrap();
    // Central directory entry: external attributes at offset 38, the Unix
    // mode in their high 16 bits.
    let central = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    let attrs = u32::from_le_bytes(zip[central + 38..central + 42].try_into().unwrap());
    assert_eq!(attrs >> 16, 0o100644);
}

#[tokio::test(flavor = "multi_thread")]
async fn statvfs_and_disk_usage_report_the_scratch_caps_and_mount_quotas() {
    // WASI has no statvfs; the guest's os.statvfs and shutil.disk_usage ask
    // the host, which knows the scratch caps and use and a mount's quota.
    let quota_dir = tempfile::tempdir().unwrap();
    let open_dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options
        .max_scratch_bytes(8 << 20)
        .max_scratch_files(100)
        .mount_with_quota(quota_dir.path(), "/q", 1 << 20)
        .mount(open_dir.path(), "/host", MountMode::ReadWrite);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import errno, os, shutil\n\
         st = os.statvfs('/tmp')\n\
         print(st.f_bsize, st.f_frsize, st.f_blocks * st.f_frsize, st.f_files, st.f_flag, st.f_namemax)\n\
         before = shutil.disk_usage('/home/user')\n\
         open('/tmp/f', 'wb').write(b'x' * 40960)\n\
         after = shutil.disk_usage('.')\n\
         print(before.total, before.free - after.free, after.used - before.used, os.statvfs('/').f_ffree < st.f_ffree)\n\
         open('/q/g', 'wb').write(b'y' * 8192)\n\
         print(shutil.disk_usage('/q'))\n\
         for path in ('/host', '/nowhere'):\n\
         \x20   try:\n\
         \x20       os.statvfs(path)\n\
         \x20   except OSError as e:\n\
         \x20       print(type(e).__name__, errno.errorcode[e.errno])\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "4096 4096 8388608 100 0 255\n\
         8388608 40960 40960 True\n\
         usage(total=1048576, used=8192, free=1040384)\n\
         OSError ENOSYS\n\
         FileNotFoundError ENOENT\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn directories_in_a_mount_take_new_times_so_copytree_works() {
    // os.utime of a directory in a mount failed with EIO (the host opened
    // it O_PATH, on which futimens is EBADF), so shutil.copytree, which
    // copies each directory's times, failed on a read-write mount.
    let (dir, mut sb) = sandbox_with_out_mount().await;
    let out = eval(
        &mut sb,
        "import os, shutil\n\
         os.makedirs('/out/src/sub')\nopen('/out/src/sub/f.txt', 'w').write('x')\n\
         os.utime('/out/src/sub', ns=(10**18, 10**18))\n\
         fd = os.open('/out/src', os.O_RDONLY)\nos.utime(fd, (2e9, 2e9))\nos.close(fd)\n\
         print(os.stat('/out/src/sub').st_mtime_ns, os.stat('/out/src').st_mtime)\n\
         shutil.copytree('/out/src', '/out/copy')\n\
         print(os.stat('/out/copy/sub').st_mtime_ns, open('/out/copy/sub/f.txt').read())\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "1000000000000000000 2000000000.0\n1000000000000000000 x\n"
    );
    let modified = std::fs::metadata(dir.path().join("copy/sub"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        modified,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn etc_holds_a_read_only_utc_local_time_as_on_linux() {
    // Programs find the local zone in /etc: tzlocal warned 'Can not find
    // any timezone configuration', dateutil's tz.gettz() under
    // TZ=':/etc/localtime' gave None.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os, zoneinfo, datetime\n\
         print(sorted(os.listdir('/etc')), open('/etc/timezone').read().strip())\n\
         with open('/etc/localtime', 'rb') as f:\n    z = zoneinfo.ZoneInfo.from_file(f)\n\
         print(z.utcoffset(datetime.datetime(2024, 7, 1)), z.tzname(None))\n\
         for mode in ('w', 'a', 'r+b'):\n\
         \x20   try:\n        open('/etc/localtime', mode)\n\
         \x20   except PermissionError:\n        print('read-only', mode)\n\
         for f in (lambda: os.remove('/etc/timezone'), lambda: open('/etc/new', 'w')):\n\
         \x20   try:\n        f()\n    except PermissionError:\n        print('refused')\n\
         print(len(open('/etc/localtime', 'rb').read()))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "['localtime', 'timezone'] Etc/UTC\n0:00:00 UTC\n\
         read-only w\nread-only a\nread-only r+b\nrefused\nrefused\n114\n"
    );
    // A mount at /etc takes its place.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hosts"), "x").unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/etc", MountMode::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(&mut sb, "import os\nprint(os.listdir('/etc'))\n").await;
    assert_eq!(out.stdout, "['hosts']\n");
}
