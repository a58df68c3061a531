"""Gunicorn settings for the portal, read from the environment.

Run as ``gunicorn -c gunicorn.conf.py`` (the Docker image's command); the WSGI
application is named here, so no app argument is needed. Every value has a
production default and a ``GUNICORN_*`` variable that overrides it:

============================== ==================== ==========================================
Variable                       Default              Meaning
============================== ==================== ==========================================
GUNICORN_BIND                  0.0.0.0:8000         address(es) to listen on, comma-separated
GUNICORN_WORKERS               2 x CPUs + 1         worker processes (else WEB_CONCURRENCY, if set)
GUNICORN_THREADS               1                    threads per worker (> 1 selects gthread)
GUNICORN_TIMEOUT               30                   seconds a silent worker lives before it is killed
GUNICORN_GRACEFUL_TIMEOUT      30                   seconds in-flight requests get on shutdown
GUNICORN_KEEPALIVE             5                    seconds an idle keep-alive connection stays open
GUNICORN_MAX_REQUESTS          1000                 requests before a worker is replaced (0: never)
GUNICORN_MAX_REQUESTS_JITTER   100                  random extra requests, so workers restart apart
GUNICORN_PRELOAD               1                    import the app once in the master (0: in each worker)
GUNICORN_FORWARDED_ALLOW_IPS   127.0.0.1,::1        proxies trusted for X-Forwarded-Proto (* = any)
GUNICORN_LOG_LEVEL             info                 error log level
GUNICORN_CONTROL_SOCKET        (unset: disabled)    path of the ``gunicornc`` control socket
============================== ==================== ==========================================

Anything else gunicorn supports can still be given on the command line or in
``GUNICORN_CMD_ARGS``. A value that is not a number where one is expected stops
gunicorn before it binds, with a message naming the variable.

Logs go to the standard streams, for the container runtime or systemd to
collect: the access log to stdout as one JSON object per line, the error log
to stderr. Successful health probes (``/healthz``, ``/readyz``) are left out of
the access log: a load balancer probing every few seconds would otherwise bury
the real traffic. A failing probe is still logged, since that is when it matters.
"""

import datetime
import json
import math
import multiprocessing
import os
import sys
import traceback
from pathlib import Path

from gunicorn.glogging import Logger

# The project's modules, whatever directory gunicorn was started in.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from roadmap_site.logging import loggable_path as _loggable_path  # after the path above

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def _env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number; got {raw!r}.") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return value


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _cpu_count(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may actually use.

    ``multiprocessing.cpu_count()`` counts the host's CPUs. The affinity mask
    (``taskset``, ``docker run --cpuset-cpus``) and a cgroup v2 CPU quota
    (``docker run --cpus``, Kubernetes limits) can each allow far fewer; sizing
    workers from the host count would start dozens of workers in a two-CPU
    container and run it out of memory.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = multiprocessing.cpu_count()
    try:
        quota, period = cgroup_cpu_max.read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to honour
    return cpus


class AccessLogger(Logger):
    """Gunicorn's logger with one JSON object per access line, leaving out successful health probes.

    The line is built here rather than through ``access_log_format``:
    gunicorn's formatter copies every request header, response header and
    environ entry for each request (a tenth of a cached page's cost), and its
    escaping only covers double quotes, so a backslash or a control character
    in a user agent would break the line. ``request_id`` is the X-Request-ID
    the app answered with (nginx passes its ``$request_id`` in), so a line here
    matches the app's own log lines and nginx's.
    """

    def access(self, resp, req, environ, request_time) -> None:
        path = environ.get("PATH_INFO", "")
        status = _status_code(resp)
        if (path in PROBE_PATHS and status < 400) or not self.access_log_enabled:
            return
        referer = environ.get("HTTP_REFERER")
        entry = {
            "time": self.now(),
            "request_id": _header(resp.headers, "x-request-id"),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": _header(getattr(req, "headers", ()), "x-forwarded-for"),
            "method": environ.get("REQUEST_METHOD"),
            # Password-reset links carry a secret token in the path (and in the
            # referer of the page they lead to): never write it to a log.
            "path": _loggable_path(path),
            "query": environ.get("QUERY_STRING"),
            "protocol": environ.get("SERVER_PROTOCOL"),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_us": request_time.seconds * 1_000_000 + request_time.microseconds,
            "referer": None if referer is None else _redact_url(referer),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps(entry, default=str))
        except Exception:  # noqa: BLE001 - as gunicorn's own access(): a log line never fails a request
            self.error(traceback.format_exc())

    def now(self) -> str:
        """The request time in ISO 8601 UTC, which log pipelines parse without a pattern."""
        return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _header(headers, name: str) -> str | None:
    """A header's value from gunicorn's list of (name, value) pairs, whatever the case of the name."""
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() == name:
            return value
    return None


def _redact_url(text: str) -> str:
    """``loggable_path`` on the path inside a request line or URL."""
    head, slash, rest = text.partition("/accounts/reset/")
    return head + _loggable_path(slash + rest) if slash else text


def _status_code(resp) -> int:
    try:
        return int(str(resp.status).split(None, 1)[0])
    except (TypeError, ValueError, IndexError):
        return 0


wsgi_app = "roadmap_site.wsgi:application"
# Import the app from this checkout whatever directory gunicorn was started in.
chdir = str(Path(__file__).resolve().parent)

bind = [address.strip() for address in _env_str("GUNICORN_BIND", "0.0.0.0:8000").split(",") if address.strip()]
# The usual starting point for sync workers: enough to keep every CPU busy
# while some workers wait on the database. WEB_CONCURRENCY is what hosting
# platforms set (and gunicorn itself reads when no config names a number).
workers = _env_int("GUNICORN_WORKERS", 0, minimum=1) or _env_int("WEB_CONCURRENCY", 2 * _cpu_count() + 1, minimum=1)
threads = _env_int("GUNICORN_THREADS", 1, minimum=1)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Replacing workers now and then bounds the damage of a slow memory leak; the
# jitter keeps them from all restarting at the same moment.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Workers are forked with Django already imported: a recycled worker costs a fork, not the
# 0.4 s of CPU an import of the project takes (docs/performance.md). Django opens no database
# or cache connection at import, so the workers share none. New code needs a new master
# (a container or service restart), which is how releases go out anyway.
preload_app = bool(_env_int("GUNICORN_PRELOAD", 1))

# Only these peers may tell gunicorn the original scheme (X-Forwarded-Proto).
# Django reads that header itself through SECURE_PROXY_SSL_HEADER; this setting
# keeps gunicorn's own idea of the scheme (wsgi.url_scheme) honest too.
forwarded_allow_ips = _env_str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The worker heartbeat touches a file every second; on a container's overlay
# or a disk-backed /tmp that can block a worker, so use memory when there is some.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None

# Gunicorn 25.1+ opens a control socket by default at one fixed path per user
# ($XDG_RUNTIME_DIR or ~/.gunicorn). Two instances on one host would take it
# from each other, and in the image the home directory is not writable; so it
# is off unless a path is given.
_control_socket = _env_str("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not _control_socket
if _control_socket:
    control_socket = _control_socket

loglevel = _env_str("GUNICORN_LOG_LEVEL", "info")
errorlog = "-"  # stderr
accesslog = "-"  # stdout
logger_class = AccessLogger
