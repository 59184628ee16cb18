import json
import math
import os
import unittest

import _path  # noqa: F401
from isola_guest import cbor

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cbor_vectors.json")


def from_json(v):
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return bytes.fromhex(v["$bytes"])
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


def same(a, b):
    # Distinguishes 0.0 from -0.0 and bool from int, which == does not.
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


class VectorTests(unittest.TestCase):
    def load(self):
        with open(VECTORS) as f:
            out = []
            for v in json.load(f):
                value = eval(v["python"]) if "python" in v else from_json(v["json"])
                out.append((v["hex"], value, v.get("decode_only", False)))
            return out

    def test_decode_vectors(self):
        for hex_, value, _ in self.load():
            with self.subTest(hex=hex_):
                self.assertTrue(same(cbor.loads(bytes.fromhex(hex_)), value), hex_)

    def test_encode_vectors(self):
        for hex_, value, decode_only in self.load():
            if decode_only:
                continue
            with self.subTest(hex=hex_):
                self.assertEqual(cbor.dumps(value).hex(), hex_)


class EncodeTests(unittest.TestCase):
    def test_tuple_bytearray_memoryview(self):
        self.assertEqual(cbor.dumps((1, 2)), bytes.fromhex("820102"))
        self.assertEqual(cbor.dumps(bytearray(b"\x01")), bytes.fromhex("4101"))
        self.assertEqual(cbor.dumps(memoryview(b"\x01")), bytes.fromhex("4101"))

    def test_bool_is_not_int(self):
        self.assertEqual(cbor.dumps([True, 1]), bytes.fromhex("82f501"))

    def test_int_subclass(self):
        import enum

        class E(enum.IntEnum):
            A = 7
        self.assertEqual(cbor.dumps(E.A), b"\x07")

    def test_unsupported_type_names_type(self):
        with self.assertRaises(TypeError) as cm:
            cbor.dumps({"a": {1, 2}})
        self.assertIn("'set'", str(cm.exception))

    def test_surrogate_string(self):
        with self.assertRaises(ValueError):
            cbor.dumps("\ud800")

    def test_self_reference(self):
        a = []
        a.append(a)
        with self.assertRaises(ValueError):
            cbor.dumps(a)

    def test_huge_ints_roundtrip(self):
        for n in (2**64, 2**200, -(2**64) - 1, -(2**300), 2**64 - 1, -(2**64)):
            self.assertEqual(cbor.loads(cbor.dumps(n)), n)

    def test_float_always_64(self):
        self.assertEqual(cbor.dumps(1.0), bytes.fromhex("fb3ff0000000000000"))
        self.assertTrue(math.isnan(cbor.loads(cbor.dumps(float("nan")))))
        self.assertEqual(cbor.loads(cbor.dumps(float("inf"))), float("inf"))


class DecodeErrorTests(unittest.TestCase):
    def bad(self, hex_, fragment=None):
        with self.assertRaises(ValueError) as cm:
            cbor.loads(bytes.fromhex(hex_))
        if fragment:
            self.assertIn(fragment, str(cm.exception))

    def test_trailing_bytes(self):
        self.bad("0000", "trailing")

    def test_empty(self):
        self.bad("", "empty")

    def test_truncated(self):
        self.bad("1a0001", "truncated")
        self.bad("62c3", "truncated")
        self.bad("8201", "exceeds")
        self.bad("830102", "exceeds")

    def test_unsupported_tag(self):
        self.bad("c11a514b67b0", "unsupported CBOR tag 1")
        self.bad("d82a4100", "unsupported CBOR tag 42")

    def test_bignum_needs_bytes(self):
        self.bad("c201", "byte string")

    def test_invalid_utf8(self):
        self.bad("61ff", "UTF-8")

    def test_stray_break(self):
        self.bad("ff", "break")
        self.bad("8201ff", "break")

    def test_reserved_additional_info(self):
        self.bad("1c")
        self.bad("3f")  # indefinite negative int

    def test_bad_indefinite_chunk(self):
        self.bad("5f6161ff", "chunk")

    def test_huge_declared_length(self):
        self.bad("9bffffffffffffffff", "exceeds")
        self.bad("5a7fffffff", "truncated")

    def test_depth_limit(self):
        deep = b"\x81" * (cbor.MAX_DEPTH + 1) + b"\x00"
        self.bad(deep.hex(), "nested")
        self.bad((b"\xa1\x00" * (cbor.MAX_DEPTH + 1) + b"\x00").hex(), "nested")
        ok = b"\x81" * cbor.MAX_DEPTH + b"\xc2\x41\x01"
        self.assertIsInstance(cbor.loads(ok), list)

    def test_encoder_depth_limit_matches_decoder(self):
        value = 1
        for _ in range(cbor.MAX_DEPTH):
            value = [value]
        self.assertEqual(cbor.loads(cbor.dumps(value)), value)
        with self.assertRaisesRegex(ValueError, "nested deeper"):
            cbor.dumps([value])
        with self.assertRaisesRegex(ValueError, "nested deeper"):
            cbor.dumps({"k": value})

    def test_bignum_size_limit(self):
        largest = (1 << (cbor.MAX_BIGNUM_BYTES * 8)) - 1
        self.assertEqual(cbor.loads(cbor.dumps(largest)), largest)
        self.assertEqual(cbor.loads(cbor.dumps(-1 - largest)), -1 - largest)
        with self.assertRaisesRegex(ValueError, "larger than"):
            cbor.dumps(largest + 1)
        self.bad("c2" + "5a%08x" % (cbor.MAX_BIGNUM_BYTES + 1) + "ff" * (cbor.MAX_BIGNUM_BYTES + 1), "bignum")
        self.bad("c201", "byte string")

    def test_unhashable_key(self):
        self.bad("a1a00000", "map key")

    def test_array_key_becomes_tuple(self):
        self.assertEqual(cbor.loads(bytes.fromhex("a182010200")), {(1, 2): 0})

    def test_not_bytes(self):
        with self.assertRaises(TypeError):
            cbor.loads("00")


if __name__ == "__main__":
    unittest.main()


class FastPathTests(unittest.TestCase):
    """dumps/loads shortcut common small values; they must agree with the
    general encoder and decoder byte for byte and value for value."""

    def general_dumps(self, value):
        out = []
        cbor._encode(value, out, 0)
        return b"".join(out)

    def test_fast_encodings_match_the_general_encoder(self):
        values = [None, True, False, 0, 1, 23, 24, 255, -1, -24, -25, 1.5,
                  "", "a", "a" * 23, "a" * 24, "\u00e9", b"", [], {}]
        for value in values:
            with self.subTest(value=value):
                self.assertEqual(cbor.dumps(value), self.general_dumps(value))

    def test_every_one_byte_input_decodes_as_the_general_decoder_does(self):
        for ib in range(256):
            data = bytes((ib,))
            try:
                fast = ("value", cbor.loads(data))
            except (ValueError, TypeError) as e:
                fast = ("error", type(e))
            dec = cbor._Decoder(data)
            try:
                value = dec.item(0)
                general = ("value", value) if not dec.remaining() else ("error", None)
            except (ValueError, TypeError) as e:
                general = ("error", type(e))
            with self.subTest(byte=ib):
                self.assertEqual(fast[0], general[0])
                if fast[0] == "value":
                    self.assertTrue(same(fast[1], general[1]), (fast, general))
