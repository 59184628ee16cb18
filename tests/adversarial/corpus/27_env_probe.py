# Only the variables the host gives are visible.
# expect: OK
# stdout: contained
# options: env=GIVEN=1
import os
# LC_CTYPE: what python sets in an environment without a locale (PEP 538).
assert dict(os.environ) == {"GIVEN": "1", "LC_CTYPE": "C.UTF-8"}, dict(os.environ)
assert os.getenv("PATH") is None and os.getenv("HOME") is None
print("contained")
