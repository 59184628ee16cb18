"""``hashlib.scrypt`` (RFC 7914) without OpenSSL.

CPython's ``hashlib.scrypt`` comes only from OpenSSL, which the sandbox
does not include, so code deriving keys with scrypt (Django's
``ScryptPasswordHasher``, key files, pure-Python crypto packages) failed
with ``AttributeError``. This is scrypt with the signature, argument
checks and errors of CPython's function over OpenSSL 3 (``maxmem`` 0
means OpenSSL's 32 MiB): PBKDF2 from ``hashlib``, the memory-hard ROMix
in C (the runtime's native module ``_isola_scrypt``; Salsa20/8 in Python
took 40 s for n = 2**14, r = 8 in the sandbox).
"""

import hashlib
import operator

_INT_MAX = 2**31 - 1
# The guest's C unsigned long (wasm32: 32 bits).
_ULONG_MAX = 2**32 - 1
# OpenSSL's default memory limit (SCRYPT_MAX_MEM) and its limit on r * p.
_DEFAULT_MAXMEM = 32 * 1024 * 1024
_PR_MAX = (1 << 30) - 1
#: The C ROMix, bound by ``install`` at build time: the runtime's native
#: modules can be imported only then.
_romix = None

_MISSING = object()


def _buffer(value):
    try:
        return memoryview(value).tobytes()
    except TypeError:
        raise TypeError("a bytes-like object is required, not '%s'" % type(value).__name__) from None


def scrypt(password, *, salt=_MISSING, n=_MISSING, r=_MISSING, p=_MISSING, maxmem=0, dklen=64):
    """scrypt password-based key derivation function."""
    # The argument conversions of CPython's function, then its checks.
    password = _buffer(password)
    salt = None if salt is _MISSING else _buffer(salt)
    for name, value in (("n", n), ("r", r), ("p", p)):
        if value is not _MISSING and not isinstance(value, int):
            raise TypeError("scrypt() argument '%s' must be int, not %s"
                            % (name, "None" if value is None else type(value).__name__))
    n, r, p = (None if v is _MISSING else v for v in (n, r, p))
    maxmem = operator.index(maxmem)
    dklen = operator.index(dklen)
    if salt is None:
        raise TypeError("salt is required")
    if n is None or n < 0 or n > _ULONG_MAX:
        raise TypeError("n is required and must be an unsigned int")
    if n < 2 or n & (n - 1):
        raise ValueError("n must be a power of 2.")
    if r is None or r < 0 or r > _ULONG_MAX:
        raise TypeError("r is required and must be an unsigned int")
    if p is None or p < 0 or p > _ULONG_MAX:
        raise TypeError("p is required and must be an unsigned int")
    if maxmem < 0 or maxmem > _INT_MAX:
        raise ValueError("maxmem must be positive and smaller than %d" % _INT_MAX)
    if dklen < 1 or dklen > _INT_MAX:
        raise ValueError("dklen must be greater than 0 and smaller than %d" % _INT_MAX)
    # OpenSSL 3's checks, and the messages CPython then gives.
    if r == 0 or p == 0:
        raise ValueError("Invalid parameter combination for n, r, p, maxmem.")
    if (p > _PR_MAX // r or (16 * r <= 63 and n >= 1 << (16 * r)) or 128 * r * p > _INT_MAX
            or 128 * r * p + 128 * r * (n + 2) > (maxmem or _DEFAULT_MAXMEM)):
        raise ValueError("[digital envelope routines] memory limit exceeded")
    romix = _romix
    if romix is None:
        from _isola_scrypt import romix
    chunk = 128 * r
    b = hashlib.pbkdf2_hmac("sha256", password, salt, 1, p * chunk)
    mixed = b"".join(romix(b[i * chunk:(i + 1) * chunk], n, r) for i in range(p))
    return hashlib.pbkdf2_hmac("sha256", password, mixed, 1, dklen)


def install() -> None:
    """Give ``hashlib`` the function when this CPython has none (build time)."""
    global _romix
    if not hasattr(hashlib, "scrypt"):
        from _isola_scrypt import romix as _romix

        scrypt.__module__ = "hashlib"
        hashlib.scrypt = scrypt
        if "scrypt" not in hashlib.__all__:
            hashlib.__all__ = tuple(hashlib.__all__) + ("scrypt",)
