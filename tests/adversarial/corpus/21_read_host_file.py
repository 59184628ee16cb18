# expect: OK
# stdout: contained
for path in ["/etc/passwd", "/proc/self/environ", "/dev/sda", "/dev/../etc/passwd", "../../etc/passwd"]:
    try:
        open(path).read()
    except OSError:
        continue
    raise SystemExit("ESCAPED " + path)
# /dev/null is the sandbox's own (empty) device, not the host's.
if open("/dev/null").read() != "":
    raise SystemExit("ESCAPED /dev/null")
print("contained")
