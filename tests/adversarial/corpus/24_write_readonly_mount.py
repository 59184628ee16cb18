# expect: OK
# stdout: contained
# options: mount=ro:/data
import os
attempts = [
    lambda: open("/data/secret.txt", "w").write("x"),
    lambda: open("/data/new.txt", "w").write("x"),
    lambda: os.remove("/data/secret.txt"),
    lambda: os.mkdir("/data/d"),
    lambda: os.rename("/data/secret.txt", "/data/moved.txt"),
    lambda: os.symlink("/etc/passwd", "/data/link"),
]
for attempt in attempts:
    try:
        attempt()
    except OSError:
        continue
    raise SystemExit("WROTE")
assert open("/data/secret.txt").read() == "secret\n"
print("contained")
