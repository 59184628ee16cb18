#!/usr/bin/env bash
# Install the pure-Python packages bundled into the runtime components
# (REQUIREMENTS, default guest-requirements.txt: pinned, hash-checked wheels)
# into SITE_DIR, reinstalled only when that file changes. Used by
# runtime/python/build.sh and runtime/sci/component.sh (which also installs
# runtime/sci/guest-requirements.txt this way).
#   runtime/python/guest_site.sh SITE_DIR [REQUIREMENTS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
site="$1"
reqs="${2:-$here/guest-requirements.txt}"
stamp="$(sha256sum < "$reqs" | cut -c1-16)"
if [ "$(cat "$site/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$site"
  "$root/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary :all: --target "$site" -r "$reqs"
  echo "$stamp" > "$site/.stamp"
fi
