# os._exit cannot end the host process: it ends the sandbox, with its status,
# after sending what was printed; no finally or atexit code runs.
# expect: GUEST_EXCEPTION
# error: os._exit(5) ended the sandbox
# stdout: printed before
# exit-status: 5
# after: unusable
import atexit
import os
atexit.register(print, "atexit ran")
print("printed before", end="")
try:
    os._exit(5)
finally:
    print("finally ran")
