"""Run the production stack on this machine, for scripts/observatory, scripts/cluster-smoke and scripts/bench.

The moving parts are the deployment's own: Django with ``DJANGO_DEBUG=0``,
gunicorn with ``gunicorn.conf.py``, nginx with the site configuration that
``scripts/render-nginx-conf`` prints. Only what a real deployment gets from
elsewhere is made up here: a certificate from a throw-away certificate
authority, a scratch database, a temporary directory for static files and logs.

Everything a ``Stack`` starts or creates is stopped or removed again however the
script ends (failure, Ctrl-C, SIGTERM); on failure the last lines of every
server's log are printed first. Standard library only, plus the project's own
requirements (psycopg, redis), imported where they are needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import http.cookiejar
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parent.parent
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
NGINX = Path("/usr/sbin/nginx")
RENDER_NGINX_CONF = REPO / "scripts" / "render-nginx-conf"
GUNICORN_CONF = REPO / "gunicorn.conf.py"
SERVER_NAME = "localhost"

# Variables from the caller's shell that would change what the scripts test.
_INHERITED_PREFIXES = ("DJANGO_", "GUNICORN_", "ROADMAP_")
_INHERITED_NAMES = {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY"}


class StackError(Exception):
    """A step failed; the message says which and why, for the person reading the output."""


def use_project_python() -> None:
    """Re-run the calling script with the project's virtualenv unless it already runs there.

    The scripts start ``manage.py`` and gunicorn with ``sys.executable``, so it has
    to be the interpreter that has the requirements installed.
    """
    if Path(sys.prefix).resolve() == (REPO / ".venv").resolve():
        return
    try:
        import django  # noqa: F401 - only probing whether the requirements are importable
    except ImportError:
        if not VENV_PYTHON.exists():
            sys.exit(
                f"Django is not importable and {VENV_PYTHON} does not exist: run `make test` (or `make run`) first."
            )
        if os.environ.get("_STACK_REEXEC"):
            sys.exit(f"{VENV_PYTHON} cannot import Django either: reinstall the requirements (`make clean test`).")
        os.environ["_STACK_REEXEC"] = "1"
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), sys.argv[0], *sys.argv[1:]])


# Output ---------------------------------------------------------------------------------


class Clock:
    """Seconds since the script started, for the timings on every line."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __str__(self) -> str:
        return f"{time.monotonic() - self.start:5.1f}s"


CLOCK = Clock()


def say(text: str) -> None:
    print(f"[{CLOCK}] {text}", flush=True)


def ok(text: str) -> None:
    say(f"✓ {text}")


def detail(text: str) -> None:
    print(f"         {text}", flush=True)


