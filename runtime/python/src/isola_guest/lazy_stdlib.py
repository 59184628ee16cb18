"""Serve the rest of the pure-Python stdlib from sources captured at build time.

Preloading every module would make each instance's heap large; keeping the
(zlib-compressed) sources instead costs only their compressed size, and a
module is compiled on first import. Switched by ``ENABLED``.

The sources of the modules preloaded at build time are kept too, and those
modules get this loader: there is no standard library on disk at run time,
and programs read them (tracebacks, ``inspect``) or load them again.

The directories those sources came from (the build's ``/python`` and its
packages) answer as they would on disk to what lists or reads them through
the import system: packages have their ``__path__``, a path hook gives those
directories (and ``/python`` on ``sys.path``) a finder that lists their
modules (``pkgutil.iter_modules``, ``walk_packages``), and the loader reads
them as files (``importlib.resources.files``, ``pkgutil.get_data``).
"""

import os
import sys
import zlib
import importlib.abc
import importlib.machinery
import importlib.util
from importlib._bootstrap import _call_with_frames_removed

from . import resource_files, stdlib_policy, unsupported

ENABLED = True

# GUI toolkits (no display), CPython's own test suite, and ctypes (the
# sandbox's ctypes is isola_guest.ctypes_shim; the real package's submodules
# need _ctypes).
_SKIP_TOP = {"test", "idlelib", "tkinter", "turtle", "turtledemo", "site-packages", "__phello__",
             "ctypes"}

# name -> (is_package, filename, compressed source)
_sources = {}
# filename -> name, for what asks linecache by file name only (warnings)
_by_filename = {}
# The standard library's directory at build time ("/python"), and the
# directories below it that hold captured sources: path -> {child name:
# module name for a file, None for a directory}.
_root = None
_dirs = {}
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
    global _root
    root = _stdlib_root() if ENABLED else None
    if root is None:
        return
    _root = root
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
            _keep(name, is_pkg, path, raw, root)
            if loaded is not None:
                _adopt(loaded)


def _keep(name, is_pkg, path, raw, root):
    packed = zlib.compress(raw, 9)
    _sources[name] = (is_pkg, path, packed)
    _by_filename[path] = name
    _add_file(path, name, root)
    stats["modules"] += 1
    stats["raw_bytes"] += len(raw)
    stats["compressed_bytes"] += len(packed)


