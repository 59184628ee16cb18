"""Exception types shared by the runtime and the public ``sandbox`` module."""


class StreamError(RuntimeError):
    """A host-fed stream (iterator argument) failed on the producer side."""


class HostError(RuntimeError):
    """The host refused or failed a ``hostcall``; the message is the host's text."""


class OutputLimitError(BaseException):
    """The host refused more output (emit / stdout / logging).

    Derived from BaseException so a broad ``except Exception`` in user code
    does not swallow it; the runner additionally remembers that the limit was
    hit, so the call fails with ``output-limit`` even if it is swallowed.
    """


class DeadlockError(RuntimeError):
    """A wait that can never end: the event loop has nothing left to run or
    wait for, or a thread waits for something no thread left to run can do."""


class ThreadEnded(BaseException):
    """Ends a started thread whose wait can never end (see ``threads``).

    Derived from BaseException, as the exit of a daemon thread at
    interpreter exit would be: the thread's ``except Exception`` does not
    catch it, its ``finally`` blocks run, and the thread ends quietly.
    """


class Failure(Exception):
    """A failure with an explicit WIT error code, raised inside the runtime."""

    def __init__(self, code, kind, message, exit_status=None):
        super().__init__(message)
        self.code = code  # one of "exception", "invalid-argument", "output-limit", "internal"
        self.kind = kind
        self.message = message
        # For an uncaught SystemExit: the status python would exit with.
        self.exit_status = exit_status


class _LimitState:
    """Remembers the first output-limit refusal of the current export call."""

    def __init__(self):
        self.message = None

    def hit(self, message):
        if self.message is None:
            self.message = message or "output limit exceeded"
        raise OutputLimitError(self.message)

    def reset(self):
        self.message = None


limit = _LimitState()


def err_text(err):
    """The message carried by a bindings ``Err`` (or anything else)."""
    value = getattr(err, "value", err)
    return value if isinstance(value, str) else str(value)


# Users meet these as sandbox.HostError etc.; say so in tracebacks.
for _cls in (StreamError, HostError, OutputLimitError, DeadlockError, ThreadEnded):
    _cls.__module__ = "sandbox"
