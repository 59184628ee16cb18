# expect: GUEST_EXCEPTION
# error: second result
from isola_guest import hostapi
hostapi.emit(True, b"\x01")
