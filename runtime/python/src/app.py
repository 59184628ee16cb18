"""Component entry point: componentize-py runs this at build time and snapshots the heap.

Build-time work (importing the stdlib policy's modules, creating the event loop,
patching urllib) is done here once; per-instance work happens lazily in
``isola_guest.instance`` on the first export call.
"""

from isola_guest import threads

# First: threading (and everything importing it) must be built on the
# sandbox's cooperative threads and locks.
threads.install()

from isola_guest import hostapi  # noqa: E402

hostapi.bind_wit()

from isola_guest import ctypes_shim, file_modes, mmap_shim, signals, stdlib_policy, termios_shim, users  # noqa: E402

# pwd, grp, ctypes (without FFI), mmap (emulated), signal (without timer
# signals) and os.stat (with permission bits), before any preloaded module
# looks for them
signals.install()
file_modes.install()
users.install()
ctypes_shim.install()
mmap_shim.install()
termios_shim.install()
from isola_guest import recursion_limit  # noqa: E402

recursion_limit.install()  # a limit whose RecursionError can be freed
from isola_guest import tracebacks  # noqa: E402

tracebacks.install()  # a deep recursion's traceback formatted in time
from isola_guest import local_time  # noqa: E402

# time.tzset, and local time following TZ (before the stdlib's modules take
# time's functions)
local_time.install()
BUILD_IMPORT_PROBLEMS = []
stdlib_policy.preload(BUILD_IMPORT_PROBLEMS)

from isola_guest import pbkdf2, scrypt, ssl_shim, statvfs, sysconfig_vars  # noqa: E402

pbkdf2.install()  # hashlib.pbkdf2_hmac, which only OpenSSL provides
scrypt.install()  # hashlib.scrypt, likewise
statvfs.install()  # os.statvfs and shutil.disk_usage, which WASI lacks
# ``_ssl`` without OpenSSL, so ``import ssl`` works (TLS is the host's).
# After the preload: the preloaded modules (http.client, urllib.request,
# asyncio) keep their ssl-less paths, which go through the host.
ssl_shim.install()
sysconfig_vars.install()

from isola_guest import http_clients, lazy_stdlib, loop, runner, tzdata_bundle, urllib_patch  # noqa: E402
from isola_guest.errors import Failure  # noqa: E402
import sandbox  # noqa: E402,F401  (must exist in the snapshot for user imports)
import sandbox.http  # noqa: E402,F401

lazy_stdlib.capture()
tzdata_bundle.capture()
tzdata_bundle.install()
loop.get_loop()
urllib_patch.install()
# requests, urllib3 and httpx through the host, patched when first imported
http_clients.install()
lazy_stdlib.install()
# After lazy_stdlib: its MissingFinder must be the last finder.
stdlib_policy.install()

from componentize_py_types import Err  # noqa: E402
from wit_world import exports  # noqa: E402
from wit_world.imports import types as wit_types  # noqa: E402

_CODES = {
    "exception": wit_types.ErrorCode.EXCEPTION,
    "invalid-argument": wit_types.ErrorCode.INVALID_ARGUMENT,
    "output-limit": wit_types.ErrorCode.OUTPUT_LIMIT,
    "internal": wit_types.ErrorCode.INTERNAL,
}


def _text(s):
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _export_error(exc):
    """The ``Err`` an export raises for ``exc``: nothing else may escape an
    export, anything else would trap the instance."""
    if isinstance(exc, Failure):
        return Err(wit_types.Error(code=_CODES.get(exc.code, wit_types.ErrorCode.INTERNAL),
                                   kind=_text(exc.kind), message=_text(exc.message),
                                   exit_status=exc.exit_status))
    return Err(wit_types.Error(code=wit_types.ErrorCode.INTERNAL, kind=_text(type(exc).__name__),
                               message=_text("isola runtime error: %s" % runner.format_exception(exc)),
                               exit_status=None))


class Guest(exports.Guest):
    # Each returns the export's result as CBOR (None when it was emitted).
    # The try is written out in each (no wrapper): a Python-level call per
    # export is measurable on the warm call path.
    def eval_script(self, code: str, filename):
        try:
            return runner.eval_script(code, filename)
        except BaseException as e:
            raise _export_error(e) from None

    def eval_file(self, path: str):
        try:
            return runner.eval_file(path)
        except BaseException as e:
            raise _export_error(e) from None

    def call_func(self, name, args):
        try:
            return runner.call_func(name, args)
        except BaseException as e:
            raise _export_error(e) from None

    def call_cbor(self, name, positional, named):
        try:
            return runner.call_cbor(name, positional, named)
        except BaseException as e:
            raise _export_error(e) from None


# Install the host-backed stdout/stderr, logging handler and event loop now:
# nothing below prints, and every instance starts with them in place.
from isola_guest import instance  # noqa: E402
from isola_guest import preinit  # noqa: E402,F401  (run by the host for prelude snapshots)

instance.prepare_snapshot()
instance.warm_up()

# Everything above is part of the heap snapshot shared copy-on-write by every
# instance: freeze it and make it immortal, and hold the heap's free chunks
# (see isola_guest.snapshot), so neither the garbage collector, nor reference
# counting, nor an instance's allocations write to (and so copy) its pages.
from isola_guest import snapshot  # noqa: E402

snapshot.seal()
