# The runtime's encoder is bypassed: the host's own check refuses the value.
# expect: GUEST_EXCEPTION
# error: nested deeper than 100
from isola_guest import hostapi
hostapi.emit(False, b"\x81" * 1_000_000 + b"\x01")
