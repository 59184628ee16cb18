# Memory is filled to the last byte, then the runtime itself must allocate
# (to send the result). Whether the runtime copes or traps, the error is
# MEMORY_LIMIT and the sandbox is either truly usable or refuses more calls.
# expect: MEMORY_LIMIT
# options: max-memory-mib=128
# then: del keep
keep = []
for size in (1 << 20, 1 << 12, 64):
    try:
        while True:
            keep.append(bytearray(size))
    except MemoryError:
        pass
raise MemoryError("full")
