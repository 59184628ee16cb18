"""``importlib.metadata`` for the packages the scientific runtime bundles.

Their site directories (and the ``*.dist-info`` directories in them) exist
only at build time, so ``importlib.metadata.version("pandas")`` raised
``PackageNotFoundError`` in a sandbox where python gives ``'2.3.3'``.
``capture`` reads the distributions' metadata files at build time; numpy
and pandas are built from their sdists into site directories without a
``.dist-info``, so theirs is made from the name and version. ``Finder``
(on ``sys.meta_path``) serves them to ``importlib.metadata``'s
``distributions()``, ``version()``, ``metadata()``, ``requires()`` and
``entry_points()``.
"""

import importlib.metadata
import os
import pathlib
import re
import sys

# The files of a .dist-info that describe the distribution (not LICENSE texts).
_FILES = ("METADATA", "top_level.txt", "entry_points.txt", "RECORD", "WHEEL", "INSTALLER")

# directory of the .dist-info at build time -> {file name: text}
_dists: dict[str, dict[str, str]] = {}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def capture(site_dirs, made: dict[str, tuple[str, str]]) -> list[str]:
    """Read the ``.dist-info`` directories of ``site_dirs``, and make a
    minimal one for each ``made`` name -> (version, site directory) that
    has none. Returns the distributions' names."""
    names = []
    for site in site_dirs:
        for entry in sorted(os.listdir(site)):
            path = os.path.join(site, entry)
            if not entry.endswith(".dist-info") or path in _dists:
                continue
            files = {}
            for name in _FILES:
                try:
                    with open(os.path.join(path, name), encoding="utf-8") as f:
                        files[name] = f.read()
                except FileNotFoundError:
                    pass
            if "METADATA" in files:
                _dists[path] = files
                names.append(_Distribution(path).metadata["Name"])
    have = {_normalize(n) for n in names}
    for name, (version, site) in made.items():
        if _normalize(name) not in have:
            path = os.path.join(site, "%s-%s.dist-info" % (_normalize(name), version))
            _dists[path] = {"METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)}
            names.append(name)
    return names


class _Distribution(importlib.metadata.Distribution):
    def __init__(self, path: str):
        self._path = path

    def read_text(self, filename):
        return _dists[self._path].get(filename)

    read_text.__doc__ = importlib.metadata.Distribution.read_text.__doc__

    def locate_file(self, path):
        return pathlib.PurePosixPath(os.path.dirname(self._path)) / path


class Finder:
    """Finds no modules; lists the captured distributions (importlib.metadata
    asks every finder on sys.meta_path)."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        return None

    @staticmethod
    def find_distributions(context=importlib.metadata.DistributionFinder.Context()):
        wanted = None if context.name is None else _normalize(context.name)
        for path, files in _dists.items():
            dist = _Distribution(path)
            if wanted is None or _normalize(dist.metadata["Name"]) == wanted:
                yield dist

    @staticmethod
    def invalidate_caches():
        pass


def install() -> None:
    if Finder not in sys.meta_path:
        sys.meta_path.append(Finder)
