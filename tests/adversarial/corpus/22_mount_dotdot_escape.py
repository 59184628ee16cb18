# expect: OK
# stdout: contained
# options: mount=ro:/data
import os
assert open("/data/secret.txt").read() == "secret\n"
for path in ["/data/../etc/passwd", "/data/../../../../etc/passwd", "/data/./../data/../etc/hostname"]:
    try:
        open(path).read()
    except OSError:
        continue
    raise SystemExit("ESCAPED " + path)
print("contained")
