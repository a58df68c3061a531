"""While the database cannot be reached, pages answer 503 with Retry-After, and the failure is still logged.

The soak test (scripts/soak) restarts a real PostgreSQL under load; these tests
pin down the answer itself.
"""

import logging
import subprocess
import sys

import pytest
from bs4 import BeautifulSoup
from django.db import InterfaceError, OperationalError

from tests.conftest import BASE_DIR
from tests.helpers import text


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("closed")])
def test_a_lost_database_is_a_503_that_asks_to_retry(client, db, monkeypatch, caplog, error):
    def unreachable(**kwargs):
        raise error

    monkeypatch.setattr("roadmap.selectors.roadmap_list", unreachable)
    client.raise_request_exception = False

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    soup = BeautifulSoup(response.content, "html.parser")
    assert text(soup.h1) == "The site is briefly unavailable"
    assert "Everything you saved before is safe" in text(soup.main)
    # Still an error for whoever runs the site, with the traceback.
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.levelno == logging.ERROR and record.exc_info[0] is type(error)


def test_other_server_errors_stay_500(client, db, monkeypatch):
    def broken(**kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr("roadmap.selectors.roadmap_list", broken)
    client.raise_request_exception = False

    response = client.get("/")

    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Something went wrong on our side" in response.content.decode()


PAGE_WITHOUT_DATABASE = """
import django
django.setup()
from django.test import Client
response = Client(raise_request_exception=False).get("/roadmaps/django-roadmap/", secure=True)
print(response.status_code, response.get("Retry-After"))
"""


def test_pages_are_503_when_the_database_is_unreachable():
    """A real connection attempt to a port where no PostgreSQL listens, in a fresh process (no test database)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "roadmap_site.test_settings",  # production code paths, static files from finders
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "DJANGO_LOG_FORMAT": "json",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-" + "x" * 50,
    }
    result = subprocess.run(
        [sys.executable, "-c", PAGE_WITHOUT_DATABASE], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.stdout.split() == ["503", "5"], result.stderr
    assert '"level": "ERROR"' in result.stderr and "OperationalError" in result.stderr
