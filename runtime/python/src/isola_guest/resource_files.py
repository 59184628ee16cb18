"""What the guest's resource readers of captured files share (the
standard library's sources in ``lazy_stdlib``, the zone files in
``tzdata_bundle``): files kept in the heap image, not on disk."""

import io
from importlib.resources.abc import TraversableResources


class Reader(TraversableResources):
    """The resource reader whose ``files()`` is ``root`` (a Traversable)."""

    def __init__(self, root):
        self._root = root

    def files(self):
        return self._root


def open_data(data, mode="r", *args, **kwargs):
    """``Traversable.open`` of a file whose contents are ``data``."""
    stream = io.BytesIO(data)
    if "b" in mode:
        return stream
    return io.TextIOWrapper(stream, *args, **kwargs)
