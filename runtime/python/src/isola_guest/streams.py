"""Host-fed streams (``value-iterator``) as Python (async) iterators."""

from . import cbor, hostapi
from .errors import StreamError
from .loop import wait_pollable, block_on_pollable


class HostStream:
    """Pulls chunks from a ``value-iterator``, usable with ``for`` and ``async for``.

    ``decode`` turns a raw chunk into the value handed to the user; ``error``
    is the exception class raised when the producer reports a failure.
    """

    def __init__(self, resource, decode=None, error=StreamError, what="stream"):
        self._res = resource
        self._decode = decode
        self._error = error
        self._what = what
        self._done = False

    def _step(self):
        """One try-next. Returns (True, value) for a chunk, (False, None) if pending."""
        if self._done:
            raise StopIteration
        r = self._res.try_next()
        if isinstance(r, hostapi.StreamNext_Chunk):
            return True, self._convert(r.value)
        if isinstance(r, hostapi.StreamNext_Pending):
            return False, None
        self.close()
        if isinstance(r, hostapi.StreamNext_End):
            raise StopIteration
        if isinstance(r, hostapi.StreamNext_Failed):
            raise self._error("%s failed: %s" % (self._what, r.value))
        raise self._error("%s returned an unknown step %r" % (self._what, r))

    def _convert(self, raw):
        if self._decode is None:
            return bytes(raw)
        try:
            return self._decode(raw)
        except ValueError as e:
            self.close()
            raise self._error("%s sent an invalid chunk: %s" % (self._what, e)) from None

    # sync iteration: blocks the whole sandbox while waiting
    def __iter__(self):
        return self

    def __next__(self):
        while True:
            ok, value = self._step()
            if ok:
                return value
            block_on_pollable(self._res.subscribe())

    # async iteration: other tasks keep running while waiting
    def __aiter__(self):
        return self

    async def __anext__(self):
        while True:
            try:
                ok, value = self._step()
            except StopIteration:
                raise StopAsyncIteration from None
            if ok:
                return value
            await wait_pollable(self._res.subscribe())

    def close(self):
        """Release the host stream; further iteration ends immediately."""
        self._done = True
        res, self._res = self._res, None
        hostapi.drop(res)

    def __repr__(self):
        return "<sandbox %s%s>" % (self._what, " (closed)" if self._done else "")


def value_stream(resource):
    """A stream of CBOR values (a ``cbor-iterator`` call argument)."""
    return HostStream(resource, decode=cbor.loads, what="value iterator")
