"""The three guest exports, independent of the generated bindings.

Each export returns None on success or raises ``Failure`` carrying the WIT
error code; app.py turns that into the bindings' ``Err(Error(...))``.
"""

import ast
import asyncio
import functools
import inspect
import linecache
import os
import sys
import traceback
import types

from . import cbor, emitting, hostapi, instance, output, threads
from .emitting import emit, send
from .errors import Failure, OutputLimitError, limit
from .loop import get_loop, run_until_complete
from .streams import value_stream
from .tracebacks import is_runtime

SCRIPT_NAME = "<script>"

#: The sandbox's ``__main__`` module. Scripts, files and calls share its
#: namespace, and it is ``sys.modules["__main__"]`` (``install_main``), as a
#: program's module is under ``python``: ``pickle`` finds the classes and
#: functions a script defines, ``typing.get_type_hints`` resolves their
#: string annotations, ``unittest.main()`` and ``doctest.testmod()`` find
#: their tests.
main_module = types.ModuleType("__main__")
namespace = main_module.__dict__
namespace["__builtins__"] = __builtins__


def install_main():
    """Make :data:`main_module` the interpreter's ``__main__`` (build time)."""
    sys.modules["__main__"] = main_module

_ASYNCIO_DIR = os.path.dirname(os.path.abspath(asyncio.__file__)) + os.sep


def _trim(te, seen):
    """Drop runtime frames everywhere and asyncio plumbing before the user's first frame."""
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    frames = [f for f in te.stack if not is_runtime(f.filename)]
    while frames and frames[0].filename.startswith(_ASYNCIO_DIR):
        frames.pop(0)
    te.stack[:] = frames
    _trim(te.__cause__, seen)
    _trim(te.__context__, seen)
    for sub in getattr(te, "exceptions", None) or ():
        _trim(sub, seen)


def format_exception(exc):
    try:
        te = traceback.TracebackException.from_exception(exc)
        _trim(te, set())
        return "".join(te.format())
    except Exception:  # formatting must never hide the original failure
        return "".join(traceback.format_exception_only(type(exc), exc))


