"""IANA time zone data for ``zoneinfo``, captured at build time.

The sandbox has no ``/usr/share/zoneinfo``. ``zoneinfo`` then looks for the
``tzdata`` package through ``importlib.resources``; this module serves that
package from the zone files of the pinned ``tzdata`` wheel
(``runtime/python/guest-requirements.txt``), read while the component is
built and kept zlib-compressed (identical files once) in the heap snapshot.
"""

import importlib.abc
import importlib.machinery
import os
import re
import sys
import zlib

from . import finders, resource_files

PACKAGE = "tzdata"

# relative path ("zoneinfo/Europe/Paris", "zones") -> index into _blobs
_files = {}
_blobs = []
# relative directory path ("", "zoneinfo", "zoneinfo/Europe") -> child names
_dirs = {}
_version = "unknown"
_package_version = None  # the package's own __version__ ("2025.2")


def _package_dir():
    for entry in sys.path:
        path = os.path.join(entry, PACKAGE)
        if os.path.isfile(os.path.join(path, "zones")) and os.path.isdir(os.path.join(path, "zoneinfo")):
            return path
    return None


def capture():
    """Read the zone files of the tzdata package on sys.path. Runs at build time."""
    global _version, _package_version
    root = _package_dir()
    if root is None:
        return
    with open(os.path.join(root, "__init__.py"), encoding="utf-8") as f:
        init = f.read()
    found = re.search(r"IANA_VERSION\s*=\s*[\"']([^\"']+)", init)
    _version = found.group(1) if found else "unknown"
    found = re.search(r"^__version__\s*=\s*[\"']([^\"']+)", init, re.M)
    _package_version = found.group(1) if found else None
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel = "" if rel == "." else rel
        _dirs[rel] = sorted(dirnames) + sorted(f for f in filenames if not f.endswith((".py", ".pyc")))
        for name in _dirs[rel]:
            if name in dirnames:
                continue
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            index = seen.get(data)
            if index is None:
                index = seen[data] = len(_blobs)
                _blobs.append(zlib.compress(data, 9))
            _files[(rel + "/" + name).lstrip("/")] = index


def zone_bytes(key):
    """The TZif file of the zone ``key`` ("Europe/Berlin"), or None."""
    index = _files.get("zoneinfo/" + key)
    return None if index is None else zlib.decompress(_blobs[index])


class _Node(resource_files.Node):
    """A file or directory of the captured package."""

    def __init__(self, rel):
        self._rel = rel

    @property
    def name(self):
        return self._rel.rpartition("/")[2] or PACKAGE

    def is_dir(self):
        return self._rel in _dirs

    def is_file(self):
        return self._rel in _files

    def iterdir(self):
        if not self.is_dir():
            raise NotADirectoryError(self._rel)
        prefix = self._rel + "/" if self._rel else ""
        return iter([_Node(prefix + child) for child in _dirs[self._rel]])

    def joinpath(self, *descendants):
        parts = [p for d in descendants for p in str(d).replace("\\", "/").split("/") if p]
        return _Node("/".join(([self._rel] if self._rel else []) + parts))

    __truediv__ = joinpath

    def open(self, mode="r", *args, **kwargs):
        if self.is_dir():
            raise IsADirectoryError(self._rel)
        if not self.is_file():
            raise FileNotFoundError(self._rel)
        return resource_files.open_data(zlib.decompress(_blobs[_files[self._rel]]), mode, *args, **kwargs)


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        if module.__name__ == PACKAGE:
            module.IANA_VERSION = _version
            if _package_version is not None:
                # pandas checks it before using zoneinfo time zones
                module.__version__ = _package_version

    def get_resource_reader(self, fullname):
        return resource_files.Reader(_Node(fullname.replace(".", "/")[len(PACKAGE) + 1:]))


class TzdataFinder:
    """Answers for ``tzdata`` and its ``tzdata.zoneinfo.*`` subpackages."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname != PACKAGE and not fullname.startswith(PACKAGE + "."):
            return None
        rel = fullname.replace(".", "/")[len(PACKAGE) + 1:]
        if rel not in _dirs:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _loader, is_package=True)
        spec.submodule_search_locations = []
        return spec

    @staticmethod
    def invalidate_caches():
        pass


_loader = _Loader()


def install():
    """Serve the captured package (build time, after ``capture``), ahead of
    the path finder: the build machine's copy is not there at run time."""
    if _files:
        finders.insert_before_path_finder(TzdataFinder)
