# expect: GUEST_EXCEPTION
# error: larger than
import sandbox
sandbox.emit(1 << 100_000)
