# Host calls held without waiting: past the pending limit they fail in the
# guest without reaching the host; past the host-object limit the guest traps.
# expect: TRAP
# error: host objects
from isola_guest import hostapi
held = []
while True:
    held.append(hostapi.hostcall("flood", b"\xf6"))
