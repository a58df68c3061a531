#!/bin/sh
# Container entrypoint: get the database ready, then become the given command.
#
#   DJANGO_DB_WAIT_TIMEOUT  seconds to wait for the database to accept
#                           connections (default 60; 0 skips the wait)
#   DJANGO_MIGRATE=1        run `manage.py migrate` first
#   DJANGO_LOAD_CONTENT=1   then `manage.py loaddata roadmaps` (the shipped
#                           curriculum; safe to repeat, it updates rows by their
#                           natural keys, but it does undo edits made in the admin)
#
# Run migrations from one place per release (one container, or a one-off
# `docker compose run --rm web true`), not from every replica at once: two
# concurrent `migrate` runs can trip over each other.
#
# The command is exec'd, so it (gunicorn) becomes PID 1 and gets the stop
# signal directly. Works outside Docker too, with the project's Python first
# on PATH.
set -eu

cd "$(dirname "$0")/.."

say() {
    printf 'entrypoint: %s\n' "$*" >&2
}

enabled() {
    case "$(printf '%s' "${1:-}" | tr '[:upper:]' '[:lower:]')" in
        1 | true | yes | on) return 0 ;;
        *) return 1 ;;
    esac
}

if [ "$#" -eq 0 ]; then
    say "no command given (the image's default is: gunicorn -c gunicorn.conf.py)"
    exit 64
fi

timeout="${DJANGO_DB_WAIT_TIMEOUT:-60}"
case "$timeout" in
    '' | *[!0-9]*)
        say "DJANGO_DB_WAIT_TIMEOUT must be a whole number of seconds; got '$timeout'"
        exit 2
        ;;
esac

if [ "$timeout" -gt 0 ]; then
    # Django's own connection code, so that DATABASE_URL means exactly what the
    # app will use. Each attempt is capped so that a host that drops packets
    # cannot outlast the deadline.
    DJANGO_DB_WAIT_TIMEOUT="$timeout" python - <<'PY'
import os
import sys
import time

import django
from django.db import connection
from django.db.utils import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roadmap_site.settings")
django.setup()
timeout = int(os.environ["DJANGO_DB_WAIT_TIMEOUT"])
deadline = time.monotonic() + timeout
settings = connection.settings_dict
where = f"{connection.vendor} database '{settings['NAME']}'"
if settings.get("HOST"):
    where += f" on {settings['HOST']}:{settings.get('PORT') or 'default port'}"
if connection.vendor == "postgresql":
    settings["OPTIONS"] = {**settings.get("OPTIONS", {}), "connect_timeout": min(5, timeout)}

waited = False
while True:
    try:
        connection.ensure_connection()
    except OperationalError as error:
        if time.monotonic() >= deadline:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            sys.exit(f"entrypoint: the {where} did not accept connections within {timeout}s: {reason}")
        if not waited:
            print(f"entrypoint: waiting up to {timeout}s for the {where}", file=sys.stderr)
            waited = True
        time.sleep(1)
    else:
        connection.close()
        break
if waited:
    print(f"entrypoint: the {where} is up", file=sys.stderr)
PY
fi

if enabled "${DJANGO_MIGRATE:-}"; then
    say "applying migrations"
    python manage.py migrate --no-input
fi

if enabled "${DJANGO_LOAD_CONTENT:-}"; then
    say "loading the shipped curriculum (fixtures/roadmaps.json)"
    python manage.py loaddata roadmaps
fi

exec "$@"
