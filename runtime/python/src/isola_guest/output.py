"""sys.stdout / sys.stderr and logging, routed to the host."""

import codecs
import io
import logging
import sys

from . import hostapi, stdfds
from .errors import limit, err_text

# Flush early once this much text is buffered without a newline, so one huge
# print does not sit in guest memory.
_FLUSH_AT = 8192


def _valid_text(text):
    # WIT strings must be valid UTF-8; Python str may hold lone surrogates.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[stdfds.real_write(fd, view):]


class _BinaryView(io.RawIOBase):
    """``sys.stdout.buffer``: bytes written here reach the same text stream,
    decoded as UTF-8 (invalid bytes shown as escapes)."""

    def __init__(self, writer):
        super().__init__()
        self._writer = writer

    def writable(self):
        return True

    def fileno(self):
        return self._writer.fileno()

    def write(self, b):
        data = bytes(b)
        self._writer.write(data.decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self):
        self._writer.flush()

    def close(self):
        self.flush()


class HostWriter(io.TextIOBase):
    """A line-buffered text stream whose lines go to ``emit-output``.

    It answers what programs ask of ``sys.stdout`` as a ``TextIOWrapper``
    (``line_buffering``, ``write_through``, ``mode``, ``reconfigure``):
    ``sys.stdout.reconfigure(encoding="utf-8")`` is a common first line of
    scripts. Text is always sent as UTF-8 text; after ``reconfigure`` to
    another encoding, text is encoded with it (its errors raise, or are
    replaced, as in CPython) and what is not UTF-8 arrives escaped, as bytes
    written to ``buffer`` do. ``newline`` translates ``\n`` as CPython's does.
    """

    def __init__(self, is_stderr):
        super().__init__()
        self._is_stderr = is_stderr
        self._buf = []
        self._size = 0
        self._binary = _BinaryView(self)
        self._encoding = "utf-8"
        # CPython: stderr always backslashreplace; stdout strict under UTF-8.
        self._errors = "backslashreplace" if is_stderr else "strict"
        self._newline = None
        self._line_buffering = True
        self._write_through = False
        #: None, or what ``write`` does to text first (reconfigured).
        self._translate = None
        self._encoder = None

    @property
    def buffer(self):
        return self._binary

    @property
    def name(self):
        return "<stderr>" if self._is_stderr else "<stdout>"

    @property
    def encoding(self):
        return self._encoding

    @property
    def errors(self):
        return self._errors

    @property
    def mode(self):
        return "w"

    @property
    def line_buffering(self):
        return self._line_buffering

    @property
    def write_through(self):
        return self._write_through

    def reconfigure(self, *, encoding=None, errors=None, newline=Ellipsis,
                    line_buffering=None, write_through=None):
        """``TextIOWrapper.reconfigure``, with its argument checks."""
        if encoding is not None:
            if not isinstance(encoding, str):
                raise TypeError("reconfigure() argument 'encoding' must be str or None, not %s"
                                % type(encoding).__name__)
            encoding = codecs.lookup(encoding).name
        if errors is not None and not isinstance(errors, str):
            raise TypeError("reconfigure() argument 'errors' must be str or None, not %s"
                            % type(errors).__name__)
        if newline is not Ellipsis and newline not in (None, "", "\n", "\r", "\r\n"):
            if not isinstance(newline, str):
                raise TypeError("reconfigure() argument 'newline' must be str or None, not %s"
                                % type(newline).__name__)
            raise ValueError("illegal newline value: %r" % (newline,))
        self.flush()
        if encoding is not None:
            self._encoding = encoding
            self._errors = errors if errors is not None else "strict"
        elif errors is not None:
            self._errors = errors
        if newline is not Ellipsis:
            self._newline = newline
        if line_buffering is not None:
            self._line_buffering = bool(line_buffering)
        if write_through is not None:
            self._write_through = bool(write_through)
        self._translate = None
        if self._encoding != "utf-8" or self._errors not in ("strict", "backslashreplace", "surrogateescape"):
            self._encoder = codecs.getincrementalencoder(self._encoding)(self._errors)
            self._translate = self._encode
        if self._newline not in (None, "", "\n"):
            if self._translate is None:
                self._encoder = codecs.getincrementalencoder("utf-8")("backslashreplace")
            self._translate = self._encode_and_translate

    def _encode(self, s):
        # Raises as CPython's encoder would; what is not UTF-8 arrives escaped.
        return self._encoder.encode(s).decode("utf-8", "backslashreplace")

    def _encode_and_translate(self, s):
        return self._encode(s.replace("\n", self._newline))

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        # The host captures descriptors 1 and 2 into the same events, so
        # os.write(sys.stdout.fileno(), ...) and C code reach the host too.
        return 2 if self._is_stderr else 1

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        if not s:
            return 0
        if self._translate is not None:
            n = len(s)
            self._buf.append(self._translate(s))
            self._size += n
            if "\n" in s or self._size >= _FLUSH_AT:
                self.flush()
            return n
        self._buf.append(s)
        self._size += len(s)
        if "\n" in s or self._size >= _FLUSH_AT:
            self.flush()
        return len(s)

    def flush(self):
        if not self._buf:
            return
        text = "".join(self._buf)
        self._buf = []
        self._size = 0
        if limit.message is not None:
            return  # already over the limit: drop, the call is failing anyway
        target = stdfds.redirected(self.fileno())
        if target is not None:
            # os.dup2(f, 1) moved descriptor 1: its writer follows, as a C
            # FILE on descriptor 1 would.
            _write_all(target, text.encode("utf-8", "backslashreplace"))
            return
        try:
            hostapi.emit_output(self._is_stderr, _valid_text(text))
        except hostapi.Err as e:
            limit.hit(err_text(e))

    def discard(self):
        self._buf = []
        self._size = 0

    def close(self):
        # Closing the process-wide stream would break every later call.
        self.flush()


