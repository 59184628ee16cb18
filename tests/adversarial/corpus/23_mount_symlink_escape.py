# The mounted directory holds a symlink to /etc (made by the runner).
# expect: OK
# stdout: contained
# options: mount=ro:/data
import os
assert os.path.islink("/data/outside")
for path in ["/data/outside/passwd", "/data/outside/hostname"]:
    try:
        open(path).read()
    except OSError:
        continue
    raise SystemExit("ESCAPED " + path)
print("contained")
