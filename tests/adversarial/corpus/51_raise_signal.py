# raise() in the guest's libc aborts the guest: a trap, not a host signal.
# expect: TRAP
import signal
signal.raise_signal(signal.SIGKILL)
