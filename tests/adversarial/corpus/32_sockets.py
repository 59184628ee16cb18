# expect: OK
# stdout: contained
for attempt in [lambda: __import__("socket").socket(), lambda: __import__("socket").create_connection(("127.0.0.1", 22)),
                lambda: __import__("urllib.request").request.urlopen("http://127.0.0.1:1/")]:
    try:
        attempt()
    except Exception:
        continue
    raise SystemExit("CONNECTED")
print("contained")
