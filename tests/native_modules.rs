//! Native extension modules in the default runtime: sqlite3 (in memory and on
//! a file in a read-write mount), bz2 and lzma (built by runtime/native), and
//! zlib/hashlib still working beside them.

mod common;

use common::{eval, sandbox, sandbox_with};
use isola::{FsPerms, NoHost, SandboxOptions};

/// `text` repeated: the payload the vectors below were made from.
const PAYLOAD: &str = "b'isola native modules\\n' * 50";
/// `bz2.compress(PAYLOAD)` by native CPython 3.11 with Debian's libbz2.
const BZ2_VECTOR: &str = "425a6839314159265359c2ee621f0000e0d1800010400026278f0020006029551898d1ea840000d22e116e8b945da2d22c45b22e517a8b74588b44588bc45e22c45ea2c45f517f177245385090c2ee621f";
/// `lzma.compress(PAYLOAD)` (FORMAT_XZ, CRC64) by native CPython 3.11.
const XZ_VECTOR: &str = "fd377a585a000004e6d6b4460200210116000000742fe5a3e0041900215d00349cca225d8affb46422fc98ddd9302c799a67f0bd2611801b50d3994710274b00000000002a416a2b1b2514fa00013d9a08000000f0d7b325b1c467fb020000000004595a";

