# expect: OK
# stdout: contained
import os
for p in ["/", "/etc", "/proc", "/tmp", "/home"]:
    try:
        found = os.listdir(p)
    except OSError:
        continue
    if found:
        raise SystemExit("LISTED " + p)
print("contained")
