"""The guest's pure-Python pbkdf2_hmac against OpenSSL's (native CPython) and RFC vectors."""
import hashlib
import unittest

import _path  # noqa: F401
from isola_guest import pbkdf2


class Pbkdf2Tests(unittest.TestCase):
    def test_rfc_6070_and_7914_vectors(self):
        self.assertEqual(pbkdf2.pbkdf2_hmac("sha1", b"password", b"salt", 2, 20).hex(),
                         "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")
        self.assertEqual(
            pbkdf2.pbkdf2_hmac("sha1", b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt",
                               4096, 25).hex(),
            "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038")
        self.assertEqual(pbkdf2.pbkdf2_hmac("sha256", b"passwd", b"salt", 1, 64).hex(),
                         "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                         "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")

    @unittest.skipUnless(hasattr(hashlib, "pbkdf2_hmac"), "needs OpenSSL's pbkdf2_hmac")
    def test_matches_openssl(self):
        long_password = b"p" * 200  # longer than a block: hashed first
        for name in ("sha1", "sha256", "sha512", "sha3_256", "md5"):
            for password, salt, iterations, dklen in ((b"pw", b"salt", 3, None), (long_password, b"", 2, 100),
                                                      (bytearray(b"x"), memoryview(b"s"), 1, 1)):
                self.assertEqual(pbkdf2.pbkdf2_hmac(name, password, salt, iterations, dklen),
                                 hashlib.pbkdf2_hmac(name, password, salt, iterations, dklen), name)

    def test_bad_arguments_fail_as_openssl_does(self):
        with self.assertRaises(ValueError):
            pbkdf2.pbkdf2_hmac("sha256", b"p", b"s", 0)
        with self.assertRaises(ValueError):
            pbkdf2.pbkdf2_hmac("sha256", b"p", b"s", 1, 0)
        with self.assertRaises(ValueError):
            pbkdf2.pbkdf2_hmac("no-such-hash", b"p", b"s", 1)
        with self.assertRaises(TypeError):
            pbkdf2.pbkdf2_hmac("sha256", "text", b"s", 1)


if __name__ == "__main__":
    unittest.main()
