# expect: OK
# stdout: contained
# sys.argv is only what the host chose: ['sandbox'] by default (the Rust
# corpus test), the script path from `isola-run SCRIPT.py` (as under
# python); never the host process's own command line (its binary path,
# its options).
import sys
argv = sys.argv
if argv != ["sandbox"] and not (len(argv) == 1 and argv[0].endswith("/28_argv_probe.py")):
    raise SystemExit("LEAKED " + repr(argv))
print("contained")
