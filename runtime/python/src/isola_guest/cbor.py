"""A small CBOR (RFC 8949) codec for the values that cross the host boundary.

Only the data model shared with JSON plus byte strings and big integers is
supported; anything else is refused loudly so the host and guest never disagree
silently about what a value means.
"""

import struct

__all__ = ["dumps", "loads", "CBORDecodeError", "MAX_DEPTH", "MAX_BIGNUM_BYTES"]

# The host's limits (src/value/mod.rs, MAX_DEPTH and MAX_BIGNUM_BYTES; a host
# test checks the numbers agree): at most MAX_DEPTH arrays and maps nested in
# each other, and bignums of at most MAX_BIGNUM_BYTES bytes, in both directions.
MAX_DEPTH = 100
MAX_BIGNUM_BYTES = 1024

_U64_LIMIT = 1 << 64

_FLOAT64 = struct.Struct(">d")
_FLOAT32 = struct.Struct(">f")
_FLOAT16 = struct.Struct(">e")


class CBORDecodeError(ValueError):
    """Raised when bytes are not a CBOR value this codec accepts."""


# ---------------------------------------------------------------- encoding


def _head(major, n):
    # The argument is always written in the shortest form (preferred serialization).
    mt = major << 5
    if n < 24:
        return bytes((mt | n,))
    if n < 0x100:
        return bytes((mt | 24, n))
    if n < 0x10000:
        return bytes((mt | 25,)) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes((mt | 26,)) + n.to_bytes(4, "big")
    return bytes((mt | 27,)) + n.to_bytes(8, "big")


