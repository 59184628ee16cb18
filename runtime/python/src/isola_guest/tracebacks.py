"""Tracebacks as python shows them: without the runtime's frames, and in time.

The sandbox runtime's own Python code (this package, the ``sandbox``
module, ``app.py``) runs around and under the user's: it calls the script
and stands in for built-in functions CPython implements in C (``open``,
``os.open``, ``os.stat``, ``os.write``, ...). Those frames are no part of
the program: an uncaught exception never showed them, but one caught and
printed (``traceback.print_exc()``, ``logging.exception``, unittest's
failures) showed three ``/0/isola_guest/file_errors.py`` frames under every
failed ``open``, and ``traceback.print_stack()`` the runner's frames above
the script. :func:`install` makes the ``traceback`` module leave them out
wherever it extracts frames (tracebacks, ``TracebackException``,
``extract_stack``), so it prints what python prints.

Deep recursion:

``traceback.StackSummary.format`` formats every frame before it checks
whether the frame repeats the one before it, and formatting a frame (its
source line and the position markers under it) costs the guest about
150 microseconds. The traceback of a runaway recursion holds up to
``sys.setrecursionlimit``'s 150,000 frames (see ``recursion_limit``), so
reporting it took over 20 seconds, longer than a call's default time limit,
to print the same three frames and ``[Previous line repeated N more times]``.

:func:`format` is CPython 3.14's loop with one change: a frame past the
repetition cutoff is counted, not formatted. The output is the same,
byte for byte. A subclass that overrides ``format_frame_summary`` (which
may hide a frame by returning None, changing what counts as a repeat) gets
CPython's own loop.
"""

import os
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))
#: Where the runtime's code lives: this package, ``sandbox`` and ``app.py``.
_RUNTIME_DIRS = (_HERE + os.sep, os.path.join(os.path.dirname(_HERE), "sandbox") + os.sep)
_RUNTIME_FILES = frozenset((os.path.join(os.path.dirname(_HERE), "app.py"),))


def is_runtime(filename: str) -> bool:
    """Whether code from ``filename`` is the sandbox runtime's, not the program's."""
    return filename in _RUNTIME_FILES or filename.startswith(_RUNTIME_DIRS)


_original_extract = traceback.StackSummary.__dict__["_extract_from_extended_frame_gen"].__func__
_original_format = traceback.StackSummary.format
_format_frame_summary = traceback.StackSummary.format_frame_summary


def _repeated(count):
    count -= traceback._RECURSIVE_CUTOFF
    return f'  [Previous line repeated {count} more time{"s" if count > 1 else ""}]\n'


def format(self, **kwargs):
    """``StackSummary.format``, formatting only the frames it shows."""
    if type(self).format_frame_summary is not _format_frame_summary:
        return _original_format(self, **kwargs)
    colorize = kwargs.get("colorize", False)
    cutoff = traceback._RECURSIVE_CUTOFF
    result = []
    last_file = last_line = last_name = None
    count = 0
    for frame_summary in self:
        if (
            last_file is None
            or last_file != frame_summary.filename
            or last_line is None
            or last_line != frame_summary.lineno
            or last_name is None
            or last_name != frame_summary.name
        ):
            if count > cutoff:
                result.append(_repeated(count))
            last_file = frame_summary.filename
            last_line = frame_summary.lineno
            last_name = frame_summary.name
            count = 0
        count += 1
        if count > cutoff:
            continue
        formatted_frame = self.format_frame_summary(frame_summary, colorize=colorize)
        if formatted_frame is not None:
            result.append(formatted_frame)
    if count > cutoff:
        result.append(_repeated(count))
    return result


format.__doc__ = _original_format.__doc__


def _extract_from_extended_frame_gen(klass, frame_gen, **kwargs):
    """CPython's, over the frames that are not the runtime's."""
    dirs, files = _RUNTIME_DIRS, _RUNTIME_FILES
    program_frames = (
        item for item in frame_gen
        if not ((name := item[0].f_code.co_filename).startswith(dirs) or name in files)
    )
    return _original_extract(klass, program_frames, **kwargs)


def install():
    """Replace ``traceback.StackSummary.format`` and make the ``traceback``
    module leave out the runtime's frames."""
    traceback.StackSummary.format = format
    traceback.StackSummary._extract_from_extended_frame_gen = classmethod(
        _extract_from_extended_frame_gen)
