# expect: TIMEOUT
# options: timeout-ms=500
import time
time.sleep(3600)
