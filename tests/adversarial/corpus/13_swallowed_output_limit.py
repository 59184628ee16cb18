# The output limit stays hit whatever the guest does afterwards.
# expect: OUTPUT_LIMIT
from isola_guest.errors import limit, OutputLimitError
chunk = "x" * (1 << 20)
try:
    for _ in range(100):
        print(chunk)
except BaseException:
    pass
limit.reset()
print("after the limit")