def _bignum(tag, n):
    size = max(1, (n.bit_length() + 7) // 8)
    if size > MAX_BIGNUM_BYTES:
        raise ValueError("cannot encode to CBOR: integer larger than 2**%d" % (MAX_BIGNUM_BYTES * 8))
    raw = n.to_bytes(size, "big")
    return _head(6, tag) + _head(2, len(raw)) + raw


def _too_deep():
    return ValueError(
        "cannot encode to CBOR: value nested deeper than %d levels of lists and dicts" % MAX_DEPTH
    )


def _encode(value, out, depth):
    # depth: how many lists/dicts enclose ``value``.
    # bool is checked before int because bool is a subclass of int.
    if value is None:
        out.append(b"\xf6")
    elif value is True:
        out.append(b"\xf5")
    elif value is False:
        out.append(b"\xf4")
    elif isinstance(value, int):
        n = int(value)
        if n >= 0:
            out.append(_head(0, n) if n < _U64_LIMIT else _bignum(2, n))
        else:
            m = -1 - n
            out.append(_head(1, m) if m < _U64_LIMIT else _bignum(3, m))
    elif isinstance(value, float):
        # Always float64: lossless and trivially predictable for the host.
        out.append(b"\xfb" + _FLOAT64.pack(value))
    elif isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError("cannot encode to CBOR: string is not valid Unicode (%s)" % e) from None
        out.append(_head(3, len(raw)))
        out.append(raw)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        out.append(_head(2, len(raw)))
        out.append(raw)
    elif isinstance(value, (list, tuple)):
        if depth >= MAX_DEPTH:
            raise _too_deep()
        out.append(_head(4, len(value)))
        for item in value:
            _encode(item, out, depth + 1)
    elif isinstance(value, dict):
        if depth >= MAX_DEPTH:
            raise _too_deep()
        out.append(_head(5, len(value)))
        for k, v in value.items():
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    else:
        raise TypeError(
            "cannot encode object of type '%s' to CBOR (supported: None, bool, int, "
            "float, str, bytes, list, tuple, dict)" % type(value).__qualname__
        )


# Fast paths for the values most calls pass and return (small integers,
# None, short ASCII strings): one lookup instead of a walk. They give exactly
# the bytes ``_encode`` gives (a unit test compares them).
_SMALL_UINTS = tuple(bytes((n,)) for n in range(24))
_SHORT_TEXT_HEADS = tuple(bytes((0x60 | n,)) for n in range(24))


def dumps(value):
    """Encode ``value`` as one CBOR data item and return the bytes."""
    kind = type(value)
    if kind is int:
        if 0 <= value < 24:
            return _SMALL_UINTS[value]
    elif value is None:
        return b"\xf6"
    elif kind is str and len(value) < 24 and value.isascii():
        return _SHORT_TEXT_HEADS[len(value)] + value.encode("ascii")
    out = []
    _encode(value, out, 0)
    return b"".join(out)


# ---------------------------------------------------------------- decoding

_BREAK = object()  # sentinel for the 0xff "break" stop code


class _Decoder:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        end = self.pos + n
        if end > len(self.data):
            raise CBORDecodeError("truncated CBOR input at offset %d" % self.pos)
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def remaining(self):
        return len(self.data) - self.pos

    def argument(self, info):
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int.from_bytes(self.take(2), "big")
        if info == 26:
            return int.from_bytes(self.take(4), "big")
        if info == 27:
            return int.from_bytes(self.take(8), "big")
        raise CBORDecodeError("invalid CBOR additional information %d at offset %d" % (info, self.pos - 1))

    def check_count(self, n, min_item_size):
        # A declared length can never exceed what is left; checking first stops
        # a 5-byte input from asking us to allocate gigabytes.
        if n * min_item_size > self.remaining():
            raise CBORDecodeError("CBOR length %d exceeds the remaining input" % n)

    def string_chunks(self, major):
        parts = []
        while True:
            if self.remaining() < 1:
                raise CBORDecodeError("truncated indefinite-length string")
            ib = self.data[self.pos]
            if ib == 0xFF:
                self.pos += 1
                return b"".join(parts)
            self.pos += 1
            if ib >> 5 != major or (ib & 0x1F) == 31:
                raise CBORDecodeError("invalid chunk inside an indefinite-length string")
            n = self.argument(ib & 0x1F)
            parts.append(bytes(self.take(n)))

    def item(self, depth, allow_break=False):
        # depth: how many arrays/maps enclose this item.
        ib = self.take(1)[0]
        major = ib >> 5
        info = ib & 0x1F
        if (major == 4 or major == 5) and depth >= MAX_DEPTH:
            raise CBORDecodeError("CBOR value nested deeper than %d levels of arrays and maps" % MAX_DEPTH)

        if major == 7:
            if info == 31:
                if allow_break:
                    return _BREAK
                raise CBORDecodeError("unexpected CBOR break code at offset %d" % (self.pos - 1))
            return self.simple(info)
        if info == 31:
            return self.indefinite(major, depth)

        n = self.argument(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return bytes(self.take(n))
        if major == 3:
            return self.text(self.take(n))
        if major == 4:
            self.check_count(n, 1)
            items = []  # a plain loop: a comprehension would add a frame per level
            for _ in range(n):
                items.append(self.item(depth + 1))
            return items
        if major == 5:
            self.check_count(n, 2)
            result = {}
            for _ in range(n):
                key = self.key(depth)
                result[key] = self.item(depth + 1)
            return result
        # major == 6: tags
        return self.tagged(n, depth)

    def text(self, raw):
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError as e:
            raise CBORDecodeError("CBOR text string is not valid UTF-8: %s" % e) from None

    def key(self, depth):
        key = self.item(depth + 1)
        if isinstance(key, list):
            # Arrays as keys are legal CBOR; tuples keep them usable as dict keys.
            key = _freeze(key)
        try:
            hash(key)
        except TypeError:
            raise CBORDecodeError("CBOR map key of type '%s' is not supported" % type(key).__name__) from None
        return key

    def indefinite(self, major, depth):
        if major == 2:
            return self.string_chunks(2)
        if major == 3:
            return self.text(self.string_chunks(3))
        if major == 4:
            items = []
            while True:
                v = self.item(depth + 1, allow_break=True)
                if v is _BREAK:
                    return items
                items.append(v)
        if major == 5:
            result = {}
            while True:
                k = self.item(depth + 1, allow_break=True)
                if k is _BREAK:
                    return result
                if isinstance(k, list):
                    k = _freeze(k)
                try:
                    hash(k)
                except TypeError:
                    raise CBORDecodeError("CBOR map key of type '%s' is not supported" % type(k).__name__) from None
                result[k] = self.item(depth + 1)
        raise CBORDecodeError("indefinite length is not allowed for CBOR major type %d" % major)

    def tagged(self, tag, depth):
        if tag in (2, 3):
            if self.remaining() < 1 or self.data[self.pos] >> 5 != 2:
                raise CBORDecodeError("CBOR bignum tag %d must wrap a byte string" % tag)
            inner = self.item(depth)
            if len(inner) > MAX_BIGNUM_BYTES:
                raise CBORDecodeError("CBOR bignum longer than %d bytes" % MAX_BIGNUM_BYTES)
            n = int.from_bytes(inner, "big")
            return n if tag == 2 else -1 - n
        raise CBORDecodeError("unsupported CBOR tag %d" % tag)

    def simple(self, info):
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22 or info == 23:  # null, undefined
            return None
        if info == 25:
            return _FLOAT16.unpack(self.take(2))[0]
        if info == 26:
            return _FLOAT32.unpack(self.take(4))[0]
        if info == 27:
            return _FLOAT64.unpack(self.take(8))[0]
        raise CBORDecodeError("unsupported CBOR simple value (additional information %d)" % info)


def _freeze(value):
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


# One-byte items decoded without a decoder object (the general path gives
# the same values; a unit test compares every one-byte input).
_ONE_BYTE_SIMPLE = {0xF4: False, 0xF5: True, 0xF6: None, 0xF7: None}


def loads(data):
    """Decode exactly one CBOR data item from ``data`` (bytes-like)."""
    if type(data) is bytes and len(data) == 1:
        ib = data[0]
        if ib < 0x18:
            return ib
        if 0x20 <= ib < 0x38:
            return 0x1F - ib
        if ib in _ONE_BYTE_SIMPLE:
            return _ONE_BYTE_SIMPLE[ib]
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("CBOR input must be bytes, not '%s'" % type(data).__name__)
    dec = _Decoder(memoryview(data).cast("B") if isinstance(data, memoryview) else bytes(data))
    if dec.remaining() == 0:
        raise CBORDecodeError("empty CBOR input")
    value = dec.item(0)
    if dec.remaining():
        raise CBORDecodeError("%d trailing bytes after the CBOR value" % dec.remaining())
    return value
