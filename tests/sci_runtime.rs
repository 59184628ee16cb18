//! The scientific runtime (`isola-python-sci.wasm`, built by `make
//! runtime-sci`): numpy and pandas imported in the pre-initialised state,
//! numpy's ufuncs, linear algebra (lapack_lite), random generators and dtypes
//! and pandas' groupby, merge, CSV and datetime operations working in a
//! sandbox, and sqlite3 beside them. Expected values are native numpy 2.3.5's
//! and pandas 2.3.3's output for the same code. Ignored by a plain `cargo test` because
//! they need that build; `make test` runs them (`make test-sci`).

mod common;

use std::path::PathBuf;

use common::{cache_dir, eval};
use isola::{NoHost, Sandbox, SandboxOptions, SandboxTemplate};

fn sci_runtime() -> PathBuf {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runtime/python/out/isola-python-sci.wasm");
    assert!(
        path.is_file(),
        "{} is missing: build it with `make runtime-sci`",
        path.display()
    );
    path
}

async fn template() -> SandboxTemplate {
    static TEMPLATE: tokio::sync::OnceCell<SandboxTemplate> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            SandboxTemplate::builder()
                .cache(Some(cache_dir()))
                .build(sci_runtime())
                .await
                .expect("building the scientific template")
        })
        .await
        .clone()
}

async fn sandbox() -> Sandbox {
    template()
        .await
        .instantiate(NoHost, &SandboxOptions::default())
        .await
        .expect("instantiating")
}

