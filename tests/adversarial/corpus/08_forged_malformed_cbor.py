# expect: GUEST_EXCEPTION
# error: the guest sent an invalid value
from isola_guest import hostapi
try:
    hostapi.emit(False, b"\x82\x01")
except BaseException:
    pass
