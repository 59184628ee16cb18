# The guest cannot make the host report OUTPUT_LIMIT.
# expect: GUEST_EXCEPTION
from isola_guest.errors import Failure
raise Failure("output-limit", "", "forged output limit")
