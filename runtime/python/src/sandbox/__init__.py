"""The sandbox's view of its host.

Everything privileged is asked of the host: ``hostcall`` runs a named host
operation, ``sandbox.http`` performs HTTP requests, ``emit`` streams a value
to the caller. Values cross the boundary as CBOR: None, bool, int, float, str,
bytes, list/tuple and dict.
"""

from isola_guest import cbor as _cbor
from isola_guest import hostapi as _hostapi
from isola_guest.errors import DeadlockError, HostError, StreamError, OutputLimitError, ThreadEnded
from isola_guest import loop as _loop
from isola_guest.emitting import emit
from isola_guest.output import log_to_stderr

__all__ = ["hostcall", "hostcall_sync", "emit", "log_to_stderr", "HostError", "StreamError",
           "OutputLimitError", "DeadlockError", "ThreadEnded", "http"]


def _answer(result, name):
    if isinstance(result, _hostapi.Ok):
        return _cbor.loads(result.value)
    raise HostError(getattr(result, "value", str(result)) or "hostcall %r failed" % name)


def _start(name, payload):
    if not isinstance(name, str):
        raise TypeError("hostcall name must be str, not %s" % type(name).__name__)
    return _hostapi.hostcall(name, _cbor.dumps(payload))


async def hostcall(name, payload=None):
    """Run host operation ``name`` with ``payload`` and return its answer.

    Several calls may be in flight at once (``asyncio.gather``). Raises
    ``HostError`` with the host's message when the host refuses or fails.
    """
    return _answer(await _loop.answer(_start(name, payload)), name)


def hostcall_sync(name, payload=None):
    """Blocking ``hostcall``: the whole sandbox waits for the answer."""
    return _answer(_loop.answer_sync(_start(name, payload)), name)


from . import http  # noqa: E402  (needs the names above)
