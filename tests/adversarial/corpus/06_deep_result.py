# A result nested deeper than the shared limit is refused by the encoder.
# expect: GUEST_EXCEPTION
# error: nested deeper than 100
v = 1
for _ in range(100_000):
    v = [v]
import sandbox
sandbox.emit(v)
