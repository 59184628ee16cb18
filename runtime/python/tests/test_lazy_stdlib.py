"""isola_guest.lazy_stdlib.capture_imported: the sources of modules imported
at build time from a bundled package's directory (the scientific runtime's
numpy and pandas) serve tracebacks, inspect and pkgutil after the directory
is gone, as it is at run time."""
import importlib
import inspect
import linecache
import os
import pkgutil
import shutil
import sys
import tempfile
import traceback
import unittest
import zlib

import _path  # noqa: F401
from isola_guest import lazy_stdlib

FILES = {
    "pkgx/__init__.py": "from pkgx.sub import mod\n",
    "pkgx/sub/__init__.py": "",
    "pkgx/sub/mod.py": (
        "import warnings\n"
        "\n"
        "def fail(x):\n"
        "    total = x + 1\n"
        "    raise ValueError('boom %d' % total)\n"
        "\n"
        "def warn():\n"
        "    warnings.warn('careful', UserWarning, stacklevel=1)\n"
    ),
    "pkgx/helper.py": "VALUE = 42\n",
}


class CaptureImportedTests(unittest.TestCase):
    def setUp(self):
        self.saved = (sys.meta_path[:], sys.path_hooks[:], sys.path[:], linecache.updatecache,
                      dict(lazy_stdlib._sources), dict(lazy_stdlib._dirs), dict(lazy_stdlib._by_filename),
                      dict(lazy_stdlib.stats))
        self.dir = tempfile.mkdtemp()
        for rel, text in FILES.items():
            path = os.path.join(self.dir, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        # What a build does: the standard library's sources are kept and
        # served first (app.py; one stand-in here), then the packages are
        # imported and theirs kept (app_sci.py); at run time the directory
        # is not there.
        lazy_stdlib._sources["_stand_in"] = (False, "/nonexistent/_stand_in.py", zlib.compress(b""))
        lazy_stdlib.install()
        sys.path.insert(0, self.dir)
        importlib.invalidate_caches()
        import pkgx
        self.pkgx = pkgx
        self.kept = lazy_stdlib.capture_imported([self.dir])
        shutil.rmtree(self.dir)
        linecache.clearcache()

    def tearDown(self):
        for name in [n for n in sys.modules if n == "pkgx" or n.startswith("pkgx.")]:
            del sys.modules[name]
        meta, hooks, path, updatecache, sources, dirs, by_filename, stats = self.saved
        sys.meta_path[:], sys.path_hooks[:], sys.path[:] = meta, hooks, path
        linecache.updatecache = updatecache
        for attr, value in (("_sources", sources), ("_dirs", dirs), ("_by_filename", by_filename),
                            ("stats", stats)):
            getattr(lazy_stdlib, attr).clear()
            getattr(lazy_stdlib, attr).update(value)
        sys.path_importer_cache.clear()
        linecache.clearcache()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_only_imported_modules_of_the_directories_are_kept(self):
        self.assertEqual(self.kept, 3)  # pkgx, pkgx.sub, pkgx.sub.mod; not pkgx.helper
        self.assertEqual(sorted(n for n in lazy_stdlib._sources if n.startswith("pkgx")),
                         ["pkgx", "pkgx.sub", "pkgx.sub.mod"])
        self.assertNotIn("unittest", [n for n in lazy_stdlib._sources if lazy_stdlib._sources[n][1].startswith(self.dir)])

    def test_tracebacks_show_the_lines(self):
        try:
            self.pkgx.sub.mod.fail(1)
        except ValueError:
            text = traceback.format_exc()
        self.assertIn("mod.py\", line 5, in fail\n    raise ValueError('boom %d' % total)\n", text)

    def test_inspect_and_linecache_by_file_name(self):
        self.assertEqual(inspect.getsource(self.pkgx.sub.mod.fail).splitlines()[1], "    total = x + 1")
        filename = os.path.join(self.dir, "pkgx", "sub", "mod.py")
        linecache.clearcache()  # by name only, as warnings asks
        self.assertEqual(linecache.getline(filename, 8), "    warnings.warn('careful', UserWarning, stacklevel=1)\n")

    def test_packages_list_their_modules(self):
        self.assertEqual(sorted(name for _, name, _ in pkgutil.iter_modules(self.pkgx.__path__)), ["sub"])
        self.assertEqual([name for _, name, _ in pkgutil.walk_packages(self.pkgx.__path__, "pkgx.")],
                         ["pkgx.sub", "pkgx.sub.mod"])

    def test_reload_compiles_the_kept_source(self):
        mod = self.pkgx.sub.mod
        mod.marker = 1
        importlib.reload(mod)
        self.assertTrue(hasattr(mod, "fail"))
        with self.assertRaisesRegex(ValueError, "boom 3"):
            mod.fail(2)


if __name__ == "__main__":
    unittest.main()
