"""The single seam between the runtime and the generated WIT bindings.

Every other module reaches the host only through the names defined here, so
the pure-Python parts can be unit-tested natively by calling ``bind_fakes``.
Inside the component ``bind_wit`` wires the real imports in.
"""

# Result / variant classes. Real ones come from the bindings; the fallbacks have
# the same shape so tests (and isinstance checks) work without them.
try:  # pragma: no cover - only inside the component
    from componentize_py_types import Ok, Err
except ImportError:
    class Ok:
        def __init__(self, value):
            self.value = value

    class Err(Exception):
        def __init__(self, value):
            super().__init__(value)
            self.value = value


class _Fallback:
    def __init__(self, value=None):
        self.value = value


class StreamNext_Chunk(_Fallback):
    pass


class StreamNext_End(_Fallback):
    pass


class StreamNext_Pending(_Fallback):
    pass


class StreamNext_Failed(_Fallback):
    pass


def _unbound(*_args, **_kwargs):
    raise RuntimeError("isola host imports are not bound (not running inside the component)")


# wasi:io/poll and wasi:clocks/monotonic-clock
poll = _unbound                 # (list[pollable]) -> list[int]
clock_now = _unbound            # () -> int nanoseconds
subscribe_duration = _unbound   # (int ns) -> pollable
# wasi:cli/environment
get_environment = _unbound      # () -> list[tuple[str, str]]
get_arguments = _unbound        # () -> list[str]
# isola:sandbox/host; these raise Err(str) on failure like the bindings do
emit = _unbound                 # (is_final: bool, bytes) -> None
emit_output = _unbound          # (is_stderr: bool, str) -> None
emit_log = _unbound             # (int, str, str) -> None
hostcall = _unbound             # (str, bytes) -> hostcall-future
http_fetch = _unbound           # (method, url, headers, body) -> http-future
exit = _unbound                 # (int status) -> never returns: ends the sandbox
stat_fs = _unbound              # (str absolute path) -> FsStats-like or None


def bind_wit():
    """Bind the real component imports. Called at build time from app.py."""
    global poll, clock_now, subscribe_duration, get_environment, get_arguments
    global emit, emit_output, emit_log, hostcall, http_fetch, exit, stat_fs
    global StreamNext_Chunk, StreamNext_End, StreamNext_Pending, StreamNext_Failed

    from wit_world.imports import poll as wit_poll
    from wit_world.imports import monotonic_clock
    from wit_world.imports import environment
    from wit_world.imports import host as wit_host
    from wit_world.imports import types as wit_types

    StreamNext_Chunk = wit_types.StreamNext_Chunk
    StreamNext_End = wit_types.StreamNext_End
    StreamNext_Pending = wit_types.StreamNext_Pending
    StreamNext_Failed = wit_types.StreamNext_Failed

    poll = wit_poll.poll
    clock_now = monotonic_clock.now
    subscribe_duration = monotonic_clock.subscribe_duration
    get_environment = environment.get_environment
    get_arguments = environment.get_arguments
    hostcall = wit_host.hostcall

    item, final = wit_host.EmitKind.ITEM, wit_host.EmitKind.FINAL
    out, err = wit_host.OutputChannel.STDOUT, wit_host.OutputChannel.STDERR

    def _emit(is_final, data):
        wit_host.emit(final if is_final else item, data)

    def _emit_output(is_stderr, text):
        wit_host.emit_output(err if is_stderr else out, text)

    def _http_fetch(method, url, headers, body):
        req = wit_host.HttpRequest(method=method, url=url, headers=headers, body=body)
        return wit_host.http_fetch(req)

    emit = _emit
    emit_output = _emit_output
    emit_log = wit_host.emit_log
    http_fetch = _http_fetch
    exit = wit_host.exit
    stat_fs = wit_host.stat_fs


def drop(resource):
    """Release a WIT resource now instead of whenever the GC gets to it.

    Child resources (pollables) must be dropped before their parents, which
    only explicit, ordered drops can guarantee.
    """
    if resource is None:
        return
    exit_ = getattr(resource, "__exit__", None)
    if exit_ is not None:
        try:
            exit_(None, None, None)
        except Exception:
            pass
