"""The guest sets LC_CTYPE as python's start-up on Linux does (PEP 538's
coercion of the C locale): isola_guest.instance.coerced_ctype against a
native python started with each environment."""
import os
import subprocess
import sys
import unittest

import _path  # noqa: F401
from isola_guest import instance

# Environments whose locale names every Linux has (unset, C, POSIX,
# C.UTF-8), so the native answer does not depend on installed locales.
ENVIRONMENTS = [
    {},
    {"LANG": "C"},
    {"LANG": "POSIX"},
    {"LANG": "C.UTF-8"},
    {"LC_ALL": "C"},
    {"LC_ALL": ""},
    {"LC_ALL": "C.UTF-8"},
    {"LC_CTYPE": "C"},
    {"LC_CTYPE": "POSIX"},
    {"LC_CTYPE": "C", "LANG": "C.UTF-8"},
    {"LC_CTYPE": "C.UTF-8", "LANG": "C"},
    {"LC_CTYPE": "", "LANG": "C"},
    {"LANGUAGE": "de"},
    {"PYTHONCOERCECLOCALE": "0"},
    {"PYTHONCOERCECLOCALE": "1"},
]


def native_ctype(env):
    """os.environ.get('LC_CTYPE') in a native python started with env only."""
    out = subprocess.run([sys.executable, "-c", "import os; print(repr(os.environ.get('LC_CTYPE')))"],
                         env=env, capture_output=True, text=True, check=True).stdout
    return eval(out)


@unittest.skipUnless(sys.platform == "linux" and native_ctype({}) == instance.COERCED_LOCALE,
                     "needs a Linux python that coerces the C locale to C.UTF-8")
class LocaleCoercionTest(unittest.TestCase):
    def test_lc_ctype_is_set_where_python_sets_it(self):
        for env in ENVIRONMENTS:
            with self.subTest(env=env):
                coerced = instance.coerced_ctype(env)
                expected = env.get("LC_CTYPE") if coerced is None else coerced
                self.assertEqual(native_ctype(env), expected)


if __name__ == "__main__":
    unittest.main()
