"""The guest's TZ-following local time (isola_guest.local_time) against
glibc's, in a native python started with each TZ."""
import json
import os
import subprocess
import sys
import time
import unittest

import _path  # noqa: F401
from isola_guest import local_time, tzdata_bundle

ZONEINFO = "/usr/share/zoneinfo"

SPECS = ["Europe/Berlin", ":Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Tokyo",
         "Asia/Kolkata", "Europe/Dublin", "America/Sao_Paulo", "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3",
         "<+03>-3", "NZST-12NZDT,M9.5.0,M4.1.0/3", "Foo/Bar", "UTC", ""]

# Instants across 1901..2100, and around the transitions of 2020 in the zones above.
INSTANTS = list(range(-2_000_000_000, 4_000_000_000, 7_777_777)) + [
    t + d for t in (1585443600, 1603587600, 1583650800, 1604210400, 1586016000, 1601740800)
    for d in (-3601, -3600, -1, 0, 1, 1800, 3599, 3600, 7200)] + [0, 1.5, -1.5, 10**11]

# Local times: ordinary, repeated (fold), skipped (gap) and out of range
# fields, each with isdst -1, 0 and 1.
LOCAL_TIMES = [(y, mo, d, h, mi, 0, 0, 1, dst)
               for (y, mo, d, h, mi) in ((2020, 1, 15, 12, 0), (2020, 7, 15, 12, 0), (2020, 10, 25, 2, 30),
                                         (2020, 3, 29, 2, 30), (2020, 3, 8, 2, 30), (2020, 11, 1, 1, 30),
                                         (2020, 4, 5, 2, 30), (2020, 10, 4, 2, 30), (2020, 13, 40, 25, 61),
                                         (1969, 12, 31, 23, 59), (2038, 1, 19, 3, 14))
               for dst in (-1, 0, 1)]

# Repeated local times (Berlin, New York, Sydney) without a DST flag: glibc
# answers from the offset its previous mktime call found, so either instant.
FOLDS = {(2020, 10, 25, 2, 30), (2020, 11, 1, 1, 30), (2020, 4, 5, 2, 30)}
UNAMBIGUOUS = [i for i, t in enumerate(LOCAL_TIMES) if not (t[8] == -1 and t[:5] in FOLDS)]

PROBE = r"""
import json, sys, time
instants, local_times = json.loads(sys.stdin.read())
def tm(t):
    return list(t) + [t.tm_zone, t.tm_gmtoff]
print(json.dumps({
    "module": [list(time.tzname), time.timezone, time.altzone, time.daylight],
    "localtime": [tm(time.localtime(t)) for t in instants],
    "mktime": [time.mktime(tuple(t)) for t in local_times],
    "strftime": [time.strftime("%Y-%m-%d %H:%M:%S %Z %z %%Z", time.localtime(t)) for t in instants[:50]],
    "plain": [time.strftime("%Z %z", tuple(t)) for t in local_times if t[8] >= 0 and t[1] <= 12],
    "ctime": [time.ctime(t) for t in instants[:50]],
}))
"""


def native(spec):
    env = dict(os.environ, TZ=spec)
    out = subprocess.run([sys.executable, "-c", PROBE], input=json.dumps([INSTANTS, LOCAL_TIMES]),
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout)


@unittest.skipUnless(os.path.isdir(ZONEINFO) and sys.platform == "linux", "compares with glibc and its zoneinfo")
class LocalTimeTests(unittest.TestCase):
    def setUp(self):
        # The C functions the module builds on are UTC here, as in the guest.
        self._tz = os.environ.get("TZ")
        os.environ["TZ"] = "UTC"
        time.tzset()
        self._saved = (time.tzname, time.timezone, time.altzone, time.daylight)
        self._zone_bytes = tzdata_bundle.zone_bytes

        def zone_bytes(key):
            try:
                with open(os.path.join(ZONEINFO, key), "rb") as f:
                    return f.read()
            except OSError:
                return None

        tzdata_bundle.zone_bytes = zone_bytes

    def tearDown(self):
        tzdata_bundle.zone_bytes = self._zone_bytes
        local_time._zone = None
        time.tzname, time.timezone, time.altzone, time.daylight = self._saved
        if self._tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = self._tz
        time.tzset()

    def guest(self, spec):
        local_time._zone = zone = local_time._load(spec)
        local_time._set_module_zone(zone)

        def tm(t):
            return list(t) + [t.tm_zone, t.tm_gmtoff]

        return {
            "module": [list(time.tzname), time.timezone, time.altzone, time.daylight],
            "localtime": [tm(local_time.localtime(t)) for t in INSTANTS],
            "mktime": [local_time.mktime(tuple(t)) for t in LOCAL_TIMES],
            "strftime": [local_time.strftime("%Y-%m-%d %H:%M:%S %Z %z %%Z", local_time.localtime(t))
                         for t in INSTANTS[:50]],
            "plain": [local_time.strftime("%Z %z", tuple(t)) for t in LOCAL_TIMES if t[8] >= 0 and t[1] <= 12],
            "ctime": [local_time.ctime(t) for t in INSTANTS[:50]],
        }

    def test_matches_glibc(self):
        for spec in SPECS:
            want = native(spec)
            got = self.guest(spec)
            # Dublin kept summer time all year from 1968 to 1971: glibc
            # counts a 1969 local time marked DST with an offset found
            # outside the year around it, this module with one hour more.
            keep = [i for i in UNAMBIGUOUS if not (spec == "Europe/Dublin" and LOCAL_TIMES[i][0] == 1969)]
            for results in (want, got):
                results["mktime"] = [results["mktime"][i] for i in keep]
            if "," in spec:
                # glibc applies a POSIX rule to the years from 1970 only
                # (before, every instant is standard time); zoneinfo, and so
                # this module, to every year.
                for results in (want, got):
                    for key in ("localtime", "ctime", "strftime"):
                        results[key] = [r for r, t in zip(results[key], INSTANTS) if t >= 0]
            for key in want:
                if key == "plain" and (not want["module"][3] or spec == "Europe/Dublin"):
                    # A 9-tuple marked DST: glibc prints the last name its
                    # zone file marks DST ("JDT" in Tokyo, "BST" in Dublin,
                    # whose summer time is standard and winter time DST).
                    continue
                self.assertEqual(got[key], want[key], "TZ=%r: %s" % (spec, key))

    def test_unset_tz_keeps_the_c_functions(self):
        self.assertIsNone(local_time._load(""))
        self.assertIsNone(local_time._load("UTC"))
        self.assertIsNone(local_time._load(":UTC"))

    def test_bad_arguments_fail_as_the_c_functions_do(self):
        local_time._zone = local_time._load("Europe/Berlin")
        for fn, arg in ((local_time.localtime, "x"), (local_time.localtime, float("nan")),
                        (local_time.mktime, (1, 2)), (local_time.strftime, 5)):
            with self.assertRaises((TypeError, ValueError, OverflowError)):
                fn(arg)


if __name__ == "__main__":
    unittest.main()
