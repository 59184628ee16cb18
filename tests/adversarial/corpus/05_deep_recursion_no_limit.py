# A guest that lifts Python's recursion limit as far as it can: the guest
# caps sys.setrecursionlimit at 150,000 (a60f5d4), so runaway recursion ends
# in RecursionError, as under python, before the wasm stack runs out.
# expect: GUEST_EXCEPTION
# error: RecursionError
# options: max-memory-mib=256 timeout-ms=120000
import sys
sys.setrecursionlimit(10**8)
def f(n):
    return f(n + 1) + 1
f(0)
