"""isola_guest.ssl_shim under this Python's own ssl.py, as the sandbox runs it."""

import importlib.util
import os
import socket
import ssl as host_ssl
import sys
import tempfile
import unittest

import _path  # noqa: F401
from isola_guest import ssl_shim


def load_ssl_over_shim():
    """The standard ssl.py, run with the shim as its ``_ssl`` (restored after)."""
    saved = sys.modules.get("_ssl")
    try:
        ssl_shim.install()
        spec = importlib.util.spec_from_file_location("isola_test_ssl", host_ssl.__file__)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # enum's _convert_ looks it up there
        spec.loader.exec_module(module)
        return module
    finally:
        if saved is not None:
            sys.modules["_ssl"] = saved


ssl = load_ssl_over_shim()

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


class TestSslShim(unittest.TestCase):
    def test_says_there_is_no_openssl(self):
        self.assertIn("no OpenSSL", ssl.OPENSSL_VERSION)
        self.assertTrue(ssl.HAS_SNI)

    def test_default_context_verifies_like_openssl(self):
        ctx = ssl.create_default_context()
        self.assertEqual(ctx.protocol, ssl.PROTOCOL_TLS_CLIENT)
        self.assertEqual(ctx.verify_mode, ssl.CERT_REQUIRED)
        self.assertTrue(ctx.check_hostname)
        self.assertIsInstance(ctx.minimum_version, ssl.TLSVersion)
        self.assertIn(ssl.Options.OP_NO_SSLv3, ctx.options)

    def test_settings_are_kept_and_checked(self):
        ctx = ssl.create_default_context()
        with self.assertRaises(ValueError):
            ctx.verify_mode = ssl.CERT_NONE  # check_hostname still on, as in OpenSSL
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.assertEqual(ctx.verify_mode, ssl.CERT_NONE)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.assertEqual(ctx.minimum_version, ssl.TLSVersion.TLSv1_2)
        ctx.set_ciphers("ECDHE+AESGCM")
        ctx.set_alpn_protocols(["h2", "http/1.1"])
        self.assertEqual(ssl._create_unverified_context().verify_mode, ssl.CERT_NONE)

    def test_ca_files_must_exist_and_are_counted(self):
        with self.assertRaises(FileNotFoundError):
            ssl.create_default_context(cafile="/no/such/file.pem")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ca.pem")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT)
            os.write(fd, (PEM * 3).encode())
            os.close(fd)
            ctx = ssl.create_default_context(cafile=path)
            self.assertEqual(ctx.cert_store_stats()["x509_ca"], 3)
            with self.assertRaises(FileNotFoundError):
                ctx.load_cert_chain(os.path.join(tmp, "missing.pem"))

    def test_tls_itself_fails_naming_the_sandbox(self):
        ctx = ssl.create_default_context()
        with self.assertRaises(ssl.SSLError) as cm:
            ctx.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="example.com")
        self.assertIn("isola sandbox", str(cm.exception))
        self.assertIsInstance(cm.exception, OSError)
        a, b = socket.socketpair()
        with a, b, self.assertRaises(ssl.SSLError):
            ctx.wrap_socket(a, server_hostname="example.com")

    def test_memory_bio_buffers(self):
        bio = ssl.MemoryBIO()
        self.assertEqual(bio.write(b"abc"), 3)
        self.assertEqual((bio.pending, bio.read(2), bio.read()), (3, b"ab", b"c"))
        bio.write_eof()
        self.assertTrue(bio.eof)


if __name__ == "__main__":
    unittest.main()
