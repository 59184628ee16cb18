"""``_ssl`` without OpenSSL: the standard ``ssl`` module imports, no TLS runs here.

The sandbox has no OpenSSL and no sockets; HTTPS is the host's (its HTTP
callback makes the connection and does TLS). Programs and libraries still
import ``ssl`` and build contexts that they hand to an HTTP client:
``ssl.create_default_context()`` as httpx's ``verify=`` or urllib3's ``ssl_context=``,
``urlopen(url, context=…)``, urllib3's context set-up,
``import ssl`` at the top of a module for its constants. This module is
the ``_ssl`` beneath the standard library's own ``ssl.py``, so those work:
a context keeps its settings (protocol, verify mode, hostname check,
versions, options, ciphers, the CA files it was given, which must exist),
and the HTTP clients routed through the host accept it and leave TLS to
the host.

What would need TLS in the guest fails, clearly: wrapping a socket or a
``MemoryBIO`` pair (``wrap_socket``, ``wrap_bio``, ``SSLObject``) raises
``ssl.SSLError`` naming the sandbox (sockets themselves are refused before
that). ``ssl.OPENSSL_VERSION`` says there is no OpenSSL; ``HAS_SNI`` and the
other ``HAS_*`` flags describe what a context accepts, so probes that
only check features before handing a context to an HTTP client pass.
"""

import io
import os
import sys
import types

_NO_TLS = ("isola sandbox: no TLS inside the sandbox (%s); HTTPS goes through the host "
           "(requests, httpx, urllib.request, sandbox.http)")

OPENSSL_VERSION = "isola sandbox: no OpenSSL (TLS is done by the host)"
OPENSSL_VERSION_INFO = (0, 0, 0, 0, 0)
OPENSSL_VERSION_NUMBER = 0
_OPENSSL_API_VERSION = (0, 0, 0, 0, 0)
_DEFAULT_CIPHERS = ("@SECLEVEL=2:ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:"
                    "!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM")

