# expect: TIMEOUT
# options: timeout-ms=1000
while True:
    pass
