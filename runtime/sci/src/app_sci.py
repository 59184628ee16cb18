"""Entry point of the scientific runtime (isola-python-sci.wasm).

The default runtime's ``app`` (its build-time set-up and the exported
``Guest``) plus numpy. componentize-py runs this module at build time and
snapshots the heap, and only modules imported then exist at run time, so
numpy and every numpy submodule user code may import are imported here:
a sandbox of this runtime starts with numpy already loaded.
"""

import gc
import importlib
import pkgutil

from app import Guest  # noqa: F401  (the exports, found here by componentize-py)

import numpy

# Submodules that cannot work in the sandbox, with the reason. Everything
# else under numpy (except tests) is imported; a failure fails the build.
SKIPPED = {
    "numpy._core.cversions": "a build-time helper (imports numpy's code generators)",
    "numpy.f2py": "a Fortran wrapper generator: runs compilers in processes",
    "numpy.distutils": "build tooling, not part of numpy 2 on Python 3.12+",
    "numpy._pyinstaller": "PyInstaller hooks",
    "numpy.conftest": "pytest configuration of numpy's own tests",
}

# Compiled helpers that numpy's own test suite imports: native modules can
# only be linked into the component at build time, so they are loaded now.
TEST_EXTENSIONS = [
    "numpy._core._multiarray_tests",
    "numpy._core._umath_tests",
    "numpy._core._rational_tests",
    "numpy._core._struct_ufunc_tests",
    "numpy._core._operand_flag_tests",
]


def _skipped(name: str) -> bool:
    return name.rpartition(".")[2] in ("tests", "conftest") or any(
        name == s or name.startswith(s + ".") for s in SKIPPED)


def _import_tree(package, names: list[str]) -> None:
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        if _skipped(info.name):
            continue
        module = importlib.import_module(info.name)
        names.append(info.name)
        if info.ispkg:
            _import_tree(module, names)


def preload_numpy() -> list[str]:
    """Import numpy's submodules (and its tests' compiled helpers); returns their names."""
    names: list[str] = []
    _import_tree(numpy, names)
    for name in TEST_EXTENSIONS:
        importlib.import_module(name)
    return names


PRELOADED = preload_numpy()

# As at the end of app.py: freeze what numpy added, without collecting first.
gc.freeze()
