"""Install the pinned HTTP clients of requirements.txt for tests/http_clients.rs.

    python3 tests/http_clients/install.py      # prints the directory

Pure-Python wheels for the sandbox's CPython 3.14, hash-checked by pip, go
to ~/.cache/isola-build/http-clients-<digest> (XDG_CACHE_HOME respected),
where <digest> is the first 16 hex digits of requirements.txt's sha256, so
a changed pin installs afresh and an unchanged one is downloaded once. The
Rust test computes the same path and fails, naming this script, when the
directory is missing.
"""

import hashlib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def target_dir():
    req = os.path.join(HERE, "requirements.txt")
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return req, os.path.join(base, "isola-build", "http-clients-" + digest)


def main():
    req, target = target_dir()
    if not os.path.isfile(os.path.join(target, ".complete")):
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install",
                        "--no-deps", "--only-binary", ":all:", "--require-hashes",
                        "--platform", "any", "--python-version", "3.14", "--implementation", "py",
                        "--abi", "none", "--target", target, "-r", req], check=True)
        open(os.path.join(target, ".complete"), "w").close()
    print(target)


if __name__ == "__main__":
    main()
