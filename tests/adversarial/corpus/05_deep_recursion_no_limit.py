# A guest that lifts Python's recursion limit reaches the wasm stack: a trap.
# expect: TRAP
# error: stack overflow
# options: max-memory-mib=256
import sys
sys.setrecursionlimit(10**8)
def f(n):
    return f(n + 1) + 1
f(0)
