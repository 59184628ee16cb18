# expect: OK
# stdout: contained
import os
for attempt in [lambda: os.kill(1, 9), lambda: os.kill(os.getpid(), 9), lambda: os.killpg(0, 9)]:
    try:
        attempt()
    except (AttributeError, OSError, ImportError, ValueError, NotImplementedError):
        continue
    raise SystemExit("SIGNALLED")
print("contained")
