# expect: OK
# stdout: contained
import sys
for arg in sys.argv:
    if "isola" in arg or "/" in arg:
        raise SystemExit("LEAKED " + arg)
print("contained")
