# expect: OUTPUT_LIMIT
# options: timeout-ms=30000
while True:
    print("y" * 65536)
