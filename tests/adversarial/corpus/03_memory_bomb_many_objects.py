# expect: MEMORY_LIMIT
# options: max-memory-mib=128 timeout-ms=20000
# The objects die with the call: the sandbox is truly usable afterwards.
# after: usable
def bomb():
    keep = []
    while True:
        keep.append("x" * 4096 + str(len(keep)))
bomb()
