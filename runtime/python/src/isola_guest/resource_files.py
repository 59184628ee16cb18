"""What the guest's resource readers of captured files share (the
standard library's sources in ``lazy_stdlib``, the zone files in
``tzdata_bundle``): files kept in the heap image, not on disk."""

import io
from importlib.resources.abc import Traversable, TraversableResources


class Node(Traversable):
    """A captured file or directory: subclasses say what it holds."""

    def read_text(self, encoding=None, errors=None):
        # Traversable's own takes no ``errors``, which the functional API
        # (``importlib.resources.read_text(pkg, name)``) passes.
        with self.open(encoding=encoding, errors=errors) as f:
            return f.read()


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
