# expect: OUTPUT_LIMIT
import sandbox
sandbox.emit(b"z" * (17 << 20))
