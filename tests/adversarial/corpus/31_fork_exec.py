# expect: OK
# stdout: contained
import os
for attempt in [lambda: os.fork(), lambda: os.system("id"), lambda: os.execv("/bin/sh", ["sh"]),
                lambda: os.posix_spawn("/bin/sh", ["sh"], {}), lambda: __import__("subprocess").run(["id"])]:
    try:
        attempt()
    except (AttributeError, OSError, ImportError, NotImplementedError, RuntimeError):
        continue
    raise SystemExit("SPAWNED")
print("contained")
