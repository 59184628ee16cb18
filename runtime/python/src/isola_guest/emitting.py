"""Sending call results to the host."""

from . import cbor, hostapi, output
from .errors import limit, err_text


def send(is_final, value):
    """Send ``value`` as a streamed item or, with ``is_final``, as the
    call's result (what the runner sends when the user's code returns)."""
    data = cbor.dumps(value)  # TypeError names the unencodable type
    # Flush text first so the host sees prints and values in program order.
    if output.stdout._buf or output.stderr._buf:
        output.flush_all()
    if limit.message is not None:
        limit.hit(limit.message)
    try:
        hostapi.emit(is_final, data)
    except hostapi.Err as e:
        limit.hit(err_text(e))


def emit(value):
    """Send ``value`` to the caller as one streamed item, before the call returns."""
    send(False, value)
