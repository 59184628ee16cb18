#!/usr/bin/env bash
# Install the pure-Python packages bundled into the runtime components
# (guest-requirements.txt: pinned, hash-checked wheels) into SITE_DIR,
# reinstalled only when that file changes. Used by runtime/python/build.sh
# and runtime/sci/component.sh.
#   runtime/python/guest_site.sh SITE_DIR
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
site="$1"
stamp="$(sha256sum < "$here/guest-requirements.txt" | cut -c1-16)"
if [ "$(cat "$site/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$site"
  "$root/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary :all: --target "$site" -r "$here/guest-requirements.txt"
  echo "$stamp" > "$site/.stamp"
fi
