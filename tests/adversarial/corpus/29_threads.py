# expect: OK
# stdout: contained
# Threads are cooperative: a started thread runs inside the thread that
# joins it, and no second thread of execution exists (one C thread state).
import sys
import threading

seen = []
t = threading.Thread(target=lambda: seen.append(len(sys._current_frames())))
t.start()
t.join()
if seen == [1]:
    print("contained")
else:
    raise SystemExit("SECOND THREAD %r" % (seen,))
