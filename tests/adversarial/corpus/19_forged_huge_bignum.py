# A bignum whose decimal form would take the host quadratic time.
# expect: GUEST_EXCEPTION
# error: bignum longer than
from isola_guest import hostapi
n = 1 << 20
hostapi.emit(False, b"\xc2\x5a" + n.to_bytes(4, "big") + b"\xff" * n)
