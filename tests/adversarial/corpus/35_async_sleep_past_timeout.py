# expect: TIMEOUT
# options: timeout-ms=500
import asyncio
await asyncio.sleep(3600)
