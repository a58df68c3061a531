"""Shared by the deployment tests: they run the real programs (gunicorn, nginx,
the entrypoint, hadolint) as subprocesses, so they need no database of pytest's."""

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
# Variables of the calling shell that would change what is being tested.
_OWN_PREFIXES = ("DJANGO_", "GUNICORN_", "ROADMAP_")
_OWN_NAMES = {"DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "GUNICORN_CMD_ARGS"}


def clean_environ(**overrides: str) -> dict[str, str]:
    """This process's environment without the project's own settings, the virtualenv first on PATH."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_OWN_PREFIXES) and name not in _OWN_NAMES
    }
    environ["PATH"] = f"{VENV_BIN}{os.pathsep}{environ.get('PATH', '')}"
    return environ | overrides


def production_environ(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A production configuration (DEBUG off) with its database and files in ``tmp_path``."""
    production = {
        "DJANGO_SETTINGS_MODULE": "roadmap_site.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "deploy-tests-" + "s" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
    }
    return clean_environ(**(production | overrides))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(
    condition: Callable[[], bool], *, what: str, timeout: float = 20, alive: Callable[[], bool] | None = None
) -> None:
    """Poll ``condition`` until it holds; fail early if ``alive()`` turns false (the server died)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and not alive():
            raise AssertionError(f"gave up waiting for {what}: the process exited")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout}s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
