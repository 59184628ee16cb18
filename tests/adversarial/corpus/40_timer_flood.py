# expect: TRAP
# error: host objects
from isola_guest import hostapi
held = []
while True:
    held.append(hostapi.subscribe_duration(10**12))
