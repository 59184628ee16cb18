"""Serve the rest of the pure-Python stdlib from sources captured at build time.

Preloading every module would make each instance's heap large; keeping the
(zlib-compressed) sources instead costs only their compressed size, and a
module is compiled on first import. Switched by ``ENABLED``.

The sources of the modules preloaded at build time are kept too, and those
modules get this loader: there is no standard library on disk at run time,
and programs read them (tracebacks, ``inspect``) or load them again.
"""

import os
import sys
import zlib
import importlib.abc
import importlib.machinery
import importlib.util

from . import stdlib_policy, unsupported

ENABLED = True

# GUI toolkits (no display), CPython's own test suite, and ctypes (the
# sandbox's ctypes is isola_guest.ctypes_shim; the real package's submodules
# need _ctypes).
_SKIP_TOP = {"test", "idlelib", "tkinter", "turtle", "turtledemo", "site-packages", "__phello__",
             "ctypes"}

# name -> (is_package, filename, compressed source)
_sources = {}
stats = {"modules": 0, "raw_bytes": 0, "compressed_bytes": 0}


def _stdlib_root():
    # Frozen modules report a stale os.__file__; look for the real sources.
    for entry in sys.path:
        if os.path.isfile(os.path.join(entry, "__future__.py")) and \
                os.path.isfile(os.path.join(entry, "collections", "__init__.py")):
            return entry
    return None


def capture():
    """Read the stdlib sources not already imported. Runs at build time."""
    root = _stdlib_root() if ENABLED else None
    if root is None:
        return
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split(os.sep)
        if parts and (parts[0] in _SKIP_TOP or "tests" in parts or "test" in parts):
            dirnames[:] = []
            continue
        if parts and "__init__.py" not in filenames:
            dirnames[:] = []
            continue
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith(".py"):
                continue
            stem = fn[:-3]
            is_pkg = stem == "__init__"
            mod_parts = parts if is_pkg else parts + [stem]
            if not mod_parts or "-" in stem:
                continue
            name = ".".join(mod_parts)
            top = mod_parts[0]
            if top in _SKIP_TOP or stdlib_policy.refusal(name):
                continue
            path = os.path.join(dirpath, fn)
            loaded = sys.modules.get(name)
            if loaded is not None and not _from_source(loaded, path):
                continue  # frozen or built in: its own loader can load it again
            try:
                with open(path, "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            packed = zlib.compress(raw, 9)
            _sources[name] = (is_pkg, path, packed)
            if loaded is not None:
                _adopt(loaded)
            stats["modules"] += 1
            stats["raw_bytes"] += len(raw)
            stats["compressed_bytes"] += len(packed)


def _from_source(module, path):
    spec = getattr(module, "__spec__", None)
    return spec is not None and spec.origin == path and \
        isinstance(spec.loader, importlib.machinery.SourceFileLoader)


def _adopt(module):
    """Give a module imported at build time this module's loader: its
    source file is gone at run time, and programs ask its loader for it
    (tracebacks and ``inspect.getsource`` through ``linecache``) or run
    it again (``importlib.reload``, ``spec.loader.exec_module`` of the spec
    ``importlib.util.find_spec`` returns, re-imports after popping it from
    ``sys.modules``; markdown and defusedxml take a private copy of
    ``html.parser`` and ``xml.etree.ElementTree`` that way)."""
    module.__spec__.loader = _loader
    module.__loader__ = _loader


class _Loader(importlib.abc.InspectLoader):
    def create_module(self, spec):
        return None

    def get_source(self, fullname):
        entry = _sources.get(fullname)
        if entry is None:
            raise ImportError("no captured source for %r" % fullname, name=fullname)
        return importlib.util.decode_source(zlib.decompress(entry[2]))

    def is_package(self, fullname):
        return _sources[fullname][0]

    def get_code(self, fullname):
        entry = _sources[fullname]
        return compile(zlib.decompress(entry[2]), entry[1], "exec", dont_inherit=True)

    def exec_module(self, module):
        exec(self.get_code(module.__spec__.name), module.__dict__)
        unsupported.adapt(module)


_loader = _Loader()


class LazyStdlibFinder:
    """Last on sys.meta_path: only answers for names nothing else could find."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        entry = _sources.get(fullname)
        if entry is None:
            return None
        is_pkg, filename, _ = entry
        spec = importlib.util.spec_from_loader(fullname, _loader, origin=filename, is_package=is_pkg)
        spec.has_location = True
        if is_pkg:
            spec.submodule_search_locations = []
        return spec

    @staticmethod
    def invalidate_caches():
        pass


def _lines_by_filename(updatecache):
    """``linecache.updatecache`` that also finds these sources by file name.

    Tracebacks hand linecache a frame's module (its loader has the source);
    ``warnings`` and ``linecache.getline(filename, n)`` give only the name,
    of a file that is not there at run time, so a warning raised in the
    standard library (``getpass``'s ``GetPassWarning``) showed no source
    line, as a file python cannot read would."""
    by_filename = {entry[1]: name for name, entry in _sources.items()}

    def wrapper(filename, module_globals=None):
        lines = updatecache(filename, module_globals)
        name = by_filename.get(filename) if not lines else None
        if name is None:
            return lines
        import linecache
        source = _loader.get_source(name)
        lines = source.splitlines(keepends=True) or ["\n"]
        if not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        # No modification time: checkcache() keeps it (as for loader sources).
        linecache.cache[filename] = (len(source), None, lines, filename)
        return lines

    wrapper.__name__, wrapper.__doc__, wrapper.__wrapped__ = "updatecache", updatecache.__doc__, updatecache
    return wrapper


def install():
    if ENABLED and _sources and LazyStdlibFinder not in sys.meta_path:
        sys.meta_path.append(LazyStdlibFinder)
        import linecache
        if not hasattr(linecache.updatecache, "__wrapped__"):
            linecache.updatecache = _lines_by_filename(linecache.updatecache)
