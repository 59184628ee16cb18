# expect: GUEST_EXCEPTION
# error: SystemExit
# exit-status: 3
import sys
sys.exit(3)
