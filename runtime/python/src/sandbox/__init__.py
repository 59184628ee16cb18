"""The sandbox's view of its host.

Everything privileged is asked of the host: ``hostcall`` runs a named host
operation, ``sandbox.http`` performs HTTP requests, ``emit`` streams a value
to the caller. Values cross the boundary as CBOR: None, bool, int, float, str,
bytes, list/tuple and dict.
"""

from isola_guest import cbor as _cbor
from isola_guest import hostapi as _hostapi
from isola_guest.errors import HostError, StreamError, OutputLimitError
from isola_guest.loop import DeadlockError, wait_pollable as _wait_pollable, block_on_pollable as _block
from isola_guest.emitting import emit

__all__ = ["hostcall", "hostcall_sync", "emit", "HostError", "StreamError", "OutputLimitError",
           "DeadlockError", "http"]


def _answer(result, name):
    if isinstance(result, _hostapi.Ok):
        return _cbor.loads(result.value)
    raise HostError(getattr(result, "value", str(result)) or "hostcall %r failed" % name)


async def hostcall(name, payload=None):
    """Run host operation ``name`` with ``payload`` and return its answer.

    Several calls may be in flight at once (``asyncio.gather``). Raises
    ``HostError`` with the host's message when the host refuses or fails.
    """
    if not isinstance(name, str):
        raise TypeError("hostcall name must be str, not %s" % type(name).__name__)
    fut = _hostapi.hostcall(name, _cbor.dumps(payload))
    try:
        while True:
            result = fut.get()
            if result is not None:
                break
            await _wait_pollable(fut.subscribe())
    finally:
        _hostapi.drop(fut)
    return _answer(result, name)


def hostcall_sync(name, payload=None):
    """Blocking ``hostcall``: the whole sandbox waits for the answer."""
    if not isinstance(name, str):
        raise TypeError("hostcall name must be str, not %s" % type(name).__name__)
    fut = _hostapi.hostcall(name, _cbor.dumps(payload))
    try:
        while True:
            result = fut.get()
            if result is not None:
                break
            _block(fut.subscribe())
    finally:
        _hostapi.drop(fut)
    return _answer(result, name)


from . import http  # noqa: E402  (needs the names above)
