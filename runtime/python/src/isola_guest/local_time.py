"""Local time that follows ``TZ``, and ``time.tzset``, as on Linux.

wasi-libc has no time zone support: its ``localtime`` is always UTC and
CPython's ``time`` module is built without ``tzset``. Programs (and
python-dateutil's ``tzlocal``) set ``os.environ['TZ']`` and call
``time.tzset()``, or are started with ``TZ`` in their environment, and
expect ``time.localtime``, ``time.mktime``, ``time.strftime('%Z')`` and
``time.timezone``/``altzone``/``daylight``/``tzname`` to follow it. Here
they do, by the rules glibc applies: ``TZ`` names a zone of the IANA
database (``Europe/Berlin``, ``:Europe/Berlin``, a path ending in one, or
a TZif file in the sandbox's file system), else it is a POSIX rule
(``EST5EDT,M3.2.0,M11.1.0``, ``<+03>-3``), else its leading letters name a
zone at UTC's offset. Zones come from the runtime's ``tzdata`` through
``zoneinfo``; a POSIX rule becomes the footer of a TZif file ``zoneinfo``
reads.

While ``TZ`` is unset, empty or UTC the C functions run unchanged (no
cost). ``datetime``'s own conversions to naive local time
(``datetime.now()``, ``fromtimestamp`` without ``tz``, ``astimezone()``
without a zone, ``timestamp()`` of a naive value) are C code calling the
C library and stay in UTC.
"""

import io
import os
import struct
import time

# The C datetime and zoneinfo (both in the runtime's heap image), bound
# now: whatever ``datetime`` and ``zoneinfo`` name when ``tzset`` runs, and
# even when ``_datetime`` is blocked (CPython's tests put the pure-Python
# datetime in ``sys.modules`` and ``None`` for ``_datetime``, then call
# ``time.tzset``; freezegun replaces ``datetime.datetime``). C ``_zoneinfo``
# zones are C ``tzinfo`` only, which the pure-Python datetime refuses.
from _datetime import datetime as _c_datetime
from _zoneinfo import ZoneInfo as _ZoneInfo

_c_localtime = time.localtime
_c_gmtime = time.gmtime
_c_mktime = time.mktime
_c_strftime = time.strftime
_c_asctime = time.asctime
_c_ctime = time.ctime

#: The zone in force (set by ``tzset``), or None for UTC, where the C
#: library's functions are right.
_zone = None

# Instants datetime can represent, with a day to spare: the offsets of
# instants beyond are those at the ends.
_MIN_TS = -62135596800 + 86400
_MAX_TS = 253402300799 - 86400
_QUARTER = 91 * 86400
# CPython's init_timezone: "January" and "July" of the current year.
_YEAR = (365 * 24 + 6) * 3600


class _Fixed:
    """A zone at a constant offset (glibc's answer to an unusable TZ)."""

    def __init__(self, name, offset=0):
        self._info = (offset, 0, name)

    def info(self, t):
        return self._info


class _Zoneinfo:
    """A ``zoneinfo.ZoneInfo`` seen through ``info``: UTC offset (seconds),
    DST flag and abbreviation at an instant."""

    def __init__(self, zone):
        self._zone = zone
        self._fromtimestamp = _c_datetime.fromtimestamp

    def info(self, t):
        t = min(max(t, _MIN_TS), _MAX_TS)
        dt = self._fromtimestamp(t, self._zone)
        off = dt.utcoffset()
        return off.days * 86400 + off.seconds, 1 if dt.dst() else 0, dt.tzname()


def _tzif_from_rule(rule):
    """A TZif (version 2) file without transitions whose footer is the POSIX
    ``rule``: zoneinfo then applies the rule at every instant."""
    header = b"TZif2" + b"\0" * 15 + struct.pack(">6l", 0, 0, 0, 0, 1, 4)
    data = struct.pack(">lBB", 0, 0, 0) + b"UTC\0"
    return header + data + header + data + b"\n" + rule.encode("ascii") + b"\n"


def _zone_file(name):
    """The TZif bytes the zone ``name`` refers to, or None."""
    from . import tzdata_bundle

    if name.startswith("/"):
        try:
            with open(name, "rb") as f:
                data = f.read(1 << 20)
            if data.startswith(b"TZif"):
                return data
        except OSError:
            pass
        for prefix in ("/usr/share/zoneinfo/", "/usr/lib/zoneinfo/", "/usr/share/lib/zoneinfo/"):
            if name.startswith(prefix):
                name = name[len(prefix):]
                break
        else:
            return None
    if not name or ".." in name.split("/"):
        return None
    return tzdata_bundle.zone_bytes(name)


def _leading_name(spec):
    end = 0
    while end < len(spec) and spec[end].isascii() and spec[end].isalpha():
        end += 1
    return spec[:end] if end >= 3 else "UTC"


def _load(spec):
    """The zone ``TZ=spec`` means, or None for UTC."""

    if not spec:
        return None
    name = spec[1:] if spec.startswith(":") else spec
    data = _zone_file(name)
    if data is not None:
        try:
            zone = _ZoneInfo.from_file(io.BytesIO(data), key=name)
        except (ValueError, OSError):
            pass
        else:
            return None if name in ("UTC", "Etc/UTC", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal") else _Zoneinfo(zone)
    if not spec.startswith(":") and spec.isascii() and spec.isprintable():
        # A DST name without a rule for it takes the rule of the "posixrules"
        # zone (America/New_York), as glibc does.
        for rule in (spec, spec + ",M3.2.0,M11.1.0"):
            try:
                zone = _ZoneInfo.from_file(io.BytesIO(_tzif_from_rule(rule)), key=spec)
            except (ValueError, OSError):
                continue
            return _Zoneinfo(zone)
    name = _leading_name(name)
    return None if name == "UTC" else _Fixed(name)


def _timegm(tm):
    """Seconds since the epoch of a normalised UTC broken-down time."""
    y, m = tm[0], tm[1]
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + tm[2] - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + tm[3] * 3600 + tm[4] * 60 + tm[5]


def localtime(seconds=None):
    zone = _zone
    if zone is None:
        return _c_localtime(seconds)
    # The C function's argument checks and rounding (floor), then the zone.
    t = _timegm(_c_gmtime(seconds))
    off, isdst, name = zone.info(t)
    g = _c_gmtime(t + off)
    return time.struct_time((g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], isdst, name, off))


