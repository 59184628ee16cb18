# expect: GUEST_EXCEPTION
# error: unsupported tag
from isola_guest import hostapi
hostapi.emit(False, b"\xd8\x20\x60")
