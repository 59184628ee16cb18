#!/bin/sh
# run_check.sh EXIT EXPECTATIONS -- COMMAND [ARG...]
#
# Run COMMAND, then check that it exited with status EXIT and that its
# output meets EXPECTATIONS, a file of one directive per line:
#   = TEXT    a stdout line equal to TEXT
#   ~ ERE     a stdout line matching the extended regular expression ERE
#             (= and ~ lines must appear in this order in stdout)
#   ! ERE     no stdout line matches ERE
#   e~ ERE    some stderr line matches ERE
#   raw       stdout is free text (default: every stdout line must look
#             like a JSON object, {"type":"..."...})
#   # ...     comment
# On failure prints what was expected and what the command produced.
set -u
if [ $# -lt 4 ] || [ "$3" != "--" ]; then
  echo "usage: run_check.sh EXIT EXPECTATIONS -- COMMAND [ARG...]" >&2
  exit 2
fi
want_exit=$1
expect=$2
shift 3

tmp=$(mktemp -d "${TMPDIR:-/tmp}/isola-run-check.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
got_exit=$?

awk -v want_exit="$want_exit" -v got_exit="$got_exit" \
    -v out="$tmp/out" -v err="$tmp/err" '
  function fail(msg) { print "FAIL: " msg; failed = 1 }
  # Read the expectations (the first file on the command line).
  /^#/ || /^[ \t]*$/ { next }
  /^raw$/ { raw = 1; next }
  /^= /  { n++; kind[n] = "="; text[n] = substr($0, 3); next }
  /^~ /  { n++; kind[n] = "~"; text[n] = substr($0, 3); next }
  /^! /  { nn++; never[nn] = substr($0, 3); next }
  /^e~ / { ne++; errre[ne] = substr($0, 4); next }
  { print "bad directive: " $0; bad = 1 }
  END {
    if (bad) exit 2
    if (got_exit != want_exit) fail("exit status " got_exit ", expected " want_exit)
    # stdout: ordered expectations, forbidden patterns, JSON-line shape.
    i = 1
    while ((getline line < out) > 0) {
      lines++
      if (!raw && line !~ /^\{"type":"[a-z]+",.*\}$/) fail("not a JSON event line: " line)
      for (k = 1; k <= nn; k++) if (line ~ never[k]) fail("forbidden line: " line)
      if (i <= n && ((kind[i] == "=" && line == text[i]) || (kind[i] == "~" && line ~ text[i]))) i++
    }
    if (i <= n) fail("missing (in order) stdout line " kind[i] " " text[i])
    for (k = 1; k <= ne; k++) {
      found = 0
      while ((getline line < err) > 0) if (line ~ errre[k]) found = 1
      close(err)
      if (!found) fail("no stderr line matches " errre[k])
    }
    exit failed
  }' "$expect"
status=$?
if [ $status -ne 0 ]; then
  echo "--- command: $*"
  echo "--- exit status: $got_exit"
  echo "--- stdout:"; cat "$tmp/out"
  echo "--- stderr:"; cat "$tmp/err"
  exit 1
fi
echo "ok: exit $got_exit, $(wc -l <"$tmp/out") stdout lines"
exit 0