# Processes, ports, commands -----------------------------------------------------------


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it if this script is killed without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def clean_environ() -> dict[str, str]:
    """This process's environment minus anything that configures the site, gunicorn or the services."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_INHERITED_PREFIXES) and name not in _INHERITED_NAMES and name != "_STACK_REEXEC"
    }


def run(
    argv: list[str], *, what: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: float = 600
) -> str:
    """Run a command to completion; on failure raise with the end of its output."""
    try:
        result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise StackError(f"{what}: no result after {timeout:.0f} s ({' '.join(argv)})") from None
    except FileNotFoundError:
        raise StackError(f"{what}: {argv[0]} is not installed") from None
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        tail = "\n".join(output.splitlines()[-25:])
        raise StackError(f"{what} failed (exit status {result.returncode}): {' '.join(argv)}\n{tail}")
    return output


def manage(env: dict[str, str], *args: str) -> str:
    return run([sys.executable, "manage.py", *args], what=f"manage.py {args[0]}", env=env)


class Server:
    """A long-running child process (gunicorn, nginx) in its own process group, logging to a file."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.process: subprocess.Popen | None = None
        self.port = 0  # the app servers' port, for probes
        self.error_log: Path | None = None  # nginx's, which is not its stdout
        self.started_at = 0.0
        self.startup_seconds = 0.0

    def start(self) -> None:
        self.started_at = time.monotonic()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 30) -> float:
        """Signal the main process, wait for it, then make sure nothing of its group is left. Returns seconds."""
        started = time.monotonic()
        if self.process is None:
            return 0.0
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"! {self.name} did not stop within {timeout:.0f} s of {sig.name}; killing it")
        # Workers that outlived their master (or a master that ignored the signal).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        return time.monotonic() - started

    def children(self) -> list[int]:
        """Process ids of the main process's children (a gunicorn master's workers), from /proc."""
        if not self.running():
            return []
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
                if int(stat.read_text().rpartition(")")[2].split()[1]) == self.process.pid:
                    children.append(int(stat.parent.name))
        return sorted(children)


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (user + system), or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def resident_mib(pid: int) -> float | None:
    """A process's resident set size (VmRSS) in MiB, or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.M)
    return int(found.group(1)) / 1024 if found else None


# The stack ------------------------------------------------------------------------------


class Stack:
    """A temporary directory plus everything started in it, torn down in reverse order on exit.

    Use as a context manager. SIGTERM and SIGHUP become ``SystemExit`` while it is
    active, so cleanup runs for them as it does for Ctrl-C and for errors.
    """

    def __init__(self, *, keep: bool = False, log_lines: int = 30) -> None:
        self.keep = keep
        self.log_lines = log_lines
        self.workdir = Path(tempfile.mkdtemp(prefix="roadmap-stack-"))
        # Readable by nginx's workers (www-data) for the collected static files.
        self.workdir.chmod(0o755)
        self.servers: list[Server] = []
        self.extra_logs: list[tuple[str, Path]] = []
        self._cleanups: list[tuple[str, Callable[[], object]]] = []
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> Stack:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            self._previous_handlers[sig] = signal.signal(sig, self._exit_on_signal)
        return self

    @staticmethod
    def _exit_on_signal(signum: int, frame: object) -> None:
        say(f"Received {signal.Signals(signum).name}: cleaning up")
        raise SystemExit(128 + signum)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt | SystemExit):
            self.dump_logs()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            say("Interrupted: cleaning up")
        # A second Ctrl-C must not cut the cleanup short.
        previous_sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.close()
        finally:
            signal.signal(signal.SIGINT, previous_sigint)
            for sig, handler in self._previous_handlers.items():
                signal.signal(sig, handler)

    def on_close(self, description: str, callback: Callable[[], object]) -> None:
        self._cleanups.append((description, callback))

    def close(self) -> None:
        while self._cleanups:
            description, callback = self._cleanups.pop()
            try:
                callback()
            except Exception as error:  # noqa: BLE001 - keep cleaning up; report what was left behind
                say(f"! Cleanup step failed ({description}): {error}")
        if self.keep:
            say(f"Kept {self.workdir} (--keep)")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, server: Server) -> Server:
        if server not in self.servers:
            self.servers.append(server)
            self.on_close(f"stop {server.name}", server.stop)
        server.start()
        return server

    def dump_logs(self) -> None:
        logs = [(server.name, server.log) for server in self.servers] + self.extra_logs
        for name, path in logs:
            try:
                lines = path.read_text(errors="replace").splitlines()[-self.log_lines :]
            except FileNotFoundError:
                continue
            if not lines:
                continue
            print(f"\n----- last {len(lines)} lines of {name} ({path.name}) -----", file=sys.stderr)
            for line in lines:
                print(line, file=sys.stderr)
        sys.stderr.flush()

    def path(self, *parts: str) -> Path:
        target = self.workdir.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


# Certificates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificates(directory: Path, *, names: Iterable[str] = (SERVER_NAME,)) -> Certificates:
    """A CA that exists for one run, and a server certificate it signed for ``names`` and 127.0.0.1."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    san = ",".join([*(f"DNS:{name}" for name in names), "IP:127.0.0.1"])
    extensions.write_text(
        f"subjectAltName={san}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
    )
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl = shutil.which("openssl") or "openssl"
    run(
        [openssl, "req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
         "-subj", "/CN=Roadmap smoke-test CA (throw-away)",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        what="openssl: make the throw-away CA",
    )  # fmt: skip
    run(
        [openssl, "req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={next(iter(names))}"],
        what="openssl: make the server key",
    )
    run(
        [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-days", "2", "-out", str(cert), "-extfile", str(extensions)],
        what="openssl: sign the server certificate",
    )  # fmt: skip
    ca_key.unlink()  # nothing else is ever signed with it
    key.chmod(0o600)
    return Certificates(ca=ca, cert=cert, key=key)


# nginx -----------------------------------------------------------------------------------


def ensure_debian_package(binary: Path, package: str) -> None:
    """Install Debian's ``package`` when ``binary`` is missing (as root; otherwise say how)."""
    if binary.exists():
        return
    if os.geteuid() != 0:
        raise StackError(f"{binary} is missing; install it with: sudo apt-get install {package}")
    say(f"{binary.name} is not installed: apt-get install {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], what="apt-get update", env=env)
    run(["apt-get", "install", "-y", "-qq", package], what=f"apt-get install {package}", env=env)


def ensure_nginx() -> str:
    """Install Debian's nginx-light when nginx is missing; returns its version line."""
    ensure_debian_package(NGINX, "nginx-light")
    return run([str(NGINX), "-v"], what="nginx -v").removeprefix("nginx version: ")


def _nginx_user() -> str:
    """nginx's master runs as root here, so its workers need an unprivileged user (as in production)."""
    if os.geteuid() != 0:
        return ""  # the directive only applies to a root master
    try:
        pwd.getpwnam("www-data")
    except KeyError:
        return "user nobody nogroup;"
    return "user www-data;"


def start_nginx(
    stack: Stack,
    *,
    upstreams: list[str],
    http_port: int,
    https_port: int,
    certificates: Certificates,
    static_root: Path,
    media_root: Path,
) -> Server:
    """nginx in the foreground with a minimal main config around render-nginx-conf's site config."""
    if not RENDER_NGINX_CONF.exists():
        raise StackError(f"{RENDER_NGINX_CONF.relative_to(REPO)} is missing")
    for port in (http_port, https_port):
        if not port_is_free(port):
            raise StackError(f"Port {port} on 127.0.0.1 is in use; nginx needs it (see `ss -ltnp 'sport = :{port}'`)")
    prefix = stack.path("nginx", "site.conf").parent
    site = prefix / "site.conf"
    argv = [str(RENDER_NGINX_CONF), "--server-name", SERVER_NAME]
    for upstream in upstreams:
        argv += ["--upstream", upstream]
    argv += [
        "--http-port", str(http_port), "--https-port", str(https_port),
        "--cert", str(certificates.cert), "--key", str(certificates.key),
        "--static-root", str(static_root), "--media-root", str(media_root),
    ]  # fmt: skip
    site.write_text(loopback_only(run(argv, what="scripts/render-nginx-conf", env=clean_environ())) + "\n")
    main = prefix / "nginx.conf"
    main.write_text(nginx_main_config(prefix, site))
    (prefix / "temp").mkdir(exist_ok=True)
    base = [str(NGINX), "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c", str(main)]
    run([*base, "-t", "-q"], what=f"nginx -t ({main})")
    stack.extra_logs.append(("nginx error log", prefix / "error.log"))
    server = Server("nginx", base, env=clean_environ(), log=prefix / "stdout.log")
    server.error_log = prefix / "error.log"
    stack.start(server)
    wait_until(
        lambda: _tcp_open(https_port),
        what=f"nginx to listen on 127.0.0.1:{https_port}",
        server=server,
        timeout=15,
    )
    return server


def nginx_main_config(prefix: Path, site: Path, *, user: str | None = None, error_level: str = "warn") -> str:
    """The smallest main nginx.conf around a rendered site config, everything nginx writes kept in ``prefix``.

    ``user`` is the workers' user when the master runs as root (default:
    www-data, as in production).
    """
    temp = prefix / "temp"
    user_line = _nginx_user() if user is None else (f"user {user};" if user and os.geteuid() == 0 else "")
    return f"""# A minimal main config around the rendered {site.name} (scripts/_stack.py).
daemon off;
{user_line}
worker_processes 2;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log {error_level};
events {{
    worker_connections 512;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
"""


def loopback_only(config: str) -> str:
    """``listen PORT ...`` → ``listen 127.0.0.1:PORT ...``: the throw-away site is never reachable from outside."""
    config, count = re.subn(r"^(\s*listen\s+)(\d+)\b", r"\g<1>127.0.0.1:\2", config, flags=re.M)
    if count == 0 or re.search(r"^\s*listen\s+(?!127\.0\.0\.1:)", config, flags=re.M):
        raise StackError("The rendered nginx config has listen directives this script cannot keep on 127.0.0.1")
    return config


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool], *, what: str, server: Server | None = None, timeout: float = 30, interval: float = 0.1
) -> float:
    """Poll ``check`` until true; fail early if ``server`` exits. Returns the seconds waited."""
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if server is not None and not server.running():
            raise StackError(f"{server.name} exited (status {server.process.returncode}) while waiting for {what}")
        if time.monotonic() - started > timeout:
            raise StackError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# Django and gunicorn ----------------------------------------------------------------------


def production_env(
    stack: Stack,
    *,
    database_url: str,
    origin: str,
    redis_url: str | None = None,
    admin_url: str = "admin/",
) -> dict[str, str]:
    """The environment of a production deployment (.env.example), pointing at this run's resources."""
    host = urlsplit(origin).hostname or SERVER_NAME
    env = clean_environ()
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=f"{host},127.0.0.1",
        DJANGO_CSRF_TRUSTED_ORIGINS=origin,
        DJANGO_ADMIN_URL=admin_url,
        DJANGO_STATIC_ROOT=str(stack.path("static", ".keep").parent),
        DJANGO_MEDIA_ROOT=str(stack.path("media", ".keep").parent),
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def prepare_site(env: dict[str, str], *, superuser: tuple[str, str, str] | None = None) -> None:
    """What a deployment runs before starting the app servers: migrate, content, static files, an editor."""
    started = time.monotonic()
    manage(env, "migrate", "--no-input")
    manage(env, "loaddata", "roadmaps")
    collected = manage(env, "collectstatic", "--no-input")
    if superuser:
        username, email, password = superuser
        manage(
            {
                **env,
                "DJANGO_SUPERUSER_USERNAME": username,
                "DJANGO_SUPERUSER_EMAIL": email,
                "DJANGO_SUPERUSER_PASSWORD": password,
            },
            "createsuperuser",
            "--no-input",
        )
    summary = collected.splitlines()[-1] if collected else ""
    ok(
        f"Site prepared: migrate, loaddata roadmaps, collectstatic ({summary.rstrip('.')})"
        f"{', createsuperuser ' + superuser[0] if superuser else ''} in {time.monotonic() - started:.1f} s"
    )


def start_gunicorn(
    stack: Stack, name: str, *, port: int, env: dict[str, str], workers: int = 2, wait: bool = True
) -> Server:
    """``gunicorn -c gunicorn.conf.py`` on 127.0.0.1:port (again, if ``name`` ran before); see ``wait_healthy``."""
    if not GUNICORN_CONF.exists():
        raise StackError(f"{GUNICORN_CONF.relative_to(REPO)} is missing")
    if not port_is_free(port):
        raise StackError(f"Port {port} on 127.0.0.1 is in use; gunicorn ({name}) needs it")
    server = next((server for server in stack.servers if server.name == name), None)
    if server is None:
        server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers)}
        argv = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)]
        server = Server(name, argv, env=server_env, log=stack.path("logs", f"{name.replace(' ', '-')}.log"))
        server.port = port
    stack.start(server)
    if wait:
        wait_healthy(server)
    return server


