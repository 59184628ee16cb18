"""Tracebacks of deep recursion formatted in time.

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

import traceback

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


def install():
    """Replace ``traceback.StackSummary.format``."""
    traceback.StackSummary.format = format
