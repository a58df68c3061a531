"""/healthz (liveness) and /readyz (readiness): answered before host checks, HTTPS redirects and sessions."""

import json
import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR
from tests.helpers import redis_cache


def test_healthz_is_up_without_touching_the_database(client):
    # No django_db mark: any query would raise.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_cache(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_on_any_host_and_over_plain_http(client, settings, path):
    """Load balancers and Docker probe the instance's own address, without TLS."""
    settings.ALLOWED_HOSTS = ["roadmaps.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path, HTTP_HOST="10.0.3.7:8000")

    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"


def test_probes_only_answer_get_and_head(client):
    assert client.head("/healthz").status_code == 200
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"] == "Use GET or HEAD."


@pytest.mark.django_db
def test_readyz_is_503_when_redis_is_unreachable(client, settings, caplog):
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "unavailable (ConnectionError)"},
    }
    assert "Readiness check 'cache' failed: ConnectionError" in caplog.text


READYZ_WITHOUT_DATABASE = """
import django
django.setup()
from django.test import Client
response = Client().get("/readyz")
print(response.status_code, response.content.decode())
"""


def test_readyz_is_503_when_the_database_is_unreachable():
    """A real connection attempt to a port where no PostgreSQL listens, in a fresh process."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "roadmap_site.settings",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "DJANGO_LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [sys.executable, "-c", READYZ_WITHOUT_DATABASE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503", result.stderr
    assert json.loads(body) == {
        "status": "unavailable",
        "checks": {"database": "unavailable (OperationalError)", "cache": "ok"},
    }
    assert "password" not in body
