# expect: TIMEOUT
# options: timeout-ms=1500 max-memory-mib=256
import asyncio
async def spin():
    while True:
        await asyncio.sleep(0)
tasks = [asyncio.ensure_future(spin()) for _ in range(10_000)]
await asyncio.sleep(3600)