/// Run `code` and return its stdout lines.
async fn lines(code: &str) -> Vec<String> {
    let mut sb = sandbox().await;
    let out = eval(&mut sb, code).await;
    out.stdout.lines().map(str::to_owned).collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_is_imported_before_the_first_call() {
    let out = lines(
        "import sys\n\
         print('numpy' in sys.modules, 'numpy.linalg' in sys.modules, 'numpy.random' in sys.modules)\n\
         import numpy as np\n\
         print(np.__version__)\n",
    )
    .await;
    assert_eq!(out, ["True True True", "2.3.5"]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn ufuncs_broadcasting_and_reductions() {
    let out = lines(
        "import numpy as np\n\
         a = np.arange(12, dtype=np.float64).reshape(3, 4)\n\
         print(a.sum(), a.sum(axis=0).tolist(), a.mean(axis=1).tolist())\n\
         print(np.add(a, np.array([1, 2, 3, 4])).tolist()[2])\n\
         print(np.round(np.sqrt(np.array([4.0, 9.0, 2.0])), 6).tolist())\n\
         print(np.allclose(np.sin(np.pi / 6), 0.5), np.exp(np.log(7.5)) == 7.5 or np.isclose(np.exp(np.log(7.5)), 7.5))\n\
         print(np.maximum.reduce([3, 9, 2]), np.cumsum([1, 2, 3, 4]).tolist())\n\
         print(np.sort(np.array([5, 3, 9, 1, 7]))[::-1].tolist(), np.argsort([30, 10, 20]).tolist())\n\
         print(np.unique(np.array([3, 1, 3, 2, 1])).tolist(), np.unique(np.array(['b', 'a', 'b'])).tolist())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "66.0 [12.0, 15.0, 18.0, 21.0] [1.5, 5.5, 9.5]",
            "[9.0, 11.0, 13.0, 15.0]",
            "[2.0, 3.0, 1.414214]",
            "True True",
            "9 [1, 3, 6, 10]",
            "[9, 7, 5, 3, 1] [1, 2, 0]",
            "[1, 2, 3] ['a', 'b']",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn dtypes_on_a_32_bit_guest() {
    let out = lines(
        "import numpy as np\n\
         print(np.dtype(np.intp).itemsize, np.dtype(np.int64).itemsize, np.dtype(np.longdouble).itemsize)\n\
         print(np.array([2**40]).dtype, int(np.array([2**40], dtype=np.int64)[0] * 4))\n\
         print(np.array([1, 2], dtype=np.uint8) - np.array([2, 2], dtype=np.uint8))\n\
         print(np.float32(1) / np.float32(3), np.array([1.5, 2.5]).astype(np.int32).tolist())\n\
         rec = np.array([(1, 2.5, b'ab')], dtype=[('i', '<i4'), ('f', '<f8'), ('s', 'S2')])\n\
         print(rec['f'][0], rec.dtype.itemsize, np.datetime64('2024-03-01') - np.datetime64('2024-02-01'))\n\
         print(np.finfo(np.float64).eps, np.iinfo(np.int32).max, np.complex128(1 + 2j) * 1j)\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "4 8 16",
            "int64 4398046511104",
            "[255   0]",
            "0.33333334 [1, 2]",
            "2.5 14 29 days",
            "2.220446049250313e-16 2147483647 (-2+1j)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn linear_algebra_with_lapack_lite() {
    let out = lines(
        "import numpy as np\n\
         a = np.array([[3.0, 1.0, 2.0], [1.0, 4.0, 1.0], [2.0, 1.0, 5.0]])\n\
         x = np.array([1.0, -2.0, 3.0])\n\
         print(np.round(np.linalg.solve(a, a @ x), 10).tolist())\n\
         print(np.allclose(np.linalg.inv(a) @ a, np.eye(3)), round(float(np.linalg.det(a)), 10))\n\
         w, v = np.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))\n\
         print(np.round(w, 10).tolist(), np.allclose(np.abs(v), np.sqrt(0.5)))\n\
         ev = np.linalg.eigvals(np.array([[0.0, -1.0], [1.0, 0.0]]))\n\
         print(sorted(np.round(ev, 10).tolist(), key=lambda z: z.imag))\n\
         u, s, vt = np.linalg.svd(a)\n\
         print(np.allclose(u @ np.diag(s) @ vt, a), np.linalg.matrix_rank(np.ones((3, 3))))\n\
         q, r = np.linalg.qr(a)\n\
         print(np.allclose(q @ r, a), round(float(np.linalg.norm([3.0, 4.0])), 10))\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "[1.0, -2.0, 3.0]",
            "True 40.0",
            "[1.0, 3.0] True",
            "[-1j, 1j]",
            "True 1",
            "True 5.0",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn random_generators_match_native_numpy() {
    // Native numpy 2.3.5 (x86_64) prints the same for these seeds: the bit
    // generators and distributions are platform-independent.
    let out = lines(
        "import numpy as np\n\
         r = np.random.default_rng(42)\n\
         print(r.integers(0, 100, 5).tolist(), r.standard_normal(3).tolist())\n\
         print(np.random.Generator(np.random.PCG64(7)).random(3).tolist())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "[8, 77, 65, 43, 43] [0.9405647163912139, -1.9510351886538364, -1.302179506862318]",
            "[0.625095466604667, 0.8972138009695755, 0.7756856902451935]",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn unseeded_generators_differ_between_sandboxes() {
    // The snapshot holds numpy's global RandomState seeded at build time;
    // each sandbox reseeds it (and default_rng() draws fresh OS entropy).
    let code = "import numpy as np\n\
                print(np.random.random(), np.random.default_rng().random())\n";
    let first = lines(code).await;
    let second = lines(code).await;
    let (a, b) = (
        first[0].split(' ').collect::<Vec<_>>(),
        second[0].split(' ').collect::<Vec<_>>(),
    );
    assert_ne!(a[0], b[0], "np.random.random() repeated across sandboxes");
    assert_ne!(a[1], b[1], "default_rng() repeated across sandboxes");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn fft_and_polynomials() {
    let out = lines(
        "import numpy as np\n\
         x = np.array([1.0, 2.0, 1.0, -1.0, 1.5, 0.0])\n\
         print(np.allclose(np.fft.ifft(np.fft.fft(x)).real, x), np.round(np.fft.rfft([1.0, 0.0, 0.0, 0.0]).real, 10).tolist())\n\
         p = np.polynomial.Polynomial([-6.0, 11.0, -6.0, 1.0])\n\
         print(np.round(np.sort(p.roots().real), 8).tolist(), np.polyfit([0, 1, 2], [1, 3, 5], 1).round(8).tolist())\n",
    )
    .await;
    assert_eq!(out, ["True [1.0, 1.0, 1.0]", "[1.0, 2.0, 3.0] [2.0, 1.0]"]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_errors_are_python_exceptions() {
    let out = lines(
        "import numpy as np\n\
         try:\n    np.ones(3) + np.ones(4)\n\
         except ValueError as e:\n    print('ValueError', 'broadcast' in str(e))\n\
         try:\n    np.zeros(3).reshape(2, 2)\n\
         except ValueError as e:\n    print('ValueError', e)\n\
         print(np.array([1.0]) / np.array([0.0]), np.isnan(np.sqrt(np.array([-1.0])))[0])\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "ValueError True",
            "ValueError cannot reshape array of size 3 into shape (2,2)",
            "[inf] True"
        ]
    );
}

/// What numpy raises itself through its floating-point status (WebAssembly
/// has no hardware flags; runtime/sci/patches/numpy-wasm32-fpstatus.patch):
/// singular matrices, integer division by zero, `np.errstate`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_reports_what_it_detects_itself() {
    let out = lines(
        "import numpy as np, warnings\n\
         for f, args in ((np.linalg.inv, (np.zeros((2, 2)),)), (np.linalg.solve, (np.ones((2, 2)), np.ones(2)))):\n\
         \x20   try:\n        print(f(*args))\n\
         \x20   except np.linalg.LinAlgError as e:\n        print('LinAlgError', e)\n\
         print(np.allclose(np.linalg.inv(np.eye(2) * 2), np.eye(2) / 2))\n\
         with warnings.catch_warnings(record=True) as caught:\n\
         \x20   warnings.simplefilter('always')\n\
         \x20   print((np.array([1, 2]) // 0).tolist(), (np.array([5]) % 0).tolist())\n\
         \x20   print([str(w.message) for w in caught])\n\
         \x20   np.array([1.5]) + 1\n\
         \x20   print(len(caught))\n\
         with np.errstate(divide='raise'):\n\
         \x20   try:\n        np.array([1]) // 0\n\
         \x20   except FloatingPointError as e:\n        print('FloatingPointError', e)\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "LinAlgError Singular matrix",
            "LinAlgError Singular matrix",
            "True",
            "[0, 0] [0]",
            "['divide by zero encountered in floor_divide', 'divide by zero encountered in remainder']",
            "2",
            "FloatingPointError divide by zero encountered in floor_divide",
        ]
    );
}

/// numpy hands files to C stdio by dup()ing their descriptor, which WASI
/// lacks (runtime/sci/patches/numpy-wasi-file-dup.patch): `np.save` and
/// `tofile` raised `OSError: [Errno 58] Not supported`. Positions in a file
/// shared with Python writes and reads stay where numpy leaves them.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_saves_and_loads_files() {
    let out = lines(
        "import os, numpy as np\n\
         a = np.arange(12.).reshape(3, 4)\n\
         np.save('/tmp/a.npy', a); print(np.load('/tmp/a.npy').tolist()[2])\n\
         np.savez_compressed('/tmp/z.npz', a=a, b=np.arange(3)); z = np.load('/tmp/z.npz'); print(sorted(z.files), z['b'].tolist()); z.close()\n\
         a.tofile('/tmp/a.bin'); print(np.fromfile('/tmp/a.bin').reshape(3, 4)[1].tolist(), os.path.getsize('/tmp/a.bin'))\n\
         with open('/tmp/two.bin', 'wb') as f:\n\
         \x20   f.write(b'head')\n\
         \x20   np.arange(3, dtype='<i2').tofile(f)\n\
         \x20   f.write(b'tail')\n\
         with open('/tmp/two.bin', 'rb') as f:\n\
         \x20   print(f.read(4), np.fromfile(f, dtype='<i2', count=3).tolist(), f.read())\n\
         np.arange(4).tofile('/tmp/t.txt', sep=','); print(open('/tmp/t.txt').read(), np.fromfile('/tmp/t.txt', sep=',', dtype=int).tolist())\n\
         print(np.load('/tmp/a.npy', mmap_mode='r')[1].tolist())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "[8.0, 9.0, 10.0, 11.0]",
            "['a', 'b'] [0, 1, 2]",
            "[4.0, 5.0, 6.0, 7.0] 96",
            "b'head' [0, 1, 2] b'tail'",
            "0,1,2,3 [0, 1, 2, 3]",
            "[4.0, 5.0, 6.0, 7.0]",
        ]
    );
}

/// `np.memmap` closes the file it maps at once; the guest's emulated mmap
/// writes back through the file's path (app_sci, isola_guest.mmap_shim):
/// on `flush()` and when the map is collected (`del`), as a real map does.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_memmap_writes_back_to_its_file() {
    let out = lines(
        "import numpy as np\n\
         fp = np.memmap('/tmp/m.dat', dtype='float32', mode='w+', shape=(3, 4))\n\
         fp[:] = np.arange(12, dtype='float32').reshape(3, 4); fp.flush()\n\
         print(np.fromfile('/tmp/m.dat', dtype='float32')[4:8].tolist())\n\
         rp = np.memmap('/tmp/m.dat', dtype='float32', mode='r+', shape=(12,)); rp[0] = -1; del rp\n\
         print(np.fromfile('/tmp/m.dat', dtype='float32')[:2].tolist())\n\
         c = np.memmap('/tmp/m.dat', dtype='float32', mode='c'); c[1] = 99; print(c[:2].tolist()); del c\n\
         r = np.memmap('/tmp/m.dat', dtype='float32', mode='r', offset=4, shape=(2,)); print(r.tolist(), r.mode)\n\
         try:\n    r[0] = 1\nexcept ValueError as e:\n    print(e)\n\
         from numpy.lib.format import open_memmap\n\
         m = open_memmap('/tmp/o.npy', mode='w+', dtype='i4', shape=(3,)); m[:] = [7, 8, 9]; del m\n\
         print(np.load('/tmp/o.npy').tolist())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "[4.0, 5.0, 6.0, 7.0]",
            "[-1.0, 1.0]",
            "[-1.0, 99.0]",
            "[1.0, 2.0] r",
            "assignment destination is read-only",
            "[7, 8, 9]",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn sqlite3_in_the_scratch_file_system_and_in_memory() {
    let out = lines(
        "import sqlite3, numpy as np\n\
         db = sqlite3.connect('/tmp/x.db')\n\
         db.execute('create table m (i integer, v real)')\n\
         db.executemany('insert into m values (?, ?)', [(int(i), float(v)) for i, v in enumerate(np.linspace(0, 1, 11))])\n\
         db.commit(); db.close()\n\
         db = sqlite3.connect('/tmp/x.db')\n\
         print(db.execute('select count(*), round(sum(v), 6) from m').fetchone())\n\
         import os; print(os.path.getsize('/tmp/x.db') > 0)\n\
         mem = sqlite3.connect(':memory:')\n\
         print(mem.execute('select 6 * 7').fetchone()[0])\n",
    )
    .await;
    assert_eq!(out, ["(11, 5.5)", "True", "42"]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_is_imported_before_the_first_call() {
    let out = lines(
        "import sys\n\
         print('pandas' in sys.modules, 'pandas.core.groupby' in sys.modules, 'pandas.io.parsers' in sys.modules)\n\
         import numpy, pandas as pd, dateutil, pytz\n\
         print(pd.__version__, pd.Series([1, 2, 3]).sum())\n\
         import pandas.io.formats.style\n\
         try:\n    import pandas.plotting._matplotlib\n\
         except ImportError as e:\n    print(type(e).__name__, e.name)\n",
    )
    .await;
    // DataFrame.style's jinja2 is bundled; matplotlib is not.
    assert_eq!(
        out,
        [
            "True True True",
            "2.3.3 6",
            "ModuleNotFoundError matplotlib"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_groupby() {
    let out = lines(
        "import pandas as pd\n\
         df = pd.DataFrame({'team': ['a', 'b', 'a', 'c', 'b', 'a'], 'pts': [10, 7, 3, 8, 12, 5], 'x': [1.5, 2.0, 0.5, 4.0, 1.0, 2.5]})\n\
         g = df.groupby('team')\n\
         print(g['pts'].sum().to_dict(), g['x'].mean().round(4).to_dict())\n\
         print(g.agg(n=('pts', 'size'), top=('pts', 'max'), spread=('x', 'std')).round(4).to_dict('index'))\n\
         print(df.groupby('team', sort=False)['pts'].cumsum().tolist(), g['pts'].rank(method='first').tolist())\n\
         print(g['pts'].transform('mean').round(4).tolist(), df.pivot_table(index='team', values='pts', aggfunc='count').to_dict())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "{'a': 18, 'b': 19, 'c': 8} {'a': 1.5, 'b': 1.5, 'c': 4.0}",
            "{'a': {'n': 3, 'top': 10, 'spread': 1.0}, 'b': {'n': 2, 'top': 12, 'spread': 0.7071}, \
             'c': {'n': 1, 'top': 8, 'spread': nan}}",
            "[10, 7, 13, 8, 19, 18] [3.0, 1.0, 1.0, 1.0, 2.0, 2.0]",
            "[6.0, 9.5, 6.0, 8.0, 9.5, 6.0] {'pts': {'a': 3, 'b': 2, 'c': 1}}",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_merge_join_concat() {
    let out = lines(
        "import pandas as pd\n\
         left = pd.DataFrame({'k': [1, 2, 3, 4], 'a': ['w', 'x', 'y', 'z']})\n\
         right = pd.DataFrame({'k': [2, 4, 4, 5], 'b': [20.0, 40.0, 41.0, 50.0]})\n\
         print(pd.merge(left, right, on='k').values.tolist())\n\
         print(pd.merge(left, right, on='k', how='outer', indicator=True)['_merge'].astype(str).tolist())\n\
         print(left.merge(right, on='k', how='left')['b'].fillna(-1).tolist())\n\
         print(pd.concat([left, left], ignore_index=True).shape, left.set_index('k').join(right.set_index('k'), how='inner').index.tolist())\n\
         print(pd.merge_asof(pd.DataFrame({'t': [1, 5, 10]}), pd.DataFrame({'t': [2, 6], 'v': ['p', 'q']}), on='t')['v'].fillna('-').tolist())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "[[2, 'x', 20.0], [4, 'z', 40.0], [4, 'z', 41.0]]",
            "['left_only', 'both', 'left_only', 'both', 'both', 'right_only']",
            "[-1.0, 20.0, -1.0, 40.0, 41.0]",
            "(8, 2) [2, 4, 4]",
            "['-', 'p', 'q']",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_csv_round_trip_in_the_scratch_file_system() {
    let out = lines(
        "import io, os\n\
         import numpy as np, pandas as pd\n\
         df = pd.DataFrame({'id': [0, 1, 2, 3, 4], 'name': ['ann', 'bob', None, 'd\u{e9}', 'eve'], 'v': [0.5, np.nan, 2.25, -1.0, 1e10],\n\
                            'when': pd.to_datetime(['2024-01-01 00:00:00', '2024-02-29 00:00:00', '2024-03-31 12:30:00', None, '2025-12-31 00:00:00'])})\n\
         df.to_csv('/tmp/t.csv', index=False)\n\
         print(open('/tmp/t.csv').read().splitlines()[:3])\n\
         back = pd.read_csv('/tmp/t.csv', parse_dates=['when'])\n\
         print(back.dtypes.astype(str).tolist(), back['v'].isna().tolist(), back['name'].fillna('?').tolist())\n\
         print(back.equals(df), back['when'].dt.month.fillna(0).astype(int).tolist())\n\
         chunks = list(pd.read_csv('/tmp/t.csv', chunksize=2, usecols=['id', 'v']))\n\
         print([len(c) for c in chunks], pd.read_csv('/tmp/t.csv', sep=',', nrows=2, index_col='id').index.tolist())\n\
         print(pd.read_csv(io.StringIO('a;b\\n1;x\\n2;y\\n'), sep=';').to_dict('list'), os.path.getsize('/tmp/t.csv'))\n\
         print(pd.read_csv('/tmp/t.csv', memory_map=True).shape)\n",
    )
    .await;
    // memory_map=True works over the guest's emulated mmap.
    assert_eq!(
        out,
        [
            "['id,name,v,when', '0,ann,0.5,2024-01-01 00:00:00', '1,bob,,2024-02-29 00:00:00']",
            "['int64', 'object', 'float64', 'datetime64[ns]'] [False, True, False, False, False] \
             ['ann', 'bob', '?', 'd\u{e9}', 'eve']",
            "True [1, 2, 3, 0, 12]",
            "[2, 2, 1] [0, 1]",
            "{'a': [1, 2], 'b': ['x', 'y']} 152",
            "(5, 4)",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_datetime_operations() {
    let out = lines(
        "import pandas as pd\n\
         s = pd.Series(pd.date_range('2024-02-27', periods=5, freq='D'))\n\
         print(s.dt.strftime('%Y-%m-%d %a').tolist())\n\
         print((s + pd.Timedelta(hours=36)).dt.day.tolist(), (s.max() - s.min()).days, s.dt.is_month_end.tolist())\n\
         ts = pd.Timestamp('2024-03-10 01:30', tz='America/New_York')\n\
         print(ts + pd.Timedelta(hours=1), ts.tz_convert('UTC'), ts.tz_convert('Asia/Kolkata').strftime('%H:%M'))\n\
         r = pd.Series(range(6), index=pd.date_range('2024-01-01', periods=6, freq='12h'))\n\
         print(r.resample('D').sum().to_dict())\n\
         print(pd.date_range('2024-01-31', periods=4, freq='ME').strftime('%m-%d').tolist(), pd.Timestamp('2024-01-31') + pd.offsets.BDay(2))\n\
         print(pd.to_datetime('2024-07-04T10:00:00+02:00').tz_convert('UTC').isoformat(), pd.Period('2024Q1').end_time.date())\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "['2024-02-27 Tue', '2024-02-28 Wed', '2024-02-29 Thu', '2024-03-01 Fri', '2024-03-02 Sat']",
            "[28, 29, 1, 2, 3] 4 [False, False, True, False, False]",
            "2024-03-10 03:30:00-04:00 2024-03-10 06:30:00+00:00 12:00",
            "{Timestamp('2024-01-01 00:00:00'): 1, Timestamp('2024-01-02 00:00:00'): 5, \
             Timestamp('2024-01-03 00:00:00'): 9}",
            "['01-31', '02-29', '03-31', '04-30'] 2024-02-02 00:00:00",
            "2024-07-04T08:00:00+00:00 2024-03-31",
        ]
    );
}

/// tabulate and jinja2 (runtime/sci/guest-requirements.txt) are bundled:
/// `to_markdown`, `to_latex` and `DataFrame.style` render as natively with
/// them installed; a pandas module left out for want of another optional
/// package raises what pandas raises natively without it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn pandas_renders_markdown_latex_and_styles() {
    let out = lines(
        "import pandas as pd\n\
         df = pd.DataFrame({'a': [1, 2], 'b': ['x', 'y']})\n\
         print(df.to_markdown())\n\
         print(df.to_latex(index=False))\n\
         html = df.style.format({'a': '{:.1f}'}).set_caption('T').hide(axis='index').to_html()\n\
         print('<caption>T</caption>' in html, '>1.0</td>' in html)\n\
         for stmt in ['import pandas.plotting._matplotlib', 'df.plot()']:\n\
         \x20   try:\n        exec(stmt)\n\
         \x20   except ImportError as e:\n        print(type(e).__name__, e)\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "|    |   a | b   |",
            "|---:|----:|:----|",
            "|  0 |   1 | x   |",
            "|  1 |   2 | y   |",
            "\\begin{tabular}{rl}",
            "\\toprule",
            "a & b \\\\",
            "\\midrule",
            "1 & x \\\\",
            "2 & y \\\\",
            "\\bottomrule",
            "\\end{tabular}",
            "",
            "True True",
            "ModuleNotFoundError No module named 'matplotlib'",
            "ImportError matplotlib is required for plotting when the default backend \"matplotlib\" is selected.",
        ]
    );
}

/// The sources of numpy's and pandas' modules are kept in the runtime
/// (`isola_guest.lazy_stdlib.capture_imported`, called by app_sci.py), as
/// the standard library's are: a traceback through pandas shows each
/// frame's line, `inspect.getsource` and `linecache` find them, and
/// `pkgutil` lists a package's modules, as natively. Before, their files
/// being absent at run time, a traceback showed only file names and line
/// numbers, `inspect.getsource` raised `OSError` and `iter_modules` found
/// nothing. Expected lines: native pandas 2.3.3 / numpy 2.3.5.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn numpy_and_pandas_sources_serve_tracebacks_and_inspect() {
    let out = lines(
        "import inspect, linecache, pkgutil, traceback\n\
         import numpy as np, pandas as pd\n\
         try:\n    pd.to_datetime(['13/02/2024'], format='%m/%d/%Y')\n\
         except ValueError:\n    tb = traceback.format_exc().splitlines()\n\
         i = [n for n, l in enumerate(tb) if l.endswith('in _array_strptime_with_fallback')][0]\n\
         print(tb[i + 1].strip())\n\
         print(inspect.getsource(pd.DataFrame.head).splitlines()[0].strip())\n\
         print(inspect.getsource(np.linspace).splitlines()[0])\n\
         print(linecache.getline(pd.core.frame.__file__, 1).strip())\n\
         print([m.name for m in pkgutil.iter_modules(pd.io.parsers.__path__)])\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "result, tz_out = array_strptime(arg, fmt, exact=exact, errors=errors, utc=utc)",
            "@final",
            "@array_function_dispatch(_linspace_dispatcher)",
            "\"\"\"",
            "['arrow_parser_wrapper', 'base_parser', 'c_parser_wrapper', 'python_parser', 'readers']",
        ]
    );
}

/// `importlib.metadata` knows the bundled packages (runtime/sci/src/bundled_metadata.py):
/// their `.dist-info` directories exist only at build time, and numpy's and
/// pandas' builds have none, so `importlib.metadata.version("pandas")`
/// raised `PackageNotFoundError`. Expected lines: native CPython with the
/// same pins (numpy 2.3.5, pandas 2.3.3, jinja2 3.1.6 and tabulate 0.10.0 installed).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the scientific runtime: make test-sci"]
async fn bundled_packages_have_their_metadata() {
    let out = lines(
        "import importlib.metadata as md\n\
         print([md.version(p) for p in ('numpy', 'pandas', 'pytz', 'python-dateutil', 'six', 'jinja2', 'tabulate', 'tzdata')])\n\
         print(md.metadata('pytz')['Summary'], md.requires('jinja2'))\n\
         print(sorted({'numpy', 'pandas', 'pytz'} & {d.metadata['Name'] for d in md.distributions()}))\n",
    )
    .await;
    assert_eq!(
        out,
        [
            "['2.3.5', '2.3.3', '2025.2', '2.9.0.post0', '1.17.0', '3.1.6', '0.10.0', '2025.2']",
            "World timezone definitions, modern and historical ['MarkupSafe>=2.0', 'Babel>=2.7 ; extra == \"i18n\"']",
            "['numpy', 'pandas', 'pytz']",
        ]
    );
}
