# A guest that lifts Python's recursion limit as far as it can: the guest
# caps sys.setrecursionlimit at 150,000 (a60f5d4), so runaway recursion ends
# in RecursionError, as under python, before the wasm stack runs out; its
# traceback is formatted within the default time limit (isola_guest.tracebacks).
# expect: GUEST_EXCEPTION
# error: RecursionError
# options: max-memory-mib=256
import sys
sys.setrecursionlimit(10**8)
def f(n):
    return f(n + 1) + 1
f(0)
