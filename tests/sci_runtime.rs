//! The scientific runtime (`isola-python-sci.wasm`, built by `make
//! runtime-sci`): numpy imported in the pre-initialised state, its ufuncs,
//! linear algebra (lapack_lite), random generators and dtypes working in a
//! sandbox, and sqlite3 beside it. Ignored by a plain `cargo test` because
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
