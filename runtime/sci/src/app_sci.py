"""Entry point of the scientific runtime (isola-python-sci.wasm).

The default runtime's ``app`` (its build-time set-up and the exported
``Guest``) plus numpy and pandas. componentize-py runs this module at build
time and snapshots the heap, and only modules imported then exist at run
time, so numpy, pandas and every submodule of theirs user code may import
are imported here: a sandbox of this runtime starts with both loaded.
"""

import errno
import importlib
import io
import os
import pkgutil
import sys
import zlib

from app import Guest  # noqa: F401  (the exports, found here by componentize-py)
from isola_guest import lazy_stdlib, snapshot, tzdata_bundle

import bundled_metadata
import isola_sci_ext

# numpy's and pandas' extension modules are linked into one library per
# package (runtime/sci/merge_extensions.py); this finder imports them from it.
isola_sci_ext.install()

import numpy  # noqa: E402
import pandas  # noqa: E402
import pytz  # noqa: E402
# pandas imports its optional dependencies when first used (to_markdown:
# tabulate), after the snapshot, when no module can be added any more.
import jinja2  # noqa: E402
import markupsafe  # noqa: E402
import tabulate  # noqa: E402
from isola_guest import mmap_shim  # noqa: E402

# Submodules that cannot work in the sandbox, with the reason. Everything
# else under numpy (except tests) is imported; a failure fails the build.
SKIPPED = {
    "numpy._core.cversions": "a build-time helper (imports numpy's code generators)",
    "numpy.f2py": "a Fortran wrapper generator: runs compilers in processes",
    "numpy.distutils": "build tooling, not part of numpy 2 on Python 3.12+",
    "numpy._pyinstaller": "PyInstaller hooks",
    "numpy.conftest": "pytest configuration of numpy's own tests",
}



def _skipped(name: str) -> bool:
    return name.rpartition(".")[2] in ("tests", "conftest") or any(
        name == s or name.startswith(s + ".") for s in SKIPPED)


def _missing_dependency(error: ImportError) -> str | None:
    """The top-level package whose absence caused ``error``, unless it is numpy or pandas.

    pandas raises ``ImportError("Missing optional dependency ...")`` from the
    ``ModuleNotFoundError`` of the package it wanted; both forms count.
    """
    while error is not None:
        if isinstance(error, ModuleNotFoundError) and error.name:
            top = error.name.split(".")[0]
            return None if top in ("numpy", "pandas") else top
        error = error.__cause__ or error.__context__
    return None


def _import_tree(package, names: list[str], missing: dict[str, str] | None = None) -> None:
    """Import every submodule of ``package``.

    With ``missing``, a submodule that needs a package the runtime does not
    bundle (an optional dependency) is recorded in it, with that package,
    and skipped; any other failure fails the build.
    """
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if _skipped(info.name):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError as e:
            absent = _missing_dependency(e) if missing is not None else None
            if absent is None:
                raise
            missing[info.name] = absent
            _MISSING_ERRORS[info.name] = (type(e), str(e), e.name)
            continue
        names.append(info.name)
        if info.ispkg:
            _import_tree(module, names, missing)


def preload_numpy() -> list[str]:
    """Import numpy's submodules; returns their names."""
    names: list[str] = []
    _import_tree(numpy, names)
    return names


# pandas' submodules that need an optional dependency the runtime does not
# bundle (pyarrow, matplotlib, openpyxl, ...), with the module each one
# missed and the error its import raised; importing one in a sandbox raises
# that error again (MissingDependencyFinder), as pandas does natively
# without the package.
PANDAS_MISSING: dict[str, str] = {}
_MISSING_ERRORS: dict[str, tuple[type[ImportError], str, str | None]] = {}


def preload_pandas() -> list[str]:
    """Import pandas' submodules except those needing unbundled packages; returns their names."""
    names: list[str] = []
    _import_tree(pandas, names, PANDAS_MISSING)
    return names


def preload_extensions() -> list[str]:
    """Import every extension module of the merged libraries.

    pkgutil does not list them (they are no files of their own), and native
    code can only be linked into the component at build time, so each one
    is loaded now, including the compiled helpers of numpy's own tests.
    """
    names = isola_sci_ext.modules()
    for name in names:
        importlib.import_module(name)
    return names


def preload_extras() -> list[str]:
    """Import the bundled optional packages' submodules (runtime/sci/guest-requirements.txt):
    jinja2 imports some only when needed (jinja2.debug to report a template error)."""
    names: list[str] = []
    for package in (jinja2, markupsafe):
        _import_tree(package, names)
    return names


PRELOADED = preload_numpy() + preload_pandas() + preload_extensions() + preload_extras()


