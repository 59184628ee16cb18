# expect: MEMORY_LIMIT
# options: max-memory-mib=128
import os
os.urandom(1 << 30)