def _exit_status(code):
    """The status python exits with for an uncaught ``SystemExit(code)``:
    0 for None, an int truncated to a C int, else 1 after printing the
    object on stderr (``sys.exit("message")``), as the interpreter does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return (code + 2**31) % 2**32 - 2**31
    try:
        print(code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  the exit status stands whatever printing does
        pass
    return 1


def _exits_successfully(exc):
    """Whether a SystemExit ends its script or call as a success (python's
    exit status 0: no code, or an int code of 0)."""
    code = exc.code
    return code is None or (isinstance(code, int) and _exit_status(code) == 0)


def _user_failure(exc):
    if isinstance(exc, SystemExit):
        return Failure("exception", "SystemExit", format_exception(exc), _exit_status(exc.code))
    return Failure("exception", type(exc).__name__, format_exception(exc))


# ---------------------------------------------------------------- export frame


def _export(body, *args):
    """Common frame of every export: init, run ``body(*args)``, flush output,
    map errors; returns the export's result (CBOR), or None when it was
    emitted. This runs on every call, so it avoids Python-level calls
    where a check does (each costs the guest about as much as a dozen
    attribute reads)."""
    if not instance.ready:
        try:
            instance.ensure_ready()
        except Exception as e:
            raise Failure("internal", type(e).__name__, "sandbox initialisation failed:\n" + format_exception(e)) from None
    instance.begin_call()
    limit.message = None  # limit.reset(), inlined
    _result.value = None
    failure = None
    try:
        body(*args)
    except Failure as f:
        failure = f
    except OutputLimitError:
        pass  # recorded in limit.message
    except BaseException as e:
        failure = _user_failure(e)
    finally:
        if _pending_threads:
            _finish_threads()
        if output.stdout._buf or output.stderr._buf:
            output.flush_all()
    if limit.message is not None:
        raise Failure("output-limit", "", limit.message)
    if failure is not None:
        raise failure
    return _result.value


_pending_threads = threads.pending
_result = emitting.result


def _finish_threads():
    """Threads the call started and no one ran: the non-daemon ones run now,
    as ``python`` waits for them before it exits (their output comes before
    the call's result); daemon ones are dropped. Not after the output limit
    was hit: nothing more would be shown."""
    try:
        if limit.message is None:
            threads.run_left_over()
    except OutputLimitError:
        pass
    finally:
        threads.drop_pending()


def _run_code(code_obj):
    if code_obj.co_flags & inspect.CO_COROUTINE:
        return run_until_complete(get_loop(), eval(code_obj, namespace))
    return eval(code_obj, namespace)


_TOP_LEVEL = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
# Where a script's last expression value is parked while the script runs.
_RESULT_NAME = "__isola_script_result__"


def _compile_script(source, filename):
    """Compile a script so that, like a notebook cell, the value of a final
    expression statement becomes the script's result. The script stays one
    code object, so top-level ``await`` anywhere keeps running everything
    inside the event loop."""
    tree = compile(source, filename, "exec", flags=ast.PyCF_ONLY_AST | _TOP_LEVEL, dont_inherit=True)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        target = ast.Name(id=_RESULT_NAME, ctx=ast.Store())
        tree.body[-1] = ast.copy_location(ast.Assign(targets=[target], value=last.value), last)
        ast.fix_missing_locations(tree)
    return compile(tree, filename, "exec", flags=_TOP_LEVEL, dont_inherit=True)


def _script_result(value):
    # A script's value is informative; one that has no CBOR form is sent as
    # its repr instead of failing a script that otherwise succeeded.
    try:
        cbor.dumps(value)
        return value
    except (TypeError, ValueError, RecursionError):
        return repr(value)


def _exec_guarded(source, filename):
    try:
        code_obj = _compile_script(source, filename)
    except (SyntaxError, ValueError) as e:
        raise _user_failure(e) from None
    namespace.pop(_RESULT_NAME, None)
    try:
        _run_code(code_obj)
    except SystemExit as e:
        # sys.exit() / sys.exit(0) ends a script successfully, as it would a process.
        if not _exits_successfully(e):
            raise
    finally:
        result = namespace.pop(_RESULT_NAME, None)
    send(True, _script_result(result))


# Scripts' sources stay in linecache, as a notebook keeps its cells', so
# tracebacks show the failing line and inspect.getsource finds what a script
# defined. A script is named by the host (eval-script's filename: a path, as
# python names a script it runs) or gets its own name ("<script-1>",
# "<script-2>", ...): a function keeps pointing at the script that defined
# it. A name given again replaces that name's source. The oldest sources are
# dropped beyond these bounds (their tracebacks then lose the source lines,
# nothing else).
_SOURCES_KEPT = 256
_SOURCE_BYTES_KEPT = 8 << 20
_sources = {}  # name -> source length, oldest first
_source_bytes = [0]
_scripts_run = [0]


def _remember_source(source, name=None):
    """Put a script's source in linecache under ``name`` (a new
    ``<script-N>`` when None); returns the name."""
    if name is None:
        _scripts_run[0] += 1
        name = "<script-%d>" % _scripts_run[0]
    _forget_source(name)
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # mtime None: linecache.checkcache leaves the entry alone.
    linecache.cache[name] = (len(source), None, lines, name)
    _sources[name] = len(source)
    _source_bytes[0] += len(source)
    while len(_sources) > 1 and (len(_sources) > _SOURCES_KEPT or _source_bytes[0] > _SOURCE_BYTES_KEPT):
        _forget_source(next(iter(_sources)))
    return name


def _forget_source(name):
    size = _sources.pop(name, None)
    if size is not None:
        _source_bytes[0] -= size
        linecache.cache.pop(name, None)


def _eval_remembered(code, filename):
    _exec_guarded(code, _remember_source(code, filename))


def eval_script(code, filename=None):
    return _export(_eval_remembered, code, filename)


def eval_file(path):
    def body():
        try:
            with open(path, "rb") as f:
                source = f.read()
        except OSError as e:
            raise Failure("invalid-argument", "", "cannot read file %r: %s" % (path, e)) from None
        missing = object()
        previous = namespace.get("__file__", missing)
        namespace["__file__"] = path
        try:
            _exec_guarded(source, path)
        finally:
            if previous is missing:
                namespace.pop("__file__", None)
            else:
                namespace["__file__"] = previous

    return _export(body)


# ---------------------------------------------------------------- calls


def _decode_args(args):
    positional, keywords = [], {}
    for i, arg in enumerate(args):
        value = arg.value
        raw = getattr(value, "value", None)
        if isinstance(raw, (bytes, bytearray, memoryview)):
            try:
                decoded = cbor.loads(raw)
            except (ValueError, TypeError) as e:
                label = "argument %r" % arg.name if arg.name is not None else "positional argument %d" % i
                raise Failure("invalid-argument", "", "%s is not valid CBOR: %s" % (label, e)) from None
        elif raw is not None:
            decoded = value_stream(raw)
        else:
            raise Failure("invalid-argument", "", "argument %d has an unknown value kind %r" % (i, value))
        if arg.name is None:
            if keywords:
                raise Failure("invalid-argument", "", "positional argument %d follows keyword arguments" % i)
            positional.append(decoded)
        elif arg.name in keywords:
            raise Failure("invalid-argument", "", "keyword argument %r given more than once" % arg.name)
        else:
            keywords[arg.name] = decoded
    return positional, keywords


def _decode_cbor_args(positional, named):
    """The arguments of ``call-cbor``: complete CBOR values, positional
    ones first (the host sends named ones after them)."""
    try:
        values = [cbor.loads(raw) for raw in positional]
    except (ValueError, TypeError):
        for i, raw in enumerate(positional):
            try:
                cbor.loads(raw)
            except (ValueError, TypeError) as e:
                raise Failure("invalid-argument", "", "positional argument %d is not valid CBOR: %s" % (i, e)) from None
        raise
    keywords = {}
    for name, raw in named:
        if name in keywords:
            raise Failure("invalid-argument", "", "keyword argument %r given more than once" % name)
        try:
            keywords[name] = cbor.loads(raw)
        except (ValueError, TypeError) as e:
            raise Failure("invalid-argument", "", "argument %r is not valid CBOR: %s" % (name, e)) from None
    return values, keywords


def _drive_generator(gen):
    try:
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                return stop.value
            emit(item)
    finally:
        gen.close()


async def _drive_async_generator(agen):
    try:
        async for item in agen:
            emit(item)
    finally:
        await agen.aclose()


# Result types that are never generators or awaitables (exact types only: a
# subclass may define __await__).
_PLAIN_RESULTS = frozenset((type(None), bool, int, float, str, bytes, list, tuple, dict))


def _refuse_function(name, fn):
    if fn is None and name not in namespace:
        raise Failure("invalid-argument", "", "function %r is not defined in the sandbox (a call names a global function defined by an"
                      " eval, eval_file or the prelude; built-ins and dotted names are not looked up)" % name)
    raise Failure("invalid-argument", "", "%r is not callable (it is a %s)" % (name, type(fn).__name__))


def _settle(result):
    """The value a call returns for ``result`` when it is not of a plain
    type: a generator's items are sent as they come and its return value
    is the result; an async generator's items likewise (result None); an
    awaitable is awaited."""
    if inspect.isgenerator(result):
        return _drive_generator(result)
    if inspect.isasyncgen(result):
        run_until_complete(get_loop(), _drive_async_generator(result))
        return None
    if inspect.isawaitable(result):
        return run_until_complete(get_loop(), result)
    return result


def _call(decode, name, *args):
    fn = namespace.get(name)
    if (fn is None and name not in namespace) or not callable(fn):
        _refuse_function(name, fn)
    positional, keywords = decode(*args)
    try:
        result = fn(*positional, **keywords)
        if type(result) not in _PLAIN_RESULTS:  # the common case skips the checks
            result = _settle(result)
    except SystemExit as e:
        # As for a script: sys.exit() / sys.exit(0) ends the call successfully.
        if not _exits_successfully(e):
            raise
        result = None
    send(True, result)


def _call_cbor(name, positional, named):
    """``_call`` for ``call-cbor``, the warm call's path: the same checks,
    order and messages, with the arguments decoded inline (no decoder
    frame, no keyword dict when there are no named arguments)."""
    fn = namespace.get(name)
    if (fn is None and name not in namespace) or not callable(fn):
        _refuse_function(name, fn)
    keywords = None
    if named:
        values, keywords = _decode_cbor_args(positional, named)
    else:
        try:
            values = [cbor.loads(raw) for raw in positional]
        except (ValueError, TypeError):
            values, keywords = _decode_cbor_args(positional, named)  # raises the message naming the argument
    try:
        result = fn(*values, **keywords) if keywords else fn(*values)
        if type(result) not in _PLAIN_RESULTS:
            result = _settle(result)
    except SystemExit as e:
        if not _exits_successfully(e):
            raise
        result = None
    send(True, result)


# The exports' entries; partials add no Python-level call of their own.
#: ``call-func(name, args)``: arguments as WIT ``argument`` records.
call_func = functools.partial(_export, _call, _decode_args)
#: ``call-cbor(name, positional, named)``: complete CBOR values only.
call_cbor = functools.partial(_export, _call_cbor)
