# expect: TRAP
# error: stack overflow
compile("(" * 100_000 + ")" * 100_000, "bomb", "eval")