# The values of CPython's _ssl built against OpenSSL 3 on Linux.
_CONSTANTS = dict(
    CERT_NONE=0, CERT_OPTIONAL=1, CERT_REQUIRED=2,
    ENCODING_PEM=1, ENCODING_DER=2,
    PROTOCOL_SSLv23=2, PROTOCOL_TLS=2, PROTOCOL_TLS_CLIENT=16, PROTOCOL_TLS_SERVER=17,
    PROTOCOL_TLSv1=3, PROTOCOL_TLSv1_1=4, PROTOCOL_TLSv1_2=5,
    PROTO_MINIMUM_SUPPORTED=-2, PROTO_MAXIMUM_SUPPORTED=-1, PROTO_SSLv3=768,
    PROTO_TLSv1=769, PROTO_TLSv1_1=770, PROTO_TLSv1_2=771, PROTO_TLSv1_3=772,
    OP_ALL=2147483728, OP_CIPHER_SERVER_PREFERENCE=4194304, OP_ENABLE_KTLS=8,
    OP_ENABLE_MIDDLEBOX_COMPAT=1048576, OP_IGNORE_UNEXPECTED_EOF=128,
    OP_LEGACY_SERVER_CONNECT=4, OP_NO_COMPRESSION=131072, OP_NO_RENEGOTIATION=1073741824,
    OP_NO_SSLv2=0, OP_NO_SSLv3=33554432, OP_NO_TICKET=16384, OP_NO_TLSv1=67108864,
    OP_NO_TLSv1_1=268435456, OP_NO_TLSv1_2=134217728, OP_NO_TLSv1_3=536870912,
    OP_SINGLE_DH_USE=0, OP_SINGLE_ECDH_USE=0,
    VERIFY_DEFAULT=0, VERIFY_CRL_CHECK_LEAF=4, VERIFY_CRL_CHECK_CHAIN=12,
    VERIFY_X509_STRICT=32, VERIFY_ALLOW_PROXY_CERTS=64, VERIFY_X509_TRUSTED_FIRST=32768,
    VERIFY_X509_PARTIAL_CHAIN=524288,
    HOSTFLAG_ALWAYS_CHECK_SUBJECT=1, HOSTFLAG_NO_WILDCARDS=2, HOSTFLAG_NO_PARTIAL_WILDCARDS=4,
    HOSTFLAG_MULTI_LABEL_WILDCARDS=8, HOSTFLAG_SINGLE_LABEL_SUBDOMAINS=16,
    HOSTFLAG_NEVER_CHECK_SUBJECT=32,
    SSL_ERROR_SSL=1, SSL_ERROR_WANT_READ=2, SSL_ERROR_WANT_WRITE=3, SSL_ERROR_WANT_X509_LOOKUP=4,
    SSL_ERROR_SYSCALL=5, SSL_ERROR_ZERO_RETURN=6, SSL_ERROR_WANT_CONNECT=7, SSL_ERROR_EOF=8,
    SSL_ERROR_INVALID_ERROR_CODE=10,
    ALERT_DESCRIPTION_CLOSE_NOTIFY=0, ALERT_DESCRIPTION_UNEXPECTED_MESSAGE=10,
    ALERT_DESCRIPTION_BAD_RECORD_MAC=20, ALERT_DESCRIPTION_RECORD_OVERFLOW=22,
    ALERT_DESCRIPTION_DECOMPRESSION_FAILURE=30, ALERT_DESCRIPTION_HANDSHAKE_FAILURE=40,
    ALERT_DESCRIPTION_BAD_CERTIFICATE=42, ALERT_DESCRIPTION_UNSUPPORTED_CERTIFICATE=43,
    ALERT_DESCRIPTION_CERTIFICATE_REVOKED=44, ALERT_DESCRIPTION_CERTIFICATE_EXPIRED=45,
    ALERT_DESCRIPTION_CERTIFICATE_UNKNOWN=46, ALERT_DESCRIPTION_ILLEGAL_PARAMETER=47,
    ALERT_DESCRIPTION_UNKNOWN_CA=48, ALERT_DESCRIPTION_ACCESS_DENIED=49,
    ALERT_DESCRIPTION_DECODE_ERROR=50, ALERT_DESCRIPTION_DECRYPT_ERROR=51,
    ALERT_DESCRIPTION_PROTOCOL_VERSION=70, ALERT_DESCRIPTION_INSUFFICIENT_SECURITY=71,
    ALERT_DESCRIPTION_INTERNAL_ERROR=80, ALERT_DESCRIPTION_USER_CANCELLED=90,
    ALERT_DESCRIPTION_NO_RENEGOTIATION=100, ALERT_DESCRIPTION_UNSUPPORTED_EXTENSION=110,
    ALERT_DESCRIPTION_CERTIFICATE_UNOBTAINABLE=111, ALERT_DESCRIPTION_UNRECOGNIZED_NAME=112,
    ALERT_DESCRIPTION_BAD_CERTIFICATE_STATUS_RESPONSE=113,
    ALERT_DESCRIPTION_BAD_CERTIFICATE_HASH_VALUE=114, ALERT_DESCRIPTION_UNKNOWN_PSK_IDENTITY=115,
    HAS_SNI=True, HAS_ECDH=True, HAS_NPN=False, HAS_ALPN=True, HAS_SSLv2=False, HAS_SSLv3=False,
    HAS_TLSv1=True, HAS_TLSv1_1=True, HAS_TLSv1_2=True, HAS_TLSv1_3=True, HAS_TLS_UNIQUE=True,
    HAS_PSK=False, HAS_PHA=True,
)

_OBJECTS = [
    (129, "serverAuth", "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.1"),
    (130, "clientAuth", "TLS Web Client Authentication", "1.3.6.1.5.5.7.3.2"),
]


class SSLError(OSError):
    """An error in the SSL layer (here: TLS was asked of the sandbox)."""

    library = None
    reason = None

    def __str__(self):
        if self.strerror and isinstance(self.strerror, str):
            return self.strerror
        return super().__str__()


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    verify_code = None
    verify_message = None


def _no_tls(what):
    return SSLError(1, _NO_TLS % what)


