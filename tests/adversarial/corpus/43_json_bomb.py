# Deep JSON parsed by the guest's own json module exhausts the guest's
# wasm stack before Python's recursion limit: a trap, contained.
# expect: TRAP
# error: stack overflow
import json
json.loads("[" * 1_000_000 + "]" * 1_000_000)
