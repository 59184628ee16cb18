"""Which standard library modules exist inside the sandbox. THE one place to edit.

The component has no standard library on disk at run time: only modules
imported while the component is built survive (in the heap snapshot). So the
list below is imported at build time; everything else in the stdlib is
unavailable (unless served by ``lazy_stdlib``), and the modules in ``DENIED``
are refused outright because the sandbox offers no sockets, processes or
native FFI.
"""

import builtins
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

# Refused even if present: the capability does not exist inside the sandbox,
# and a clear error beats an obscure failure deep inside the module.
DENIED = frozenset({
    "socket", "_socket", "ssl", "_ssl", "select", "selectors", "subprocess",
    "_posixsubprocess", "multiprocessing", "_multiprocessing", "ctypes", "_ctypes",
    "mmap", "socketserver", "pty", "tty", "termios", "resource", "fcntl",
})

_DENY_MSG = (
    "module '%s' is not available in the isola sandbox (denied by the isola "
    "stdlib policy: the sandbox has no sockets, processes or native FFI; use "
    "sandbox.http or sandbox.hostcall to ask the host)"
)
_THIRD_PARTY_MSG = (
    "No module named '%s' (isola sandbox: third-party packages import only "
    "from directories on sys.path, e.g. a mounted directory listed in PYTHONPATH)"
)
_MISSING_MSG = (
    "module '%s' is not available in the isola sandbox (isola stdlib policy: "
    "only preloaded standard library modules and pure-Python packages on "
    "sys.path can be imported)"
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


class DenyFinder:
    """First on sys.meta_path: refuses denied modules before anything can load them."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if _top(fullname) in DENIED:
            raise ModuleNotFoundError(_DENY_MSG % fullname, name=fullname)
        return None

    @staticmethod
    def invalidate_caches():
        pass


_original_import = builtins.__import__


def _policy_import(name, globals=None, locals=None, fromlist=(), level=0):
    # Only rewords "No module named" for stdlib names; importlib.util.find_spec
    # keeps returning None for missing modules, so optional-dependency probes work.
    try:
        return _original_import(name, globals, locals, fromlist, level)
    except ModuleNotFoundError as e:
        missing = e.name
        if missing and "isola" not in str(e):
            if _top(missing) in getattr(sys, "stdlib_module_names", ()):
                e.msg = _MISSING_MSG % missing
            else:
                e.msg = _THIRD_PARTY_MSG % missing
            e.args = (e.msg,)
        raise


def install():
    """Apply the policy to the running interpreter (after preload)."""
    # Internal users (asyncio, http.client, ...) keep their references; user
    # imports go through the finders again and hit DenyFinder.
    for mod in list(sys.modules):
        if _top(mod) in DENIED:
            del sys.modules[mod]
    if not any(f is DenyFinder for f in sys.meta_path):
        sys.meta_path.insert(0, DenyFinder)
    builtins.__import__ = _policy_import
