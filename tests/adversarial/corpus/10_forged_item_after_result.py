# expect: GUEST_EXCEPTION
# error: after the call's result
from isola_guest import hostapi
hostapi.emit(True, b"\x01")
try:
    hostapi.emit(False, b"\x02")
except BaseException:
    pass
