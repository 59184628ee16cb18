# expect: MEMORY_LIMIT
# error: MemoryError
# options: max-memory-mib=128
x = bytearray(1 << 30)
