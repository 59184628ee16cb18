# expect: GUEST_EXCEPTION
# error: SystemExit
import sys
sys.exit(3)
