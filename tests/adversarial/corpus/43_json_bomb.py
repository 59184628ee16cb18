# Deep JSON parsed by the guest's own json module: CPython's C-stack check
# stops it (the native stack is large enough to reach that check).
# expect: GUEST_EXCEPTION
# error: RecursionError
import json
json.loads("[" * 1_000_000 + "]" * 1_000_000)