def txt2obj(txt, name=False):
    for obj in _OBJECTS:
        if txt == obj[3] or (name and txt in (obj[1], obj[2])):
            return obj
    raise ValueError("unknown object '%s'" % txt)


def nid2obj(nid):
    for obj in _OBJECTS:
        if nid == obj[0]:
            return obj
    raise ValueError("unknown NID %i" % nid)


def RAND_status():
    return True


def RAND_add(string, entropy, /):
    pass


def RAND_bytes(n, /):
    return os.urandom(n)


def RAND_pseudo_bytes(n, /):
    """Python < 3.12's ssl.py imports it (the native unit tests run there)."""
    return os.urandom(n), True


def get_default_verify_paths():
    return ("SSL_CERT_FILE", "/etc/ssl/cert.pem", "SSL_CERT_DIR", "/etc/ssl/certs")


def _test_decode_cert(path, /):
    raise _no_tls("decoding a certificate")


class MemoryBIO:
    """A buffer of bytes, as OpenSSL's memory BIO (nothing reads it here)."""

    def __init__(self):
        self._buf = bytearray()
        self._eof = False

    @property
    def pending(self):
        return len(self._buf)

    @property
    def eof(self):
        return self._eof and not self._buf

    def read(self, size=-1, /):
        if size < 0 or size > len(self._buf):
            size = len(self._buf)
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data

    def write(self, b, /):
        if self._eof:
            raise SSLError(1, "cannot write() after write_eof()")
        data = memoryview(b).cast("B")
        self._buf += data
        return len(data)

    def write_eof(self):
        self._eof = True


class SSLSession:
    """Never created here (no TLS connection ever completes)."""

    def __init__(self):
        raise TypeError("cannot create '_ssl.SSLSession' instances")


def _pem_count(data):
    return data.count("-----BEGIN CERTIFICATE-----")