class HostLogHandler(logging.Handler):
    """Sends every record that reaches the root logger to ``emit-log``."""

    def emit(self, record):
        # Not wrapped in handleError: an output-limit refusal must end the call.
        msg = self.format(record)
        if limit.message is not None:
            return
        try:
            hostapi.emit_log(int(record.levelno), _valid_text(str(record.name)), _valid_text(msg))
        except hostapi.Err as e:
            limit.hit(err_text(e))


stdout = HostWriter(False)
stderr = HostWriter(True)
log_handler = HostLogHandler()


def _host_basic_config(basic_config):
    """``logging.basicConfig`` as if the root logger had no handler yet.

    The root logger always holds ``log_handler``, so the standard function
    would do nothing at all and ``basicConfig(level=logging.INFO)`` would
    silently drop every INFO record. Instead: set up as usual, then replace
    the console handler it makes (a ``StreamHandler`` on ``sys.stderr``) by
    ``log_handler``, keeping its level, and its formatter when a format was
    given; handlers to files or other streams stay as asked."""

    def basicConfig(**kwargs):
        root = logging.getLogger()
        alone = root.handlers == [log_handler]
        if alone:
            root.removeHandler(log_handler)
        try:
            basic_config(**kwargs)
        finally:
            for h in list(root.handlers):
                if type(h) is logging.StreamHandler and h.stream is stderr:
                    root.removeHandler(h)
                    log_handler.setLevel(h.level)
                    # Level and logger name travel beside the message; the
                    # default format would repeat them in it.
                    explicit = {"format", "datefmt", "style"} & kwargs.keys()
                    log_handler.setFormatter(h.formatter if explicit else None)
                    if log_handler not in root.handlers:
                        root.addHandler(log_handler)
            if alone and not root.handlers:
                root.addHandler(log_handler)

    basicConfig.__doc__ = basic_config.__doc__
    return basicConfig


#: logging's own "last resort" handler and basicConfig, for log_to_stderr.
_std_last_resort = None
_std_basic_config = None


def install():
    global _std_last_resort, _std_basic_config
    stdfds.install()
    sys.stdout = sys.__stdout__ = stdout
    sys.stderr = sys.__stderr__ = stderr
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(log_handler)
    # Without handlers the "last resort" handler would print to stderr.
    _std_last_resort = logging.lastResort
    logging.lastResort = None
    _std_basic_config = logging.basicConfig
    logging.basicConfig = _host_basic_config(logging.basicConfig)


def log_to_stderr():
    """Make ``logging`` what it is in a terminal program: no more log events;
    records are written to stderr as python writes them (the implicit
    ``basicConfig`` of ``logging.warning()``'s ``WARNING:root:...``, the
    last-resort handler's bare message, ``basicConfig`` as documented)."""
    root = logging.getLogger()
    if log_handler in root.handlers:
        root.removeHandler(log_handler)
    if _std_basic_config is not None:
        logging.lastResort = _std_last_resort
        logging.basicConfig = _std_basic_config


_WRITERS = (stdout, stderr)


def flush_all():
    """Flush both streams; errors are recorded in ``errors.limit``, not raised.

    Callers on the per-call path check ``stdout._buf or stderr._buf`` first:
    most calls print nothing, and a Python-level call costs more than the
    check in the guest."""
    for w in _WRITERS:
        if w._buf:
            try:
                w.flush()
            except BaseException:
                w.discard()