def mktime(t):
    zone = _zone
    if zone is None:
        return _c_mktime(t)
    # The C function (UTC here) checks the tuple and normalises its fields:
    # the local time in seconds, to be solved for the instant.
    local = _c_mktime(t)
    isdst = t[8]
    if isdst != -1:  # glibc's, at least, would count a DST flag in UTC
        local = _c_mktime(tuple(t[:8]) + (-1,))
    local = int(local)
    nearby = {}
    for probe in (local, local - 86400, local + 86400, local - _QUARTER, local + _QUARTER,
                  local - 2 * _QUARTER, local + 2 * _QUARTER):
        off, dst, _ = zone.info(probe)
        nearby.setdefault(off, dst)
    solutions = []
    for off in nearby:
        got = zone.info(local - off)
        if got[0] == off:
            solutions.append((local - off, got[1]))
    if isdst < 0:
        if len(solutions) == 1:
            return float(solutions[0][0])
        isdst = 0  # a repeated or skipped local time: glibc takes standard time
    want = 1 if isdst else 0
    for instant, dst in solutions:
        if dst == want:
            return float(instant)
    # No such local time of the wanted kind: glibc counts it with the offset
    # of that kind (an hour from the other when the zone has none).
    for off, dst in nearby.items():
        if dst == want:
            return float(local - off)
    off = next(iter(nearby))
    return float(local - off - 3600 if want else local - off + 3600)


def _zone_of(t):
    """%Z and %z of a time tuple, as glibc's strftime prints them."""
    isdst = t[8]
    name = getattr(t, "tm_zone", None)
    off = getattr(t, "tm_gmtoff", None)
    if name is None:
        name = time.tzname[1 if isdst > 0 else 0] if isdst >= 0 else ""
    if off is None:
        off = 0
    sign = "-" if off < 0 else "+"
    off = abs(off) // 60
    return name, "%s%02d%02d" % (sign, off // 60, off % 60)


def _with_zone(format, t):
    """``format`` with %Z and %z replaced (the C library knows no zone)."""
    if "%" not in format or ("Z" not in format and "z" not in format):
        return format
    zone = None
    out = []
    i = 0
    n = len(format)
    while i < n:
        c = format[i]
        if c == "%" and i + 1 < n:
            d = format[i + 1]
            if d == "Z" or d == "z":
                if zone is None:
                    zone = _zone_of(t)
                out.append(zone[d == "z"].replace("%", "%%"))
            else:
                out.append(format[i:i + 2])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def strftime(format, t=None):
    if _zone is None:
        return _c_strftime(format) if t is None else _c_strftime(format, t)
    if t is None:
        t = localtime()
    if not isinstance(format, str) or len(t) != 9:
        return _c_strftime(format, t)  # its TypeError
    return _c_strftime(_with_zone(format, t), t)


def asctime(t=None):
    return _c_asctime(localtime() if t is None else t)


def ctime(seconds=None):
    if _zone is None:
        return _c_ctime(seconds)
    return _c_asctime(localtime(seconds))


def _set_module_zone(zone):
    """time.timezone, altzone, daylight and tzname as CPython computes them
    on Linux: from local time at the start of this year and half a year on."""
    if zone is None:
        jan = jul = (0, 0, "UTC")
    else:
        t = (int(time.time()) // _YEAR) * _YEAR
        jan = zone.info(t)
        jul = zone.info(t + _YEAR // 2)
    janzone, julyzone = -jan[0], -jul[0]
    janname, julyname = jan[2][:9], jul[2][:9]
    if janzone < julyzone:  # DST is reversed in the southern hemisphere
        time.timezone, time.altzone = julyzone, janzone
        time.tzname = (julyname, janname)
    else:
        time.timezone, time.altzone = janzone, julyzone
        time.tzname = (janname, julyname)
    time.daylight = int(janzone != julyzone)


def tzset():
    """Initialize, or reinitialize, the local timezone to the value of the
    environment variable TZ (as on Linux: an IANA zone name or a POSIX TZ
    rule; unset, empty or invalid: UTC)."""
    global _zone
    zone = _load(os.environ.get("TZ", ""))
    _zone = zone
    _set_module_zone(zone)


def start():
    """At a sandbox's start, as python does: follow the TZ it was given (a
    heap snapshotted after a prelude may hold the prelude's zone)."""
    if _zone is not None or os.environ.get("TZ"):
        tzset()


def install():
    """Give ``time`` these functions (build time)."""
    import logging

    for fn, original in ((localtime, _c_localtime), (mktime, _c_mktime), (strftime, _c_strftime),
                         (asctime, _c_asctime), (ctime, _c_ctime)):
        fn.__doc__ = original.__doc__
        fn.__module__ = "time"
        setattr(time, fn.__name__, fn)
    tzset.__module__ = "time"
    time.tzset = tzset
    # logging's default converter was taken from time when it was imported.
    if logging.Formatter.converter is _c_localtime:
        logging.Formatter.converter = staticmethod(localtime)
