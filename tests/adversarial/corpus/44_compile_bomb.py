# The parser's own depth check stops it (as in native CPython) before the
# native stack runs out.
# expect: GUEST_EXCEPTION
# error: Parser stack overflowed
compile("(" * 100_000 + ")" * 100_000, "bomb", "eval")
