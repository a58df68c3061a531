"""Structured logs: one line per request with its id, the user, status and duration; no secrets."""

import io
import json
import logging

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from pythonjsonlogger.json import JsonFormatter

from roadmap_site.logging import RequestContextFilter
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def request_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "roadmap_site.request"]


def test_every_response_carries_a_request_id(client):
    first, second = client.get("/"), client.get("/")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_the_proxy_request_id_is_kept(client):
    response = client.get("/", HTTP_X_REQUEST_ID="0f9e8d7c6b5a49382716a5b4c3d2e1f0")
    assert response["X-Request-ID"] == "0f9e8d7c6b5a49382716a5b4c3d2e1f0"


@pytest.mark.parametrize("forged", ["two words", "x" * 65, "line\nbreak", ""])
def test_a_malformed_request_id_is_replaced(client, forged):
    response = client.get("/", HTTP_X_REQUEST_ID=forged)
    assert response["X-Request-ID"] != forged
    assert len(response["X-Request-ID"]) == 32


def test_one_line_per_request_with_user_status_and_duration(client, caplog):
    user = make_user(username="ada", password=PASSWORD)
    client.force_login(user)
    caplog.set_level(logging.INFO, logger="roadmap_site.request")

    response = client.get("/dashboard/")

    (record,) = request_records(caplog)
    assert record.getMessage() == "GET /dashboard/ 200"
    assert (record.method, record.path, record.status) == ("GET", "/dashboard/", 200)
    assert record.user_id == user.pk
    assert record.request_id == response["X-Request-ID"]
    assert record.duration_ms > 0


def test_health_checks_and_static_files_are_not_logged(client, caplog):
    caplog.set_level(logging.INFO, logger="roadmap_site.request")

    client.get("/healthz")
    client.get("/readyz")
    client.get(settings.STATIC_URL + "css/site.css")

    assert request_records(caplog) == []


def test_password_reset_tokens_are_redacted(client, caplog):
    caplog.set_level(logging.INFO, logger="roadmap_site.request")

    client.get("/accounts/reset/MQ/cb8kq4-0123456789abcdef0123456789abcdef/")

    (record,) = request_records(caplog)
    assert record.path == "/accounts/reset/MQ/<token>/"
    assert "0123456789abcdef" not in caplog.text


def test_passwords_never_reach_the_logs(client, caplog):
    make_user(username="ada", password=PASSWORD)
    caplog.set_level(logging.DEBUG)

    client.post("/accounts/login/", {"username": "ada", "password": "my-wrong-secret-guess"})
    assert "my-wrong-secret-guess" not in AccessAttempt.objects.get().post_data
    client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})

    assert "my-wrong-secret-guess" not in caplog.text
    assert PASSWORD not in caplog.text


def test_production_lines_are_json_with_the_request_context(client):
    """The formatter and filter of settings.LOGGING, on a line logged while a view runs."""
    config = settings.LOGGING["formatters"]["json"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(config["format"], rename_fields=config["rename_fields"]))
    handler.addFilter(RequestContextFilter())
    logger = logging.getLogger("roadmap_site.request")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        response = client.get("/")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)

    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["level"] == "INFO"
    assert line["logger"] == "roadmap_site.request"
    assert line["message"] == "GET / 200"
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] is None
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert "time" in line


def test_djangos_own_error_lines_carry_the_request_id(client, caplog):
    """django.request logs a 404 after the middleware has finished; the id still comes through."""
    caplog.set_level(logging.WARNING, logger="django.request")

    response = client.get("/no-such-page/")

    (record,) = [record for record in caplog.records if record.name == "django.request"]
    RequestContextFilter().filter(record)
    assert record.request_id == response["X-Request-ID"]
