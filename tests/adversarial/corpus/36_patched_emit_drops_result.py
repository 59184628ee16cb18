# The runtime is monkey-patched so the result never reaches the host.
# A guest that broke the protocol gets no further call.
# expect: GUEST_EXCEPTION
# error: without sending its result
# after: unusable
from isola_guest import hostapi, runner
hostapi.emit = lambda *args: None  # neither emitted...
runner.send = lambda *args: None  # ...nor returned by the export
