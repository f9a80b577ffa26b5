#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, browser tests included.
# Installs what a fresh machine lacks (Debian's chromium), starts PostgreSQL when it is down.
# Under CI=true a missing PostgreSQL or Chromium fails the run; elsewhere it is said loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${KARTOTEKA_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/kartoteka}"
export KARTOTEKA_DATA_DIR="${KARTOTEKA_TEST_DATA_DIR:-$(mktemp -d)}"
unset DATABASE_URL

say() { printf '\n== %s\n' "$*"; }

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  say "Chromium is missing: installing Debian's chromium package"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
  [ -x /usr/bin/chromium ]
}

ensure_soffice() {
  if [ -x /usr/bin/soffice ]; then return 0; fi
  say "LibreOffice is missing: installing Debian's libreoffice-writer-nogui package"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null
  fi
  [ -x /usr/bin/soffice ]
}

pg_up() { "$BIN/python" - "$PG_URL" <<'PY'
import sys, psycopg
url = sys.argv[1].rsplit("/", 1)[0] + "/postgres"
try:
    psycopg.connect(url, connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}

ensure_postgres() {
  if pg_up; then return 0; fi
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    say "PostgreSQL is down: starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 20); do pg_up && return 0; sleep 1; done
  fi
  return 1
}

status=0
if ! ensure_chromium; then
  say "!!! Chromium could not be installed: browser tests cannot run"
  [ "${CI:-}" = "true" ] && exit 1
fi

if ! ensure_soffice; then
  say "!!! LibreOffice could not be installed: DOCX → PDF tests are skipped"
  [ "${CI:-}" = "true" ] && exit 1
fi

# The output must be clean: a traceback, a logging error or a warning anywhere in it (a server
# thread's, a subprocess's, one pytest did not turn into a failure) fails the run.
DIRT='Traceback|--- Logging error ---|Warning'

run_suite() {
  local name="$1"; shift
  local out
  out="$(mktemp)"
  say "Test suite on $name"
  "$@" "$BIN/pytest" -p no:cacheprovider -q -n "${KARTOTEKA_TEST_WORKERS:-2}" 2>&1 | tee "$out"
  local code=${PIPESTATUS[0]}
  if [ $code -eq 5 ]; then say "!!! no tests ran on $name"; code=1; fi
  if grep -Eq -- "$DIRT" "$out"; then
    say "!!! the output on $name is not clean (tracebacks, logging errors or warnings):"
    grep -En -- "$DIRT" "$out" | head -n 20
    [ $code -eq 0 ] && code=1
  fi
  rm -f "$out"
  return $code
}

run_suite SQLite env || status=1

if ensure_postgres; then
  run_suite PostgreSQL env DATABASE_URL="$PG_URL" || status=1
else
  say "!!! PostgreSQL is not reachable at $PG_URL: the PostgreSQL run is SKIPPED"
  [ "${CI:-}" = "true" ] && status=1
fi

if [ $status -eq 0 ]; then say "All suites passed"; else say "FAILED"; fi
exit $status
