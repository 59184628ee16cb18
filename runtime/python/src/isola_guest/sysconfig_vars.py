"""Repairs to the build-time configuration that ``sysconfig`` reports.

componentize-py's CPython records ``CONFIG_ARGS`` (configure's arguments,
shell-quoted) cut off inside a quote, so ``shlex.split`` of it raised
``ValueError: No closing quotation`` (pyparsing's test suite does that at
import, to look for ``--enable-experimental-jit``). The value is closed at
the cut.
"""

import shlex
import sys


def _repaired(value: str) -> str:
    try:
        shlex.split(value)
        return value
    except ValueError:
        for closing in ("'", '"'):
            try:
                shlex.split(value + closing)
                return value + closing
            except ValueError:
                pass
    return value


def install() -> None:
    """Repair ``CONFIG_ARGS`` where sysconfig keeps it (its data module, and
    its cache if it has been filled)."""
    import sysconfig

    data = sys.modules.get(sysconfig._get_sysconfigdata_name())
    tables = [getattr(data, "build_time_vars", None), getattr(sysconfig, "_CONFIG_VARS", None)]
    for table in tables:
        if table and isinstance(table.get("CONFIG_ARGS"), str):
            table["CONFIG_ARGS"] = _repaired(table["CONFIG_ARGS"])