def _capture_styler_templates() -> None:
    """pandas' Styler templates, read at build time.

    Styler compiles its main templates when pandas.io.formats.style is
    imported, but those include others by name at render time (latex.tpl:
    latex_table.tpl), which its PackageLoader would read from pandas'
    package directory, not in the sandbox. A DictLoader of the same
    sources serves them (also to Styler.from_custom_template, which chains
    a FileSystemLoader of the caller's templates before this one).
    """
    from pandas.io.formats.style_render import StylerRenderer

    loader = StylerRenderer.loader
    sources = {name: loader.get_source(StylerRenderer.env, name)[0] for name in loader.list_templates()}
    StylerRenderer.loader = StylerRenderer.env.loader = jinja2.DictLoader(sources)


_capture_styler_templates()

# The sources of every module imported above from numpy's, pandas' (with
# dateutil, pytz, six) and the bundled extras' site directories, kept
# compressed as the standard library's are (isola_guest.lazy_stdlib): their
# files are not in the sandbox, and a traceback through pandas showed only
# file names and line numbers where python shows each line.
SITE_DIRS = sorted({os.path.dirname(os.path.dirname(m.__file__)) for m in (numpy, pandas, pytz, jinja2, markupsafe, tabulate)})
SOURCES_KEPT = lazy_stdlib.capture_imported(SITE_DIRS)

# Their distributions' metadata (importlib.metadata.version("pandas")), with
# the default runtime's tzdata; numpy and pandas are built without a
# .dist-info (runtime/sci/src/bundled_metadata.py).
DISTRIBUTIONS = bundled_metadata.capture(
    SITE_DIRS + [os.path.dirname(tzdata_bundle._package_dir())],
    {m.__name__: (m.__version__, os.path.dirname(os.path.dirname(m.__file__))) for m in (numpy, pandas)})
bundled_metadata.install()


class MissingDependencyFinder:
    """Raises, for a pandas module left out for want of an optional package
    and found by no other finder, the error its import raised at build time
    (``No module named 'matplotlib'``, as natively without the package)
    instead of ``No module named 'pandas.…'``, which reads as a broken
    pandas."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        error = _MISSING_ERRORS.get(fullname)
        if error is None:
            return None
        kind, message, name = error
        raise kind(message, name=name)

    @staticmethod
    def invalidate_caches():
        pass


# Last, so that a copy of the module found elsewhere (numpy's and pandas'
# test suites mount the site directory: tests/pytest_suites/sci_suites.py)
# is imported as before.
sys.meta_path.append(MissingDependencyFinder)


def _memmap_new(subtype, filename, dtype=numpy.uint8, mode="r+", offset=0, shape=None, order="C"):
    """numpy.memmap, writing back through the file's path.

    numpy maps the file's descriptor and closes the file at once, relying
    on the map's own reference to the file; the guest's mmap
    (isola_guest.mmap_shim) has no dup() to keep one, so it is told the
    path instead (flush(), del and close() then reach the file, as with a
    real map).
    """
    self = _numpy_memmap_new(subtype, filename, dtype, mode, offset, shape, order)
    if isinstance(getattr(self, "_mmap", None), mmap_shim.mmap) and self.filename is not None:
        self._mmap._write_back_by_path(self.filename)
    return self


_numpy_memmap_new = numpy.memmap.__new__
numpy.memmap.__new__ = staticmethod(_memmap_new)


def _capture_pytz_zoneinfo() -> dict[str, bytes]:
    """pytz's zone files, read at build time and kept zlib-compressed.

    pandas 2 resolves time zone names with pytz, which opens the files of its
    package directory; that directory is not in the sandbox. (The tzdata
    package bundled for ``zoneinfo`` will not do: its files are "slim",
    without the version-1 data pytz reads.)
    """
    root = os.path.join(os.path.dirname(pytz.__file__), "zoneinfo")
    files: dict[str, bytes] = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root).replace(os.sep, "/")] = zlib.compress(f.read(), 9)
    return files


_PYTZ_ZONEINFO = _capture_pytz_zoneinfo()


def _pytz_open_resource(name: str):
    """``pytz.open_resource`` over the captured files (same checks, same errors)."""
    parts = name.lstrip("/").split("/")
    for part in parts:
        if part == os.path.pardir or os.sep in part:
            raise ValueError("Bad path segment: %r" % part)
    data = _PYTZ_ZONEINFO.get("/".join(parts))
    if data is None:
        raise FileNotFoundError(errno.ENOENT, "no such pytz zone file", name)
    return io.BytesIO(zlib.decompress(data))


pytz.open_resource = _pytz_open_resource

# As at the end of app.py: make what numpy and pandas added immortal, freeze
# it and hold the heap's free chunks (isola_guest.snapshot).
snapshot.seal()