class _SSLContext:
    """A TLS context's settings; the host's HTTP client does the TLS."""

    def __new__(cls, protocol, /):
        if protocol not in (2, 3, 4, 5, 16, 17):
            raise ValueError("invalid or unsupported protocol version %i" % protocol)
        self = object.__new__(cls)
        self._protocol = protocol
        client = protocol == _CONSTANTS["PROTOCOL_TLS_CLIENT"]
        self._verify_mode = 2 if client else 0
        self._check_hostname = client
        self._options = (_CONSTANTS["OP_ALL"] | _CONSTANTS["OP_NO_SSLv3"] | _CONSTANTS["OP_NO_COMPRESSION"]
                         | _CONSTANTS["OP_CIPHER_SERVER_PREFERENCE"] | _CONSTANTS["OP_ENABLE_MIDDLEBOX_COMPAT"])
        self._verify_flags = _CONSTANTS["VERIFY_X509_TRUSTED_FIRST"] | _CONSTANTS["VERIFY_X509_PARTIAL_CHAIN"]
        self._minimum_version = _CONSTANTS["PROTO_MINIMUM_SUPPORTED"]
        self._maximum_version = _CONSTANTS["PROTO_MAXIMUM_SUPPORTED"]
        self._host_flags_value = _CONSTANTS["HOSTFLAG_NO_PARTIAL_WILDCARDS"]
        self._msg_callback_value = None
        self.sni_callback = None
        self.keylog_filename = None
        self.post_handshake_auth = False
        self.num_tickets = 2
        self.security_level = 2
        self._ciphers = _DEFAULT_CIPHERS
        self._ca_files = []
        self._ca_count = 0
        self._cert_chain = None
        self._alpn = None
        return self

    def __init__(self, *args, **kwargs):
        pass

    protocol = property(lambda self: self._protocol)

    @property
    def verify_mode(self):
        return self._verify_mode

    @verify_mode.setter
    def verify_mode(self, value):
        value = int(value)
        if value not in (0, 1, 2):
            raise ValueError("invalid value for verify_mode")
        if value == 0 and self._check_hostname:
            raise ValueError("Cannot set verify_mode to CERT_NONE when check_hostname is enabled.")
        self._verify_mode = value

    @property
    def check_hostname(self):
        return self._check_hostname

    @check_hostname.setter
    def check_hostname(self, value):
        value = bool(value)
        if value and self._verify_mode == 0:
            self._verify_mode = 2
        self._check_hostname = value

    def _int_property(name):
        attr = "_" + name

        def get(self):
            return getattr(self, attr)

        def set_(self, value):
            setattr(self, attr, int(value))

        return property(get, set_)

    options = _int_property("options")
    verify_flags = _int_property("verify_flags")
    minimum_version = _int_property("minimum_version")
    maximum_version = _int_property("maximum_version")
    _host_flags = _int_property("host_flags_value")
    del _int_property

    @property
    def _msg_callback(self):
        return self._msg_callback_value

    @_msg_callback.setter
    def _msg_callback(self, value):
        self._msg_callback_value = value

    def load_verify_locations(self, cafile=None, capath=None, cadata=None):
        if cafile is None and capath is None and cadata is None:
            raise TypeError("cafile, capath and cadata cannot be all omitted")
        if cafile is not None:
            with io.FileIO(cafile) as f:  # FileNotFoundError as with OpenSSL
                self._ca_count += _pem_count(f.readall().decode("latin-1"))
            self._ca_files.append(os.fspath(cafile))
        if capath is not None and not os.path.isdir(capath):
            raise FileNotFoundError(2, "No such file or directory", capath)
        if cadata is not None:
            self._ca_count += _pem_count(cadata) if isinstance(cadata, str) else 1

    def load_cert_chain(self, certfile, keyfile=None, password=None):
        for path in (certfile, keyfile):
            if path is not None:
                io.FileIO(path).close()
        self._cert_chain = (certfile, keyfile)

    def set_default_verify_paths(self):
        pass

    def load_dh_params(self, path, /):
        io.FileIO(path).close()

    def set_ciphers(self, ciphers, /):
        if not isinstance(ciphers, str) or not ciphers:
            raise SSLError(1, "No cipher can be selected.")
        self._ciphers = ciphers

    def get_ciphers(self):
        return []

    def set_ecdh_curve(self, name, /):
        pass

    def _set_alpn_protocols(self, protos, /):
        self._alpn = bytes(protos)

    def set_psk_client_callback(self, callback):
        raise NotImplementedError("TLS-PSK is not available in the isola sandbox")

    def set_psk_server_callback(self, callback, identity_hint=None):
        raise NotImplementedError("TLS-PSK is not available in the isola sandbox")

    def cert_store_stats(self):
        return {"x509": self._ca_count, "crl": 0, "x509_ca": self._ca_count}

    def get_ca_certs(self, binary_form=False):
        return []

    def session_stats(self):
        return {k: 0 for k in ("number", "connect", "connect_good", "connect_renegotiate", "accept",
                               "accept_good", "accept_renegotiate", "hits", "misses", "timeouts",
                               "cache_full")}

    def _wrap_socket(self, sock, server_side, server_hostname=None, *, owner=None, session=None):
        raise _no_tls("a TLS connection on a socket")

    def _wrap_bio(self, incoming, outgoing, server_side, server_hostname=None, *, owner=None,
                  session=None):
        raise _no_tls("TLS over memory BIOs")


class _SSLSocket:
    def __init__(self, *args, **kwargs):
        raise _no_tls("a TLS socket")


Certificate = type("Certificate", (), {})


def install():
    """Make ``import _ssl`` give this module (and so ``import ssl`` work)."""
    module = types.ModuleType("_ssl", __doc__)
    for name, value in globals().items():
        if name in ("install", "os", "sys", "types") or (name.startswith("__") and name != "__doc__"):
            continue
        setattr(module, name, value)
    for name, value in _CONSTANTS.items():
        setattr(module, name, value)
    for cls in (SSLError, SSLZeroReturnError, SSLWantReadError, SSLWantWriteError, SSLSyscallError,
                SSLEOFError, SSLCertVerificationError, MemoryBIO, SSLSession, _SSLContext, _SSLSocket):
        cls.__module__ = "ssl" if cls.__name__.startswith("SSL") and cls is not SSLSession else "_ssl"
    sys.modules["_ssl"] = module
    return module
