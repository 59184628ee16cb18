"""Which standard library modules exist inside the sandbox. THE one place to edit.

The component has no standard library on disk at run time: only modules
imported while the component is built survive (in the heap snapshot). The
modules in ``PRELOAD`` are imported then; every other pure-Python module of
the standard library is served on demand by ``lazy_stdlib`` from sources
captured at build. So every stdlib module imports, except those in
``ABSENT`` and ``NEEDS_NATIVE``: they need C code (a native FFI, a C
library, a terminal) that this WebAssembly build of CPython does not have,
and importing them fails with an ImportError that says why.

What the sandbox cannot do (sockets, processes, threads) is not refused at
import: ``socket``, ``subprocess``, ``multiprocessing`` … import, and fail
where they are used, with an exception naming the sandbox (see
``unsupported``). The guarantee itself rests on the host: the WASI context
grants no network and WASI has no way to start a process.
"""

import sys

PRELOAD = [
    # text, data and numbers
    "string", "re", "textwrap", "difflib", "unicodedata", "stringprep", "codecs",
    "encodings.idna", "encodings.ascii", "encodings.latin_1", "encodings.utf_16",
    "encodings.utf_32", "encodings.cp1252", "encodings.unicode_escape", "encodings.raw_unicode_escape",
    "encodings.base64_codec", "encodings.hex_codec",
    "json", "csv", "html", "html.parser", "html.entities", "xml.etree.ElementTree",
    "xml.dom.minidom", "base64", "binascii", "struct", "array", "zlib", "gzip",
    "zipfile", "tarfile", "bz2", "lzma", "hashlib", "hmac", "secrets", "uuid", "quopri",
    "math", "cmath", "decimal", "fractions", "numbers", "statistics", "random",
    # time
    "datetime", "time", "calendar", "zoneinfo", "locale",
    # containers and functional tools
    "collections", "collections.abc", "itertools", "functools", "operator", "heapq",
    "bisect", "copy", "pprint", "reprlib", "enum", "graphlib", "weakref", "types",
    "dataclasses", "typing", "abc", "contextlib", "contextvars",
    # language support
    "inspect", "traceback", "linecache", "tokenize", "token", "keyword", "ast", "dis",
    "warnings", "importlib", "importlib.util", "importlib.machinery", "importlib.metadata",
    "importlib.resources", "pkgutil", "atexit", "gc", "copyreg", "pickle", "shelve",
    "sqlite3", "sqlite3.dump",
    "argparse", "getopt", "gettext", "doctest", "unittest", "unittest.mock", "timeit",
    # io, files and paths (the WASI filesystem the host mounts)
    "io", "os", "os.path", "pathlib", "glob", "fnmatch", "shutil", "tempfile", "stat",
    "filecmp", "fileinput", "configparser", "tomllib", "platform", "sysconfig",
    "shlex", "errno",
    # internet data (no networking; urllib.request is routed through the host)
    "urllib", "urllib.parse", "urllib.request", "urllib.response", "urllib.error",
    "http", "http.client", "http.cookies", "email", "email.message", "email.parser",
    "email.policy", "email.utils", "email.mime.text", "email.mime.multipart",
    "mimetypes", "ipaddress",
    # concurrency and diagnostics
    "asyncio", "threading", "queue", "concurrent.futures", "sched", "logging",
    "logging.handlers", "logging.config",
]

_NO_FFI = "it loads native libraries through a C FFI, which the sandbox does not offer"
_NO_PROCESSES = ("the sandbox cannot start processes (what shares semaphores and memory "
                 "between them needs them; multiprocessing.Queue, Lock, Value and Manager "
                 "are in-process here); run the work in this sandbox or in another one")
_NO_TERMINAL = "the sandbox has no terminal"
_NO_OS = "WebAssembly (WASI) has no such operating-system service"