def wait_healthy(server: Server, timeout: float = 30) -> float:
    """Wait until the app server answers /healthz; returns (and records) the seconds since it was started."""
    wait_until(
        lambda: probe(server.port, "/healthz") == 200, what=f"{server.name}'s /healthz", server=server, timeout=timeout
    )
    server.startup_seconds = time.monotonic() - server.started_at
    return server.startup_seconds


def probe(port: int, path: str) -> int | None:
    """Status of GET ``path`` straight from an app server (as nginx would ask), or None if unreachable."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": SERVER_NAME, "X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


# PostgreSQL and Redis ------------------------------------------------------------------------


def postgres_scratch_database(stack: Stack, *, server_url: str, name: str) -> str:
    """Create (or recreate) database ``name``, dropped again on close; returns its URL."""
    import psycopg
    from psycopg import sql

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in {"postgres", "template0", "template1", "test"}:
        raise StackError(f"Refusing to use {name!r} as a throw-away database")
    parts = urlsplit(server_url)

    def execute(statement: sql.Composed) -> None:
        try:
            with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as connection:
                connection.execute(statement)
        except psycopg.Error as error:
            raise StackError(f"PostgreSQL at {parts.hostname}:{parts.port or 5432}: {error}".strip()) from None

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    execute(drop)  # left over from a run that was killed
    execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    stack.on_close(f"drop database {name}", lambda: execute(drop))
    return parts._replace(path=f"/{name}").geturl()


def redis_scratch_db(stack: Stack, url: str) -> str:
    """Empty Redis database ``url`` (e.g. redis://127.0.0.1:6379/5) now and on close; returns the URL."""
    import redis

    if urlsplit(url).path.strip("/") in {"", "0"}:
        raise StackError(f"Refusing to flush Redis database 0 ({url}); give a dedicated number such as /5")
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as error:
        raise StackError(f"Redis at {url}: {error}") from None
    stack.on_close(f"flush {url}", client.flushdb)
    return url


# An HTTP client with cookies, CSRF and forms ----------------------------------------------------


@dataclass
class Response:
    status: int
    headers: Message
    text: str
    url: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class _CookieResponse:
    """What ``CookieJar.extract_cookies`` reads from a response."""

    def __init__(self, headers: Message) -> None:
        self._headers = headers

    def info(self) -> Message:
        return self._headers


@dataclass(frozen=True)
class Upstream:
    """An app server reached directly, bypassing nginx."""

    name: str
    port: int


class Browser:
    """One visitor of ``origin`` (https://localhost:PORT): a cookie jar and the headers a browser sends.

    Requests go through nginx over TLS (trusting ``ca``), or with ``via`` straight to one
    app server in plain HTTP with the headers nginx adds (Host, X-Forwarded-Proto), so
    cookies (``__Host-`` ones included: Secure, host-only, Path=/) and CSRF work the same
    either way. Without nginx (only ``via`` requests) no ``ca`` is needed.
    """

    def __init__(self, origin: str, *, ca: Path | None = None) -> None:
        self.origin = origin.rstrip("/")
        parts = urlsplit(self.origin)
        self.host, self.port = parts.hostname, parts.port or 443
        self.netloc = parts.netloc
        self.jar = http.cookiejar.CookieJar()
        self.tls = ssl.create_default_context(cafile=str(ca) if ca else None)

    def cookie_names(self) -> list[str]:
        return sorted(cookie.name for cookie in self.jar)

    def request(
        self,
        method: str,
        path: str,
        *,
        data: dict[str, str] | list[tuple[str, str]] | None = None,
        via: Upstream | None = None,
        referer: str | None = None,
    ) -> Response:
        url = self.origin + path
        cookie_request = urllib.request.Request(url, method=method)
        self.jar.add_cookie_header(cookie_request)
        headers = {
            "Host": self.netloc,
            "User-Agent": "roadmap-stack-smoke/1",
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
        }
        if cookie_request.has_header("Cookie"):
            headers["Cookie"] = cookie_request.get_header("Cookie")
        body = None
        if data is not None:
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + (referer or path)
        if via is None:
            connection = http.client.HTTPSConnection(self.host, self.port, context=self.tls, timeout=15)
        else:
            connection = http.client.HTTPConnection("127.0.0.1", via.port, timeout=15)
            headers["X-Forwarded-Proto"] = "https"
            headers["X-Forwarded-For"] = "127.0.0.1"
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            text = raw.read().decode("utf-8", errors="replace")
        except (OSError, http.client.HTTPException) as error:
            where = f"{via.name} (127.0.0.1:{via.port})" if via else f"nginx ({self.netloc})"
            raise StackError(f"{method} {path} via {where}: {type(error).__name__}: {error}") from None
        finally:
            connection.close()
        self.jar.extract_cookies(_CookieResponse(raw.msg), cookie_request)
        return Response(status=raw.status, headers=raw.msg, text=text, url=url)

    def get(self, path: str, *, via: Upstream | None = None, expect: int | None = 200) -> Response:
        response = self.request("GET", path, via=via)
        check_status(response, expect, via=via)
        return response

    def post(
        self,
        path: str,
        data: dict[str, str] | list[tuple[str, str]],
        *,
        via: Upstream | None = None,
        referer: str | None = None,
        expect: int | None = 302,
    ) -> Response:
        response = self.request("POST", path, data=data, via=via, referer=referer)
        check_status(response, expect, via=via)
        return response

    def log_in(self, path: str, *, username: str, password: str, via: Upstream | None = None) -> Response:
        """Fill in and submit the login form at ``path`` (the site's or the admin's); expects the redirect."""
        page = self.get(path, via=via)
        form = find_form(page.text, lambda form: "password" in form.names())
        form.set("username", username)
        form.set("password", password)
        response = self.post(form.action or path, form.fields, via=via, referer=path, expect=None)
        if response.status != 302:
            errors = re.findall(r'class="[^"]*(?:errornote|alert-danger|invalid-feedback)[^"]*"[^>]*>(.*?)<', page.text)
            raise StackError(
                f"Logging in as {username} at {path} answered {response.status}, not a redirect"
                + (f": {errors[0].strip()}" if errors else "")
            )
        return response


def check_status(response: Response, expect: int | None, *, via: Upstream | None = None) -> None:
    if expect is None or response.status == expect:
        return
    where = f"{via.name} directly" if via else "nginx"
    extra = f" → {response.location}" if response.location else ""
    raise StackError(
        f"{urlsplit(response.url).path} via {where}: HTTP {response.status}{extra}, expected {expect}"
        + (f"\n{_visible_text(response.text)[:600]}" if response.status >= 400 else "")
    )


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@dataclass
class Form:
    """A form's fields as a browser would submit them (before any submit button is added)."""

    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)

    @property
    def action(self) -> str:
        return self.attrs.get("action", "")

    def names(self) -> set[str]:
        return {name for name, _ in self.fields}

    def get(self, name: str) -> str | None:
        return next((value for key, value in self.fields if key == name), None)

    def set(self, name: str, value: str) -> None:
        if name not in self.names():
            raise StackError(f"The form has no field {name!r} (fields: {', '.join(sorted(self.names()))})")
        self.fields = [(key, value if key == name else old) for key, old in self.fields]


