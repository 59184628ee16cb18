# Patching the guest's own builtins harms only this sandbox.
# expect: OK
# after: usable
import builtins
builtins.print = None
builtins.len = lambda x: -1
import sys
sys.modules["json"] = None
