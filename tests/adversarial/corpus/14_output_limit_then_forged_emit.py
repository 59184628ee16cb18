# expect: OUTPUT_LIMIT
from isola_guest import hostapi
chunk = "x" * (1 << 20)
for _ in range(100):
    try:
        hostapi.emit_output(False, chunk)
    except BaseException:
        break
try:
    hostapi.emit(True, b"\x01")
except BaseException:
    pass
from isola_guest.errors import limit
limit.reset()
