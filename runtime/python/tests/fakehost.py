"""A fake host for native tests: virtual time, fake pollables, recorded output."""

import _path  # noqa: F401
from isola_guest import cbor, hostapi


class Pollable:
    def __init__(self, host, at):
        self.host, self.at, self.dropped = host, at, False

    def ready(self):
        return self.host.now >= self.at

    def __exit__(self, *exc):
        self.dropped = True
        self.host.dropped += 1


class Future:
    """A hostcall future answering ``answer`` at virtual time ``at``."""

    def __init__(self, host, at, answer):
        self.host, self.at, self.answer = host, at, answer

    def subscribe(self):
        return Pollable(self.host, self.at)

    def get(self):
        return self.answer if self.host.now >= self.at else None

    def __exit__(self, *exc):
        pass


class Iterator:
    """A value-iterator: every chunk is pending once, then available 1 ms later."""

    def __init__(self, host, steps):
        self.host, self.steps, self.ready_at = host, list(steps), None

    def try_next(self):
        if self.ready_at is None or self.host.now < self.ready_at:
            if self.ready_at is None:
                self.ready_at = self.host.now + 1_000_000
            return hostapi.StreamNext_Pending()
        self.ready_at = None
        if not self.steps:
            return hostapi.StreamNext_End()
        kind, value = self.steps.pop(0)
        if kind == "chunk":
            return hostapi.StreamNext_Chunk(cbor.dumps(value))
        return hostapi.StreamNext_Failed(value)

    def subscribe(self):
        return Pollable(self.host, self.ready_at if self.ready_at is not None else self.host.now)

    def __exit__(self, *exc):
        pass


class Exited(BaseException):
    """Raised by the fake host's ``exit``: the real import never returns."""


class FakeHost:
    def __init__(self, emit_limit=None):
        self.now = 0
        self.events = []
        self.polls = 0
        self.dropped = 0
        self.emit_limit = emit_limit
        self.arguments = []

    # wasi
    def poll(self, pollables):
        assert pollables, "poll() with an empty list traps in WASI"
        self.polls += 1
        ready = [i for i, p in enumerate(pollables) if p.ready()]
        if not ready:
            self.now = min(p.at for p in pollables)
            ready = [i for i, p in enumerate(pollables) if p.ready()]
        return ready

    def clock_now(self):
        return self.now

    def subscribe_duration(self, ns):
        return Pollable(self, self.now + ns)

    # isola host
    def _limited(self):
        if self.emit_limit is not None:
            self.emit_limit -= 1
            if self.emit_limit < 0:
                raise hostapi.Err("limit reached")

    def emit(self, is_final, data):
        self._limited()
        self.events.append(("final" if is_final else "item", cbor.loads(data)))

    def emit_output(self, is_stderr, text):
        self._limited()
        self.events.append(("stderr" if is_stderr else "stdout", text))

    def emit_log(self, level, name, msg):
        self.events.append(("log", level, name, msg))

    def hostcall(self, name, payload):
        if name == "fail":
            return Future(self, self.now + 1_000_000, hostapi.Err("refused"))
        delay_ms = cbor.loads(payload) if name == "sleep" else 5
        return Future(self, self.now + delay_ms * 1_000_000, hostapi.Ok(payload))

    def exit(self, status):
        self.events.append(("exit", status))
        raise Exited(status)

    def get_arguments(self):
        return list(self.arguments)

    def bind(self):
        for name in ("poll", "clock_now", "subscribe_duration", "get_arguments",
                     "emit", "emit_output", "emit_log", "hostcall", "exit"):
            setattr(hostapi, name, getattr(self, name))
        return self
