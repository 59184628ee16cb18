"""Sending call items and results to the host."""

from . import cbor, hostapi, output
from .errors import limit, err_text


class _Result:
    __slots__ = ("value",)


#: ``result.value`` is the running export's result, encoded, once
#: ``send(True, ...)`` gave it: the export returns it to the host
#: (``runner._export``), which checks and delivers it as it would an emitted
#: result, in order after the output sent before it. That saves a host call
#: per export. A slot, not a module global: the export resets it on every
#: call, and storing a slot is a specialised instruction where storing a
#: module attribute is a generic set-attribute call.
result = _Result()
result.value = None


def send(is_final, value):
    """Send ``value`` as a streamed item or, with ``is_final``, as the
    call's result (what the runner sends when the user's code returns)."""
    data = cbor.dumps(value)  # TypeError names the unencodable type
    # Flush text first so the host sees prints and values in program order.
    if output.stdout._buf or output.stderr._buf:
        output.flush_all()
    if limit.message is not None:
        limit.hit(limit.message)
    if is_final and result.value is None:
        result.value = data
        return
    try:
        hostapi.emit(is_final, data)
    except hostapi.Err as e:
        limit.hit(err_text(e))


def emit(value):
    """Send ``value`` to the caller as one streamed item, before the call returns."""
    send(False, value)
