# Memory is full when the host's answer must be copied into the guest: the
# runtime's own allocation fails inside the component glue and the guest
# traps. MEMORY_LIMIT, and the sandbox refuses further calls.
# expect: MEMORY_LIMIT
# options: max-memory-mib=128
# after: unusable
from isola_guest import hostapi
name = "x" * 100_000
payload = b"\xf6"
keep = []
def fill():
    for size in (1 << 20, 1 << 12, 64, 8):
        try:
            while True:
                keep.append(bytearray(size))
        except MemoryError:
            pass
for _ in range(100):
    fill()
    hostapi.hostcall(name, payload).get()
