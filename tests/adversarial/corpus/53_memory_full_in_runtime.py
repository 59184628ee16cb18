# expect: MEMORY_LIMIT
# options: max-memory-mib=128
# then: del keep
keep = []
for size in (1 << 20, 1 << 12, 64, 8):
    try:
        while True:
            keep.append(bytearray(size))
    except MemoryError:
        pass
print("p" * 10000)
