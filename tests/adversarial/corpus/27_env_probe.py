# Only the variables the host gives are visible.
# expect: OK
# stdout: contained
# options: env=GIVEN=1
import os
assert dict(os.environ) == {"GIVEN": "1"}, dict(os.environ)
assert os.getenv("PATH") is None and os.getenv("HOME") is None
print("contained")
