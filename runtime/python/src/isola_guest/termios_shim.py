"""``termios`` for a process without a terminal.

WASI has no terminals, so CPython has no ``termios`` and every module that
imports it at the top failed to import: click's ``progressbar``, ``pause``,
``getchar`` and ``edit`` (``click._termui_impl``), ``tty``, ``pty``. Here
it imports, and each call fails as Linux's does for a descriptor that is
not a terminal (stdin, stdout and stderr are not: ``isatty()`` is false):
``termios.error(ENOTTY)``. Programs that check ``isatty()`` first, as
click does, never get that far.
"""

import errno
import sys


class error(Exception):  # noqa: N801 (the C module's name)
    """Raised by every call: the sandbox has no terminal."""


# Values of Linux; programs pass them back to the calls below.
TCSANOW, TCSADRAIN, TCSAFLUSH = 0, 1, 2
TCIFLUSH, TCOFLUSH, TCIOFLUSH = 0, 1, 2
TCOOFF, TCOON, TCIOFF, TCION = 0, 1, 2, 3
IFLAG, OFLAG, CFLAG, LFLAG, ISPEED, OSPEED, CC = range(7)
(BRKINT, ICRNL, INPCK, ISTRIP, IXON, OPOST, CSIZE, PARENB, CS8, ECHO, ICANON,
 IEXTEN, ISIG, VMIN, VTIME, ECHONL, ECHOE, ECHOK, INLCR, IGNCR, IGNBRK,
 PARMRK, IXOFF, IXANY, ONLCR, CREAD, HUPCL, CLOCAL, NOFLSH, TOSTOP) = (
    0o2, 0o400, 0o20, 0o40, 0o2000, 0o1, 0o60, 0o400, 0o60, 0o10, 0o2,
    0o100000, 0o1, 6, 5, 0o100, 0o20, 0o40, 0o100, 0o200, 0o1,
    0o10, 0o10000, 0o4000, 0o4, 0o200, 0o2000, 0o4000, 0o200, 0o400)


def _no_terminal(*_args):
    raise error(errno.ENOTTY, "Inappropriate ioctl for device (isola sandbox: no terminal)")


tcgetattr = tcsetattr = tcsendbreak = tcdrain = tcflush = tcflow = _no_terminal
tcgetwinsize = tcsetwinsize = _no_terminal


def install() -> None:
    """Make ``import termios`` give this module."""
    sys.modules.setdefault("termios", sys.modules[__name__])
