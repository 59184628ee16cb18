# expect: OK
# stdout: contained
try:
    import ctypes
    ctypes.CDLL(None)
except Exception:
    print("contained")
else:
    raise SystemExit("LOADED")
