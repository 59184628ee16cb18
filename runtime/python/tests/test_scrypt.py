"""The guest's hashlib.scrypt (isola_guest.scrypt) against OpenSSL's (native
CPython). Its ROMix is the runtime's C module _isola_scrypt; natively a
plain Python ROMix (RFC 7914, section 5) stands in for it, so these tests
check the arguments, errors and PBKDF2 steps; the RFC 7914 vectors run in a
sandbox (tests/guest_environment.rs)."""
import hashlib
import struct
import sys
import types
import unittest

import _path  # noqa: F401
from isola_guest import scrypt


def _salsa20_8(b):
    x = list(b)

    def quarter(a, b, c, d):
        for dst, s1, s2, k in ((b, a, d, 7), (c, b, a, 9), (d, c, b, 13), (a, d, c, 18)):
            t = (x[s1] + x[s2]) & 0xFFFFFFFF
            x[dst] ^= ((t << k) | (t >> (32 - k))) & 0xFFFFFFFF

    for _ in range(4):
        for q in ((0, 4, 8, 12), (5, 9, 13, 1), (10, 14, 2, 6), (15, 3, 7, 11),
                  (0, 1, 2, 3), (5, 6, 7, 4), (10, 11, 8, 9), (15, 12, 13, 14)):
            quarter(*q)
    return [(a + c) & 0xFFFFFFFF for a, c in zip(x, b)]


def _romix(data, n, r):
    words = list(struct.unpack("<%dI" % (32 * r), data))
    blocks = [words[i:i + 16] for i in range(0, 32 * r, 16)]

    def mix(bs):
        x = bs[-1]
        out = [None] * (2 * r)
        for i, b in enumerate(bs):
            x = _salsa20_8([p ^ q for p, q in zip(x, b)])
            out[(i >> 1) + (i & 1) * r] = x
        return out

    v = []
    for _ in range(n):
        v.append(blocks)
        blocks = mix(blocks)
    for _ in range(n):
        vj = v[blocks[-1][0] & (n - 1)]
        blocks = mix([[p ^ q for p, q in zip(b, c)] for b, c in zip(blocks, vj)])
    return struct.pack("<%dI" % (32 * r), *[w for b in blocks for w in b])


class ScryptTests(unittest.TestCase):
    def setUp(self):
        sys.modules["_isola_scrypt"] = types.SimpleNamespace(romix=_romix)

    def tearDown(self):
        del sys.modules["_isola_scrypt"]

    def test_rfc_7914_first_vector(self):
        self.assertEqual(
            scrypt.scrypt(b"", salt=b"", n=16, r=1, p=1, dklen=64).hex(),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")

    @unittest.skipUnless(hasattr(hashlib, "scrypt"), "needs OpenSSL's scrypt")
    def test_matches_openssl(self):
        for password, salt, n, r, p, dklen in ((b"pw", b"salt", 2, 1, 1, 1),
                                               (bytearray(b"x" * 200), memoryview(b""), 8, 3, 2, 100),
                                               (b"", b"s", 4, 2, 3, 64), (b"p", b"s", 2, 4, 1, 33)):
            self.assertEqual(scrypt.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen),
                             hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen))

    @unittest.skipUnless(hasattr(hashlib, "scrypt"), "needs OpenSSL's scrypt")
    def test_bad_arguments_fail_as_openssl_does(self):
        good = dict(salt=b"s", n=16, r=1, p=1)
        cases = [dict(good, salt=None), dict(good, salt="s"), dict(good, n=None), {"n": 16, "r": 1, "p": 1},
                 dict(salt=b"s", r=1, p=1), dict(good, n=3), dict(good, n=1), dict(good, n=-2),
                 dict(good, n=2.0), dict(good, r="1"), dict(good, r=0), dict(good, p=0), dict(good, r=-1),
                 dict(good, p=None), dict(good, maxmem=-1), dict(good, maxmem=2**31), dict(good, maxmem=1.5),
                 dict(good, dklen=0), dict(good, dklen=2**31), dict(good, n=2**16, r=1),
                 dict(good, n=2**20, r=8), dict(good, n=2**10, r=8, maxmem=1000), dict(good, r=2**20, p=2**10)]
        for kwargs in cases:
            with self.assertRaises(Exception) as want:
                hashlib.scrypt(b"pw", **kwargs)
            with self.assertRaises(Exception) as got:
                scrypt.scrypt(b"pw", **kwargs)
            self.assertIs(type(got.exception), type(want.exception), kwargs)
            if "cannot be interpreted" not in str(want.exception):
                self.assertEqual(str(got.exception), str(want.exception), kwargs)
        for args in (("pw",), (b"pw", b"s")):
            with self.assertRaises(TypeError):
                hashlib.scrypt(*args, n=16, r=1, p=1)
            with self.assertRaises(TypeError):
                scrypt.scrypt(*args, n=16, r=1, p=1)


if __name__ == "__main__":
    unittest.main()