def capture_imported(directories):
    """Keep the sources of the modules already imported from ``directories``
    (the site directories of packages a runtime bundles and imports at build
    time: the scientific runtime's numpy and pandas), as ``capture()`` keeps
    the standard library's. Their files are gone at run time too, so
    without them a traceback through such a module showed only its file
    and line number, ``inspect.getsource`` raised ``OSError``, and
    ``pkgutil.iter_modules`` of its package listed nothing. Runs at build
    time; returns the number of modules kept."""
    roots = [os.path.normpath(d) for d in directories]
    kept = 0
    for name, module in sorted(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if spec is None or name in _sources or not isinstance(origin, str) or \
                not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            continue
        root = next((r for r in roots if origin.startswith(r + os.sep)), None)
        if root is None:
            continue
        try:
            with open(origin, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        _keep(name, spec.submodule_search_locations is not None, origin, raw, root)
        _adopt(module)
        kept += 1
    # Their directories now answer through _path_hook, as /python's do.
    if LazyStdlibFinder in sys.meta_path:
        for path in _dirs:
            sys.path_importer_cache.pop(path, None)
    return kept


def _add_file(path, name, root=None):
    """Record ``path`` (of module ``name``) and its directories up to
    ``root`` (default: the standard library's) in ``_dirs``."""
    root = root or _root
    parent, child = os.path.split(path)
    _dirs.setdefault(parent, {})[child] = name
    while parent != root and parent.startswith(root + os.sep):
        parent, child = os.path.split(parent)
        _dirs.setdefault(parent, {})[child] = None


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
        _call_with_frames_removed(exec, self.get_code(module.__spec__.name), module.__dict__)
        unsupported.adapt(module)

    # Named as importlib's own loaders' code is, so this frame is importlib's
    # to ``warnings`` (which skips it: a module's warning at import with
    # stacklevel=2, such as sre_compile's DeprecationWarning, names the line
    # that imported it, and ``python -c "import sre_compile"`` shows it) and
    # to the traceback trimming of import errors, as for a module on disk.
    exec_module.__code__ = exec_module.__code__.replace(co_filename="<frozen importlib._bootstrap_external>")

    def get_filename(self, fullname):
        return _sources[fullname][1]

    def get_data(self, path):
        """A captured file's bytes (``pkgutil.get_data``), else the file's."""
        name = _dirs.get(os.path.dirname(path), {}).get(os.path.basename(path))
        if name is None:
            with open(path, "rb") as f:
                return f.read()
        return zlib.decompress(_sources[name][2])

    def get_resource_reader(self, fullname):
        entry = _sources.get(fullname)
        if entry is None:
            return None
        return resource_files.Reader(_Node(os.path.dirname(entry[1])))


_loader = _Loader()


class _Node(resource_files.Node):
    """A captured file or directory of the standard library."""

    def __init__(self, path):
        self._path = path

    def __repr__(self):
        return "<stdlib resource %r>" % self._path

    def __str__(self):
        return self._path

    @property
    def name(self):
        return os.path.basename(self._path)

    def is_dir(self):
        return self._path in _dirs

    def is_file(self):
        return self._module() is not None

    def _module(self):
        return _dirs.get(os.path.dirname(self._path), {}).get(os.path.basename(self._path))

    def iterdir(self):
        if not self.is_dir():
            raise NotADirectoryError(20, "Not a directory", self._path)
        return iter([_Node(os.path.join(self._path, child)) for child in _dirs[self._path]])

    def joinpath(self, *descendants):
        parts = [p for d in descendants for p in str(d).split("/") if p]
        return _Node(os.path.normpath(os.path.join(self._path, *parts)))

    __truediv__ = joinpath

    def open(self, mode="r", *args, **kwargs):
        if self.is_dir():
            raise IsADirectoryError(21, "Is a directory", self._path)
        name = self._module()
        if name is None:
            raise FileNotFoundError(2, "No such file or directory", self._path)
        return resource_files.open_data(zlib.decompress(_sources[name][2]), mode, *args, **kwargs)


class _DirectoryFinder:
    """The path entry finder of a captured directory (``/python``,
    ``/python/email``): finds its modules and lists them for ``pkgutil``,
    as the file finder of the directory on disk would."""

    def __init__(self, path):
        self.path = path

    def __repr__(self):
        return "StdlibDirectoryFinder(%r)" % self.path

    def find_spec(self, fullname, target=None):
        child = fullname.rpartition(".")[2]
        # A package before a module of the same name, as on disk.
        name = _package_in(self.path, child) or _dirs[self.path].get(child + ".py")
        if name is None or name != fullname:
            return None
        return LazyStdlibFinder.find_spec(fullname)

    def iter_modules(self, prefix=""):
        found = set()
        for child in sorted(_dirs[self.path]):
            if child.endswith(".py") and child != "__init__.py":
                stem = child[:-3]
                ispkg = False
            elif _package_in(self.path, child):
                stem, ispkg = child, True
            else:
                continue
            if stem.isidentifier() and stem not in found:
                found.add(stem)
                yield prefix + stem, ispkg

    def invalidate_caches(self):
        pass


def _package_in(directory, child):
    """The module name of package ``child`` in ``directory``, if captured."""
    return _dirs.get(os.path.join(directory, child), {}).get("__init__.py")


def _path_hook(path):
    if not isinstance(path, str) or path not in _dirs:
        raise ImportError("not a directory of the captured standard library", path=path)
    return _DirectoryFinder(path)


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
            spec.submodule_search_locations = [os.path.dirname(filename)]
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
    def wrapper(filename, module_globals=None):
        lines = updatecache(filename, module_globals)
        name = _by_filename.get(filename) if not lines else None
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
        sys.path_hooks.insert(0, _path_hook)
        # The file finders of these directories, cached at build time, see
        # nothing once the directories are gone.
        for path in _dirs:
            sys.path_importer_cache.pop(path, None)
        import linecache
        if not hasattr(linecache.updatecache, "__wrapped__"):
            linecache.updatecache = _lines_by_filename(linecache.updatecache)