class _FormParser(HTMLParser):
    _SKIPPED_INPUTS = {"submit", "button", "reset", "image", "file"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, bool] | None = None
        self._options: list[tuple[str, bool]] = []
        self._option: tuple[dict[str, str | None], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self._form = Form({key: value or "" for key, value in attributes.items()})
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in attributes:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in self._SKIPPED_INPUTS or (kind in {"checkbox", "radio"} and "checked" not in attributes):
                return
            self._form.fields.append((name, attributes.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select, self._options = (name, "multiple" in attributes), []
        elif tag == "option" and self._select:
            self._finish_option()
            self._option = (attributes, [])

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._textarea[1].append(data)
        elif self._option:
            self._option[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea and self._form:
            name, parts = self._textarea
            # As in browsers, the newline right after <textarea> is not part of the value.
            self._form.fields.append((name, "".join(parts).removeprefix("\r").removeprefix("\n")))
            self._textarea = None
        elif tag == "option":
            self._finish_option()
        elif tag == "select" and self._select and self._form:
            self._finish_option()
            name, multiple = self._select
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not multiple and self._options:
                chosen = [self._options[0][0]]
            self._form.fields.extend((name, value) for value in chosen)
            self._select = None

    def _finish_option(self) -> None:
        if self._option:
            attributes, text = self._option
            value = attributes.get("value")
            self._options.append((value if value is not None else "".join(text).strip(), "selected" in attributes))
            self._option = None


def parse_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, match: Callable[[Form], bool]) -> Form:
    forms = parse_forms(html)
    for form in forms:
        if match(form):
            return form
    raise StackError(f"No matching form on the page (forms found: {[form.attrs for form in forms]})")
