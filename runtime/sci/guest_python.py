"""Stands in for the guest's CPython 3.14 when meson asks about "python".

Cross builds (runtime/sci/build.sh) point meson's ``python`` at a wrapper
that runs this file with the native Python. Meson learns about an
interpreter by running its ``python_info.py`` with it; that answer is taken
from the native Python and its guest-specific parts (version, sysconfig
variables, extension suffix, include directory) are replaced by those of the
CPython that componentize-py bundles, read from ``$ISOLA_GUEST_SYSCONFIG``
(JSON: ``{"variables": {...}, "include": DIR}``). Everything else (meson and
numpy run generator scripts with "python") runs natively, unchanged.
"""

import json
import os
import subprocess
import sys


def introspect(argv):
    native = subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=True)
    info = json.loads(native.stdout)
    with open(os.environ["ISOLA_GUEST_SYSCONFIG"]) as f:
        guest = json.load(f)
    variables = dict(guest["variables"])
    variables["INCLUDEPY"] = guest["include"]
    variables["LIBPC"] = ""
    variables["base_prefix"] = info["variables"]["base_prefix"]
    info["variables"] = variables
    for paths in (info["paths"], info["sysconfig_paths"]):
        paths["include"] = paths["platinclude"] = guest["include"]
    info["version"] = variables["VERSION"]
    info["platform"] = "wasi-wasm32"
    info["suffix"] = variables["EXT_SUFFIX"]
    info["limited_api_suffix"] = ".abi3.so"
    info["link_libpython"] = False
    info["is_freethreaded"] = bool(variables.get("Py_GIL_DISABLED"))
    print(json.dumps(info))


def main():
    argv = sys.argv[1:]
    if argv and os.path.basename(argv[0]) == "python_info.py":
        introspect(argv)
    else:
        os.execv(sys.executable, [sys.executable, *argv])


if __name__ == "__main__":
    main()
