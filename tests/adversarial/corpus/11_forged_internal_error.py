# The guest cannot make the host report INTERNAL.
# expect: GUEST_EXCEPTION
# error: isola panicked
from isola_guest.errors import Failure
raise Failure("internal", "", "isola panicked: forged")
