"""CONFIG_ARGS cut off inside a quote is closed so that shlex can split it."""
import shlex
import unittest

import _path  # noqa: F401
from isola_guest import sysconfig_vars


class SysconfigVarsTests(unittest.TestCase):
    def test_a_value_cut_inside_a_quote_is_closed(self):
        cut = "'-C' '--host=wasm32-unknown-wasip2' '--build=x86_64-pc-linux-gnu"
        repaired = sysconfig_vars._repaired(cut)
        self.assertEqual(shlex.split(repaired), ["-C", "--host=wasm32-unknown-wasip2", "--build=x86_64-pc-linux-gnu"])

    def test_whole_values_are_kept(self):
        for value in ("", "'--a' '--b=c d'", '"--x"'):
            self.assertEqual(sysconfig_vars._repaired(value), value)


if __name__ == "__main__":
    unittest.main()
