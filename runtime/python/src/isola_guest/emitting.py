"""Sending call results to the host."""

from . import cbor, hostapi, output
from .errors import limit, err_text


def _send(is_final, value):
    data = cbor.dumps(value)  # TypeError names the unencodable type
    # Flush text first so the host sees prints and values in program order.
    output.flush_all()
    if limit.message is not None:
        limit.hit(limit.message)
    try:
        hostapi.emit(is_final, data)
    except hostapi.Err as e:
        limit.hit(err_text(e))


def emit(value):
    """Send ``value`` to the caller as one streamed item, before the call returns."""
    _send(False, value)


def emit_final(value):
    _send(True, value)
