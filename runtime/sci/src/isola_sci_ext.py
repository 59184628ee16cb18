"""Import numpy's and pandas' extension modules from their merged libraries.

runtime/sci/merge_extensions.py links all extension modules of a package
into one shared library, ``<site>/isola-ext/<package>.cpython-314-wasm32-wasi.so``,
beside ``<package>.modules`` (``module.name original/relative/path.so`` per
line), so a sandbox instantiates one core instance per package instead of
one per module. CPython's extension loader looks up ``PyInit_<last name
component>`` in the file it is given, so one library can serve several
modules: this finder answers for the listed names with a spec whose loader
opens the merged library. ``__file__`` and ``__spec__.origin`` keep the
module's own path in its package directory, as if it were a file of its own.
"""

import _imp
import importlib.machinery
import os
import sys

EXT_DIR = "isola-ext"
SUFFIX = ".cpython-314-wasm32-wasi.so"

# module name -> (merged library, the module's own path)
_MODULES: dict[str, tuple[str, str]] = {}


class _MergedLoader(importlib.machinery.ExtensionFileLoader):
    """An extension loader whose module comes from a merged library."""

    def __init__(self, name: str, path: str, library: str):
        super().__init__(name, path)
        self.library = library

    def create_module(self, spec):
        # _imp.create_dynamic loads spec.origin and calls PyInit_<name>.
        return _imp.create_dynamic(importlib.machinery.ModuleSpec(spec.name, self, origin=self.library))


class MergedExtensionFinder:
    """Finds the modules listed beside the merged libraries."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        entry = _MODULES.get(fullname)
        if entry is None:
            return None
        library, own = entry
        return importlib.machinery.ModuleSpec(fullname, _MergedLoader(fullname, own, library), origin=own)

    @staticmethod
    def invalidate_caches():
        pass


def modules() -> list[str]:
    """Every module name served from a merged library."""
    return list(_MODULES)


def install() -> None:
    """Read the module lists of every ``isola-ext`` directory on sys.path and
    put the finder ahead of the path finder (build time, before numpy)."""
    for entry in sys.path:
        ext = os.path.join(entry, EXT_DIR)
        if not os.path.isdir(ext):
            continue
        for listing in sorted(os.listdir(ext)):
            if not listing.endswith(".modules"):
                continue
            library = os.path.join(ext, listing[:-len(".modules")] + SUFFIX)
            if not os.path.isfile(library):
                raise ImportError(f"{os.path.join(ext, listing)} has no library {library}")
            with open(os.path.join(ext, listing)) as f:
                for line in f:
                    name, rel = line.split()
                    _MODULES.setdefault(name, (library, os.path.join(entry, rel)))
    if MergedExtensionFinder not in sys.meta_path:
        try:
            at = sys.meta_path.index(importlib.machinery.PathFinder)
        except ValueError:
            at = len(sys.meta_path)
        sys.meta_path.insert(at, MergedExtensionFinder)
