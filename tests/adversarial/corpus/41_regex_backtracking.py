# expect: TIMEOUT
# options: timeout-ms=1000
import re
re.match(r"(a+)+$", "a" * 64 + "b")
