"""The ``signal`` module without the timer signals the sandbox cannot deliver.

WASI has no signals and this CPython has no ``signal.alarm``,
``setitimer`` or ``getitimer``, yet its ``_signal`` still names
``SIGALRM``, ``SIGVTALRM`` and ``SIGPROF``. Programs decide whether they
can set a timer by looking for the signal (``hasattr(signal, "SIGALRM")``:
pytest-timeout, timeout decorators, test suites) and then call
``signal.alarm`` or ``setitimer``, which fails with ``AttributeError``.
Without those names they take the path they take on Windows (no timer, or
a thread-based one that says it cannot start a thread). The time limit of
a call is the host's (``isola_sandbox_options_set_timeout``).
"""

import sys

# Signals only an interval timer raises; nothing else can send them here.
TIMER_SIGNALS = ("SIGALRM", "SIGVTALRM", "SIGPROF")


def install() -> None:
    """Remove the timer signals from ``_signal``, and from ``signal`` and its
    ``Signals`` enum (built from ``_signal``) if it is already imported."""
    import _signal

    for name in TIMER_SIGNALS:
        if hasattr(_signal, name):
            delattr(_signal, name)
    module = sys.modules.get("signal")
    if module is not None and any(hasattr(module, name) for name in TIMER_SIGNALS):
        import importlib

        for name in TIMER_SIGNALS:
            module.__dict__.pop(name, None)
        importlib.reload(module)
