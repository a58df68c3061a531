"""gunicorn.conf.py: defaults, environment overrides, and the JSON access log."""

import io
import json
import os
import runpy
import subprocess
import sys
from datetime import timedelta
from types import ModuleType, SimpleNamespace

import pytest
from gunicorn.config import Config

from tests.conftest import BASE_DIR
from tests.deploy.conftest import clean_environ

CONF = BASE_DIR / "gunicorn.conf.py"


@pytest.fixture
def load(monkeypatch):
    """Run gunicorn.conf.py under the given variables (and no other GUNICORN_* ones); return its names."""

    def load(**env: str) -> dict:
        for name in [name for name in os.environ if name.startswith("GUNICORN_") or name == "WEB_CONCURRENCY"]:
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(CONF))

    return load


def gunicorn_config(namespace: dict) -> Config:
    """Apply the module's settings the way gunicorn does, validators included."""
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_production_defaults(load):
    conf = load()
    assert conf["wsgi_app"] == "roadmap_site.wsgi:application"
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert conf["workers"] == 2 * conf["_cpu_count"]() + 1
    assert (conf["threads"], conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (1, 30, 30, 5)
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (1000, 100)
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert (conf["accesslog"], conf["errorlog"]) == ("-", "-")
    assert conf["control_socket_disable"] is True
    assert conf["preload_app"] is True


def test_environment_overrides_every_default(load):
    conf = load(
        GUNICORN_BIND="127.0.0.1:8001, [::1]:8001",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="4",
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_KEEPALIVE="10",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_MAX_REQUESTS_JITTER="0",
        GUNICORN_FORWARDED_ALLOW_IPS="*",
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_CONTROL_SOCKET="/run/roadmap/gunicorn.ctl",
        GUNICORN_PRELOAD="0",
    )
    assert conf["bind"] == ["127.0.0.1:8001", "[::1]:8001"]
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["graceful_timeout"]) == (3, 4, 60, 20)
    assert (conf["keepalive"], conf["max_requests"], conf["max_requests_jitter"]) == (10, 0, 0)
    assert conf["forwarded_allow_ips"] == "*"
    assert conf["loglevel"] == "warning"
    assert conf["control_socket_disable"] is False
    assert conf["control_socket"] == "/run/roadmap/gunicorn.ctl"
    assert conf["preload_app"] is False


def test_hosting_platforms_worker_count_is_a_fallback(load):
    assert load(WEB_CONCURRENCY="7")["workers"] == 7
    assert load(WEB_CONCURRENCY="7", GUNICORN_WORKERS="3")["workers"] == 3


def test_an_empty_control_socket_path_keeps_it_off(load):
    assert load(GUNICORN_CONTROL_SOCKET=" ")["control_socket_disable"] is True


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GUNICORN_WORKERS", "many", "GUNICORN_WORKERS must be a whole number; got 'many'."),
        ("GUNICORN_TIMEOUT", "30s", "GUNICORN_TIMEOUT must be a whole number; got '30s'."),
        ("GUNICORN_WORKERS", "0", "GUNICORN_WORKERS must be at least 1; got 0."),
        ("GUNICORN_MAX_REQUESTS", "-5", "GUNICORN_MAX_REQUESTS must be at least 0; got -5."),
    ],
)
def test_bad_numbers_name_the_variable(load, name, value, message):
    with pytest.raises(ValueError) as error:
        load(**{name: value})
    assert str(error.value) == message


