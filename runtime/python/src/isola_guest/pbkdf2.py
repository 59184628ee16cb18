"""``hashlib.pbkdf2_hmac`` without OpenSSL.

Since Python 3.12 ``hashlib.pbkdf2_hmac`` comes only from OpenSSL, which
the sandbox does not include, so password hashing code (Django, passlib,
werkzeug's ``pbkdf2:`` method, key derivation in pure-Python crypto
packages) failed with ``AttributeError``. This is PBKDF2 (RFC 8018,
section 5.2) over the runtime's own HMAC digests, with the signature and
checks of the OpenSSL version. It is slower than OpenSSL (about 10 µs
per SHA-256 iteration in the sandbox against 0.7 µs). ``hashlib.scrypt``:
``isola_guest.scrypt``.
"""

import hashlib

_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


def pbkdf2_hmac(hash_name, password, salt, iterations, dklen=None):
    """Password-based key derivation function 2 with HMAC as its pseudo-random function."""
    if not isinstance(hash_name, str):
        raise TypeError("hash_name must be a string, not %s" % type(hash_name).__name__)
    password = bytes(memoryview(password))
    salt = bytes(memoryview(salt))
    if iterations < 1:
        raise ValueError("iteration value must be greater than 0.")
    inner = hashlib.new(hash_name)
    outer = hashlib.new(hash_name)
    size = inner.digest_size
    if dklen is None:
        dklen = size
    if dklen < 1:
        raise ValueError("key length must be greater than 0.")
    if len(password) > inner.block_size:
        password = hashlib.new(hash_name, password).digest()
    password = password.ljust(inner.block_size, b"\0")
    inner.update(password.translate(_IPAD))
    outer.update(password.translate(_OPAD))

    def prf(message):
        i = inner.copy()
        o = outer.copy()
        i.update(message)
        o.update(i.digest())
        return o.digest()

    key = bytearray()
    block = 1
    while len(key) < dklen:
        u = prf(salt + block.to_bytes(4, "big"))
        t = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = prf(u)
            t ^= int.from_bytes(u, "big")
        key += t.to_bytes(size, "big")
        block += 1
    return bytes(key[:dklen])


def install() -> None:
    """Give ``hashlib`` the function when this CPython has none."""
    if not hasattr(hashlib, "pbkdf2_hmac"):
        pbkdf2_hmac.__module__ = "hashlib"
        hashlib.pbkdf2_hmac = pbkdf2_hmac
        if "pbkdf2_hmac" not in hashlib.__all__:
            hashlib.__all__ = tuple(hashlib.__all__) + ("pbkdf2_hmac",)
