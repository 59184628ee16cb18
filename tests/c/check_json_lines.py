"""Run isola-run on fixtures and parse its output with Python's json module.

usage: check_json_lines.py ISOLA_RUN FIXTURES_DIR
"""

import json
import os
import subprocess
import sys


def events(isola_run, *args, stdin=b""):
    proc = subprocess.run([isola_run, *args], input=stdin, capture_output=True, check=False)
    lines = proc.stdout.decode("utf-8").splitlines()
    parsed = [json.loads(line) for line in lines]
    for event in parsed:
        assert isinstance(event, dict) and "type" in event, event
    return proc.returncode, parsed


def main():
    isola_run, fixtures = sys.argv[1], sys.argv[2]
    code, evs = events(isola_run, os.path.join(fixtures, "escape.py"))
    assert code == 0, (code, evs)
    expected = 'quote " backslash \\ tab \t bell \x07 nul \x00 unicode \u00e9 \u2713'
    assert evs == [{"type": "stdout", "data": expected}], evs

    code, evs = events(isola_run, os.path.join(fixtures, "fail.py"))
    assert code == 1, code
    error = evs[-1]
    assert error["type"] == "error" and error["code"] == "GUEST_EXCEPTION", error
    assert error["guest_type"] == "ValueError", error
    assert "Traceback" in error["message"] and "bad input: 42" in error["message"], error

    code, evs = events(isola_run, "--call", "count", "--args", "[2]",
                       os.path.join(fixtures, "gen.py"))
    assert code == 0, code
    assert [e["type"] for e in evs] == ["stdout", "item", "stdout", "item", "result"], evs
    # A script read from standard input is '-' in sys.argv, as under python.
    code, evs = events(isola_run, "-", "one", "--two", stdin=b"import sys\nprint(sys.argv)\n")
    assert code == 0, (code, evs)
    assert evs == [{"type": "stdout", "data": "['-', 'one', '--two']\n"}], evs
    print("ok: isola-run output parses as JSON lines")


if __name__ == "__main__":
    main()
