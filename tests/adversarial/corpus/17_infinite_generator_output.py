# expect: OUTPUT_LIMIT
# options: timeout-ms=30000
import sandbox
while True:
    sandbox.emit("w" * (1 << 20))
