# expect: OK
# stdout: contained
import os
# Only the sandbox's own tree: built-in directories and files (/etc holds
# only the sandbox's own UTC local-time files), empty scratch space.
expected = {"/": ["dev", "etc", "home", "tmp"], "/etc": ["localtime", "timezone"], "/tmp": [],
            "/home": ["user"], "/home/user": []}
for p in ["/", "/etc", "/proc", "/tmp", "/home", "/home/user", "/..", "/../.."]:
    try:
        found = sorted(os.listdir(p))
    except OSError:
        continue
    if found != expected.get(os.path.normpath(p), []):
        raise SystemExit("LISTED " + p + " " + repr(found))
print("contained")