# Modules that cannot work in the sandbox, and why. Importing one (or a
# module that needs it) raises ModuleNotFoundError with the reason.
ABSENT = {
    # ``ctypes`` itself is isola_guest.ctypes_shim: C types and sizes, no calls;
    # ``mmap`` is isola_guest.mmap_shim, maps emulated over reads and writes.
    "_ctypes": _NO_FFI,
    # ``ssl`` is the standard module over isola_guest.ssl_shim, a ``_ssl``
    # without OpenSSL: contexts hold settings, TLS itself is the host's.
    "_multiprocessing": _NO_PROCESSES,
    "_posixshmem": _NO_PROCESSES,
    "_posixsubprocess": _NO_PROCESSES,
    # ``termios`` is isola_guest.termios_shim: imports, every call fails (ENOTTY).
    "readline": _NO_TERMINAL,
    "_curses": _NO_TERMINAL,
    "_curses_panel": _NO_TERMINAL,
    "fcntl": _NO_OS,
    "resource": _NO_OS,
    "syslog": _NO_OS,
    "_dbm": "it needs the ndbm C library; use dbm.dumb or dbm.sqlite3",
    "_gdbm": "it needs the gdbm C library; use dbm.dumb or dbm.sqlite3",
}

# Standard modules whose C part is not built into the runtime yet (the
# native-code work adds them). Delete an entry once its module is linked in.
NEEDS_NATIVE = {
    "_zstd": "libzstd",
}

_ABSENT_MSG = "module '%s' is not available in the isola sandbox: %s"
_NATIVE_MSG = ("module '%s' is not available in the isola sandbox yet: its C "
               "library (%s) is not built into the runtime")
_THIRD_PARTY_MSG = (
    "No module named '%s' (isola sandbox: third-party packages import only "
    "from directories on sys.path, e.g. a mounted directory listed in PYTHONPATH)"
)
_MISSING_MSG = (
    "module '%s' is not available in the isola sandbox (this WebAssembly "
    "build of CPython does not include it)"
)


def preload(report=None):
    """Import everything in PRELOAD. Runs at build time."""
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as e:  # a module missing from this CPython build is not fatal
            if report is not None:
                report.append("%s: %s: %s" % (name, type(e).__name__, e))


def _top(name):
    return name.partition(".")[0]


def refusal(fullname):
    """The ImportError message for a module the sandbox cannot offer, else None."""
    top = _top(fullname)
    if top in ABSENT:
        return _ABSENT_MSG % (fullname, ABSENT[top])
    if top in NEEDS_NATIVE:
        return _NATIVE_MSG % (fullname, NEEDS_NATIVE[top])
    return None


class DenyFinder:
    """First on sys.meta_path: refuses absent modules with the reason."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        message = refusal(fullname)
        if message is not None:
            raise ModuleNotFoundError(message, name=fullname)
        return None

    @staticmethod
    def invalidate_caches():
        pass


class MissingFinder:
    """Last on sys.meta_path: says why a top-level module was not found.

    Reached only when no other finder found the module. For an import
    statement (or ``importlib.import_module``) it raises the
    ModuleNotFoundError with a message naming the sandbox; for a probe such
    as ``importlib.util.find_spec`` it returns None as CPython does, so
    optional-dependency checks keep working. Being a finder rather than a
    wrapper of ``builtins.__import__``, it adds no frame to tracebacks of
    imports that fail for any other reason. A finder appended after it
    (six's, for example) is left to answer on its own.
    """

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if path is not None or sys.meta_path[-1] is not MissingFinder:
            return None
        # _find_and_load_unlocked -> _find_spec -> here: an import.
        caller = sys._getframe(2).f_code
        if caller.co_name != "_find_and_load_unlocked":
            return None
        if fullname in getattr(sys, "stdlib_module_names", ()):
            message = _MISSING_MSG % fullname
        else:
            message = _THIRD_PARTY_MSG % fullname
        raise ModuleNotFoundError(message, name=fullname)

    @staticmethod
    def invalidate_caches():
        pass


def install():
    """Apply the policy to the running interpreter (after preload)."""
    from . import unsupported
    unsupported.install()
    if not any(f is DenyFinder for f in sys.meta_path):
        sys.meta_path.insert(0, DenyFinder)
    if not any(f is MissingFinder for f in sys.meta_path):
        sys.meta_path.append(MissingFinder)