def test_gunicorn_stops_on_a_bad_number_before_serving():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "--check-config"],
        env=clean_environ(GUNICORN_KEEPALIVE="five"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "GUNICORN_KEEPALIVE must be a whole number; got 'five'." in result.stderr


def test_gunicorn_accepts_the_configuration_from_any_directory(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "--check-config"],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_setting_is_one_gunicorn_knows(load):
    # gunicorn silently ignores unknown names, so a typo would go unnoticed.
    conf = load()
    names = {
        name
        for name, value in conf.items()
        if name.islower() and not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert names - Config().settings.keys() == set()
    config = gunicorn_config(conf)
    assert config.workers == conf["workers"]
    assert config.logger_class is conf["AccessLogger"]


@pytest.mark.parametrize(("cpu_max", "expected"), [("max 100000", 8), ("150000 100000", 2), ("50000 100000", 1)])
def test_worker_count_follows_the_container_cpu_quota(load, monkeypatch, tmp_path, cpu_max, expected):
    conf = load()
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    assert conf["_cpu_count"](tmp_path / "cpu.max") == expected
    assert conf["_cpu_count"](tmp_path / "missing") == 8


# Access log --------------------------------------------------------------------------


@pytest.fixture
def access_log(load):
    """Log one request through the configured logger; return the access log's lines."""
    conf = load()
    logger = gunicorn_config(conf).logger_class(gunicorn_config(conf))
    # gunicorn's own handler (accesslog = "-"), writing to a buffer instead of stdout.
    (handler,) = (handler for handler in logger.access_log.handlers if getattr(handler, "_gunicorn", False))
    buffer = io.StringIO()
    handler.setStream(buffer)

    def access_log(path: str, *, status: str = "200 OK", user_agent: str = "pytest", query: str = "") -> list[str]:
        response = SimpleNamespace(status=status, headers=[("X-Request-ID", "abc123")], sent=512)
        request = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.7, 127.0.0.1"), ("USER-AGENT", user_agent)])
        environ = {
            "REQUEST_METHOD": "GET",
            "RAW_URI": f"{path}?{query}" if query else path,
            "SERVER_PROTOCOL": "HTTP/1.0",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": user_agent,
        }
        start = buffer.tell()
        logger.access(response, request, environ, timedelta(milliseconds=12, microseconds=345))
        return buffer.getvalue()[start:].splitlines()

    yield access_log
    for log in (logger.access_log, logger.error_log):
        for handler in [handler for handler in log.handlers if getattr(handler, "_gunicorn", False)]:
            log.removeHandler(handler)


def test_access_log_is_one_json_object_per_request(access_log):
    (line,) = access_log("/roadmaps/python/", query="page=2")
    entry = json.loads(line)
    assert entry == {
        "time": entry["time"],
        "request_id": "abc123",
        "remote_addr": "127.0.0.1",
        "forwarded_for": "203.0.113.7, 127.0.0.1",
        "method": "GET",
        "path": "/roadmaps/python/",
        "query": "page=2",
        "protocol": "HTTP/1.0",
        "status": 200,
        "bytes": 512,
        "duration_us": 12345,
        "referer": None,
        "user_agent": "pytest",
    }
    assert entry["time"].endswith("+00:00")


def test_access_log_stays_valid_json_whatever_the_client_sends(access_log):
    nasty = 'Mozilla "quoted" \\ back\\slash \x1b[31m control\ttab'
    (line,) = access_log("/", user_agent=nasty)
    assert json.loads(line)["user_agent"] == nasty


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_access_log_leaves_out_successful_health_probes(access_log, path):
    assert access_log(path) == []
    assert access_log(path, status="204 No Content") == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_access_log_keeps_failing_health_probes(access_log, path):
    (line,) = access_log(path, status="503 Service Unavailable")
    assert json.loads(line)["status"] == 503


@pytest.mark.parametrize("path", ["/", "/healthz/", "/accounts/healthz", "/readyz.json"])
def test_access_log_keeps_every_other_path(access_log, path):
    (line,) = access_log(path)
    assert json.loads(line)["path"] == path


def test_access_log_never_holds_a_password_reset_token(access_log):
    (line,) = access_log("/accounts/reset/MQ/cb8kq4-0123456789abcdef0123456789abcdef/")
    assert json.loads(line)["path"] == "/accounts/reset/MQ/<token>/"
    assert "0123456789abcdef" not in line
