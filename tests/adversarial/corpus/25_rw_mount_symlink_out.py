# A symlink made inside a writable mount cannot lead outside it.
# expect: OK
# stdout: contained
# options: mount=rw:/work
import os
try:
    os.symlink("/etc/passwd", "/work/link")
except OSError:
    pass
try:
    os.symlink("../../../../etc/passwd", "/work/rel")
except OSError:
    pass
for path in ["/work/link", "/work/rel"]:
    try:
        open(path).read()
    except OSError:
        continue
    raise SystemExit("ESCAPED " + path)
print("contained")
