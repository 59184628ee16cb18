# expect: OK
# stdout: contained
import sys
try:
    print("\ud800")
except UnicodeEncodeError:
    pass
sys.stdout.write("contained\n")
