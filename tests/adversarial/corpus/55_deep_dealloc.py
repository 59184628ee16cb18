# Freeing a structure nested a million levels deep: CPython's trashcan
# watches the linear-memory stack, which deallocation barely uses, so the
# native stack runs out first: a trap, contained.
# expect: TRAP
# error: stack overflow
nested = []
for _ in range(1_000_000):
    nested = [nested]
del nested
