# os._exit cannot end the host process.
# expect: TRAP
import os
os._exit(0)
