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
    ``Signals`` enum (built from ``_signal``) if it is already imported;
    give ``_signal`` the ``valid_signals`` CPython has on every other
    platform (its WASI build has no ``sigset_t``)."""
    import _signal

    timer_numbers = {getattr(_signal, name) for name in TIMER_SIGNALS if hasattr(_signal, name)}
    for name in TIMER_SIGNALS:
        if hasattr(_signal, name):
            delattr(_signal, name)
    added = False
    if not hasattr(_signal, "valid_signals"):
        numbers = frozenset(range(1, _signal.NSIG)) - timer_numbers

        def valid_signals():
            """Return a set of valid signal numbers on this platform.

            The signal numbers returned by this function can be safely passed to
            functions like `pthread_sigmask`."""
            return set(numbers)

        _signal.valid_signals = valid_signals
        added = True
    module = sys.modules.get("signal")
    if module is not None and (added or any(hasattr(module, name) for name in TIMER_SIGNALS)):
        import importlib

        for name in TIMER_SIGNALS:
            module.__dict__.pop(name, None)
        importlib.reload(module)
