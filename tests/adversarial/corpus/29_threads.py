# expect: OK
# stdout: contained
import threading
try:
    t = threading.Thread(target=lambda: None)
    t.start()
    t.join()
except (RuntimeError, OSError):
    print("contained")
else:
    raise SystemExit("THREAD STARTED")
