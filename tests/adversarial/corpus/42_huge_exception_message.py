# expect: GUEST_EXCEPTION
# error: ValueError
raise ValueError("m" * (8 << 20))