#[tokio::test(flavor = "multi_thread")]
async fn sqlite3_in_memory() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import sqlite3\n\
         db = sqlite3.connect(':memory:')\n\
         db.execute('create table t (k text primary key, v integer)')\n\
         db.executemany('insert into t values (?, ?)', [(f'k{i}', i * i) for i in range(100)])\n\
         db.commit()\n\
         print(db.execute('select count(*), sum(v) from t').fetchone())\n\
         print(db.execute(\"select v from t where k = 'k7'\").fetchone()[0])\n\
         try:\n    db.execute('insert into t values (?, ?)', ('k7', 0))\n\
         except sqlite3.IntegrityError as e:\n    print('IntegrityError', e)\n\
         print(sqlite3.sqlite_version_info >= (3, 40))\n\
         print(sum(1 for line in db.iterdump() if line.startswith('INSERT')))\n",
    )
    .await;
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "(100, 328350)", "{}", out.stdout);
    assert_eq!(lines[1], "49");
    assert!(
        lines[2].starts_with("IntegrityError UNIQUE"),
        "{}",
        out.stdout
    );
    assert_eq!(lines[3], "True");
    assert_eq!(lines[4], "100", "iterdump: {}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite3_database_file_in_the_scratch_file_system() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import os, sqlite3\n\
         db = sqlite3.connect('/tmp/x.db')\n\
         db.execute('create table kv (k text primary key, v text)')\n\
         db.executemany('insert into kv values (?, ?)', [(str(i), 'v' * i) for i in range(200)])\n\
         db.commit()\n\
         db.close()\n\
         print(os.path.getsize('/tmp/x.db') > 4096)\n\
         db = sqlite3.connect('/tmp/x.db')\n\
         print(db.execute('select count(*), sum(length(v)) from kv').fetchone())\n\
         with db:\n    db.execute(\"delete from kv where k like '1%'\")\n\
         print(db.execute('select count(*) from kv').fetchone()[0])\n",
    )
    .await;
    assert_eq!(out.stdout, "True\n(200, 19900)\n89\n", "{}", out.stderr);
    // The file lives in this sandbox's scratch file system only.
    let mut other = sandbox().await;
    let out = eval(
        &mut other,
        "import os\nprint(os.path.exists('/tmp/x.db'))\n",
    )
    .await;
    assert_eq!(out.stdout, "False\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite3_database_file_in_a_read_write_mount() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/work", FsPerms::ReadWrite);
    let mut sb = sandbox_with(NoHost, &options).await;
    eval(
        &mut sb,
        "import sqlite3\n\
         db = sqlite3.connect('/work/data.db')\n\
         db.execute('create table notes (id integer primary key, body text)')\n\
         db.executemany('insert into notes (body) values (?)', [('first',), ('second',)])\n\
         db.commit()\n\
         db.close()\n",
    )
    .await;
    let bytes = std::fs::read(dir.path().join("data.db")).unwrap();
    assert!(
        bytes.starts_with(b"SQLite format 3\0"),
        "not a SQLite database file"
    );

    // A fresh sandbox over the same directory reads (and updates) it.
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import sqlite3\n\
         db = sqlite3.connect('/work/data.db')\n\
         print([r[0] for r in db.execute('select body from notes order by id')])\n\
         with db:\n    db.execute(\"update notes set body = 'changed' where id = 1\")\n\
         print(db.execute('select body from notes where id = 1').fetchone()[0])\n",
    )
    .await;
    assert_eq!(out.stdout, "['first', 'second']\nchanged\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite3_in_a_read_only_mount_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions::default();
    options.mount(dir.path(), "/ro", FsPerms::ReadOnly);
    let mut sb = sandbox_with(NoHost, &options).await;
    let out = eval(
        &mut sb,
        "import sqlite3\n\
         try:\n    sqlite3.connect('/ro/x.db').execute('create table t (x)')\n    print('created')\n\
         except sqlite3.OperationalError as e:\n    print('OperationalError')\n",
    )
    .await;
    assert_eq!(out.stdout, "OperationalError\n");
    assert!(!dir.path().join("x.db").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn compressing_nothing_is_no_error() {
    // libbzip2 answers a BZ_RUN without input with BZ_PARAM_ERROR, and the
    // compressors passed it on: bz2.compress(b'') and compress(b'') on a
    // compressor raised ValueError (CPython's test_bz2
    // testCompressEmptyString). Bytes are native CPython 3.11's.
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import bz2, lzma\n\
         c = bz2.BZ2Compressor()\n\
         print(c.compress(b''), bz2.decompress(c.compress(b'') + c.compress(b'abc') + c.flush()))\n\
         print(bz2.compress(b''))\n\
         l = lzma.LZMACompressor()\n\
         h = l.compress(b'')\n\
         print(h[:6], lzma.decompress(h + l.compress(b'') + l.compress(b'x') + l.flush()))\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "b'' b'abc'\nb'BZh9\\x17rE8P\\x90\\x00\\x00\\x00\\x00'\nb'\\xfd7zXZ\\x00' b'x'\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bz2_decodes_native_output_and_round_trips() {
    let mut sb = sandbox().await;
    let code = format!(
        "import bz2, io\n\
         payload = {PAYLOAD}\n\
         print(bz2.decompress(bytes.fromhex('{BZ2_VECTOR}')) == payload)\n\
         data = bytes(range(256)) * 300 + payload\n\
         for level in (1, 9):\n    assert bz2.decompress(bz2.compress(data, level)) == data\n\
         d = bz2.BZ2Decompressor()\n\
         blob = bz2.compress(data) + b'tail'\n\
         out = d.decompress(blob[:40])\n\
         print(len(out), d.needs_input, d.eof)\n\
         out += d.decompress(blob[40:], max_length=10)\n\
         print(len(out), d.needs_input, d.eof)\n\
         out += d.decompress(b'')\n\
         print(out == data, d.eof, d.unused_data)\n\
         f = io.BytesIO()\n\
         with bz2.BZ2File(f, 'wb') as w:\n    w.write(data)\n\
         print(bz2.BZ2File(io.BytesIO(f.getvalue())).read() == data)\n\
         try:\n    bz2.decompress(b'BZh9 not really bzip2')\n\
         except OSError as e:\n    print('OSError', e)\n",
    );
    let out = eval(&mut sb, &code).await;
    assert_eq!(
        out.stdout,
        "True\n0 True False\n10 False False\nTrue True b'tail'\nTrue\nOSError Invalid data stream\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lzma_formats_filters_and_streaming() {
    let mut sb = sandbox().await;
    let code = format!(
        "import lzma\n\
         payload = {PAYLOAD}\n\
         print(lzma.decompress(bytes.fromhex('{XZ_VECTOR}')) == payload)\n\
         data = bytes(range(256)) * 300 + payload\n\
         ok = []\n\
         for fmt in (lzma.FORMAT_XZ, lzma.FORMAT_ALONE):\n    ok.append(lzma.decompress(lzma.compress(data, format=fmt, preset=1)) == data)\n\
         chain = [{{'id': lzma.FILTER_DELTA, 'dist': 4}}, {{'id': lzma.FILTER_LZMA2, 'preset': 1, 'lc': 2}}]\n\
         raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=chain)\n\
         ok.append(lzma.decompress(raw, format=lzma.FORMAT_RAW, filters=chain) == data)\n\
         ok.append(lzma.decompress(lzma.compress(data) * 2) == data * 2)\n\
         print(ok)\n\
         d = lzma.LZMADecompressor()\n\
         blob = lzma.compress(data, check=lzma.CHECK_SHA256)\n\
         out = d.decompress(blob, max_length=100)\n\
         print(len(out), d.needs_input, d.eof)\n\
         while not d.eof:\n    out += d.decompress(b'', max_length=4096)\n\
         print(out == data, d.check == lzma.CHECK_SHA256, lzma.is_check_supported(lzma.CHECK_SHA256))\n\
         props = lzma._encode_filter_properties({{'id': lzma.FILTER_LZMA1, 'dict_size': 1 << 20}})\n\
         print(lzma._decode_filter_properties(lzma.FILTER_LZMA1, props))\n\
         for bad in (b'not xz', lzma.compress(data)[:-9] + bytes(9)):\n    try:\n        lzma.decompress(bad)\n    except lzma.LZMAError as e:\n        print('LZMAError', e)\n\
         try:\n    lzma.LZMACompressor(format=lzma.FORMAT_RAW)\n\
         except ValueError as e:\n    print('ValueError', e)\n",
    );
    let out = eval(&mut sb, &code).await;
    assert_eq!(
        out.stdout,
        "True\n[True, True, True, True]\n100 False False\nTrue True True\n\
         {'id': 4611686018427387905, 'lc': 3, 'lp': 0, 'pb': 2, 'dict_size': 1048576}\n\
         LZMAError Input format not supported by decoder\nLZMAError Corrupt input data\n\
         ValueError Must specify filters for FORMAT_RAW\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn archives_use_bz2_and_lzma_and_zlib_hashlib_still_work() {
    let mut sb = sandbox().await;
    let out = eval(
        &mut sb,
        "import io, tarfile, zipfile, zlib, hashlib, gzip\n\
         data = b'archive me ' * 1000\n\
         for mode in ('w:bz2', 'w:xz', 'w:gz'):\n\
         \x20   buf = io.BytesIO()\n\
         \x20   with tarfile.open(fileobj=buf, mode=mode) as t:\n\
         \x20       info = tarfile.TarInfo('f'); info.size = len(data); t.addfile(info, io.BytesIO(data))\n\
         \x20   with tarfile.open(fileobj=io.BytesIO(buf.getvalue()), mode='r:' + mode[2:]) as t:\n\
         \x20       print(mode, t.extractfile('f').read() == data)\n\
         buf = io.BytesIO()\n\
         with zipfile.ZipFile(buf, 'w') as z:\n\
         \x20   z.writestr('a', data, compress_type=zipfile.ZIP_LZMA)\n\
         \x20   z.writestr('b', data, compress_type=zipfile.ZIP_BZIP2)\n\
         \x20   z.writestr('c', data, compress_type=zipfile.ZIP_DEFLATED)\n\
         with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:\n\
         \x20   print([z.read(n) == data for n in 'abc'])\n\
         print(zlib.decompress(zlib.compress(data)) == data, gzip.decompress(gzip.compress(data)) == data)\n\
         print(hashlib.sha256(b'abc').hexdigest()[:16], hashlib.md5(b'abc').hexdigest()[:8])\n",
    )
    .await;
    assert_eq!(
        out.stdout,
        "w:bz2 True\nw:xz True\nw:gz True\n[True, True, True]\nTrue True\nba7816bf8f01cfea 90015098\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lzma_beyond_the_memory_limit_is_a_memory_error() {
    let mut options = SandboxOptions::default();
    options.max_memory(128 << 20);
    let mut sb = sandbox_with(NoHost, &options).await;
    // Preset 9e needs ~674 MiB to compress: liblzma's allocation fails and the
    // guest sees MemoryError; the sandbox stays usable.
    let out = eval(
        &mut sb,
        "import lzma\n\
         try:\n    lzma.compress(b'x' * 1000, preset=9 | lzma.PRESET_EXTREME)\n    print('compressed')\n\
         except MemoryError:\n    print('MemoryError')\n\
         print(lzma.decompress(lzma.compress(b'still fine', preset=0)))\n",
    )
    .await;
    assert_eq!(out.stdout, "MemoryError\nb'still fine'\n");
}
