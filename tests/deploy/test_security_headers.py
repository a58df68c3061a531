"""Security headers and cookies on real pages of a real production server.

gunicorn runs with the production configuration (DEBUG off, SQLite in a temp
dir), and the tests talk to it as nginx does: plain HTTP on loopback with
``X-Forwarded-Proto: https``. Every page, the admin's included, must carry the
whole set; cookies must be ``__Host-`` prefixed, Secure and SameSite=Lax.
"""

import http.client
import json
import re
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import BASE_DIR
from tests.deploy.conftest import free_port, port_open, production_environ, wait_for

ADMIN_PASSWORD = "correct-horse-battery-staple"
EXPECTED_CSP = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "manifest-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "upgrade-insecure-requests": "",
}
HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
ANONYMOUS_PAGES = [
    "/",
    "/roadmaps/django-roadmap/",
    "/roadmaps/django-roadmap/django-orm-object-relational-mapping/",
    TOPIC,
    "/search/?q=queryset",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password_reset/",
    "/no-such-page/",
    "/admin/login/",
]
ADMIN_PAGES = [
    "/dashboard/",
    "/accounts/profile/",
    "/admin/",
    "/admin/roadmap/topic/",
    "/admin/roadmap/stage/1/change/",
]


class Server:
    """A production gunicorn and a browser-like client for it (cookies kept by name)."""

    def __init__(self, port: int, logs: Path) -> None:
        self.port = port
        self.logs = logs
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "", *, https: bool = True, **headers: str):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "localhost", **headers}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"https://localhost{path}"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            for morsel in SimpleCookie(header).values():
                self.cookies[morsel.key] = morsel.value
        connection.close()
        return response

    def log_in(self, url: str, username: str, password: str):
        form = self.request("GET", url)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        return self.request("POST", url, body)


def manage(env: dict, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stderr}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    port = free_port()
    env = production_environ(
        tmp_path,
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SUPERUSER_USERNAME="root",
        DJANGO_SUPERUSER_EMAIL="root@example.com",
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    manage(env, "collectstatic", "--no-input", "-v0")
    manage(env, "migrate", "--no-input", "-v0")
    manage(env, "loaddata", "roadmaps", "-v0")
    manage(env, "createsuperuser", "--no-input")
    logs = tmp_path / "server.log"
    with logs.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=BASE_DIR, env=env, stdout=log, stderr=log
        )
    try:
        wait_for(lambda: port_open(port), what="gunicorn", alive=lambda: process.poll() is None)
        yield Server(port, logs)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def admin(server):
    response = server.log_in("/admin/login/", "root", ADMIN_PASSWORD)
    assert response.status == 302, response.text[:500]
    return server


def csp_directives(value: str) -> dict[str, str]:
    directives = {}
    for part in value.split(";"):
        name, _, rest = part.strip().partition(" ")
        directives[name] = rest.strip()
    return directives


def assert_security_headers(response) -> None:
    assert csp_directives(response.headers["Content-Security-Policy"]) == EXPECTED_CSP
    for name, value in HEADERS.items():
        assert response.headers[name] == value, name
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_public_pages_carry_every_security_header(server, path):
    response = server.request("GET", path)

    assert response.status == (404 if path == "/no-such-page/" else 200)
    assert_security_headers(response)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_logged_in_and_admin_pages_carry_every_security_header(admin, path):
    response = admin.request("GET", path)

    assert response.status == 200, response.text[:300]
    assert_security_headers(response)
    assert "no-store" in response.headers["Cache-Control"]


def test_cookies_are_host_prefixed_secure_and_same_site(server):
    fresh = Server(server.port, server.logs)
    form = fresh.request("GET", "/accounts/login/")
    csrf = SimpleCookie(form.headers["Set-Cookie"])["__Host-csrftoken"]
    assert (csrf["secure"], csrf["httponly"], csrf["samesite"], csrf["path"], csrf["domain"]) == (
        True,
        True,
        "Lax",
        "/",
        "",
    )

    logged_in = fresh.log_in("/admin/login/", "root", ADMIN_PASSWORD)
    cookies = [SimpleCookie(header) for header in logged_in.headers.get_all("Set-Cookie")]
    session = next(cookie["__Host-sessionid"] for cookie in cookies if "__Host-sessionid" in cookie)
    assert (session["secure"], session["httponly"], session["samesite"], session["path"], session["domain"]) == (
        True,
        True,
        "Lax",
        "/",
        "",
    )


def test_plain_http_is_redirected_to_https(server):
    response = server.request("GET", "/roadmaps/?x=1", https=False)

    assert response.status == 301
    assert response.headers["Location"] == "https://localhost/roadmaps/?x=1"


def test_probes_answer_over_plain_http_on_the_instance_address(server):
    response = server.request("GET", "/healthz", https=False, Host=f"127.0.0.1:{server.port}")

    assert response.status == 200
    assert json.loads(response.text) == {"status": "ok"}


def test_logs_are_json_lines_without_passwords(admin):
    response = admin.request("GET", "/dashboard/")
    request_id = response.headers["X-Request-ID"]

    lines = [json.loads(line) for line in admin.logs.read_text().splitlines() if line.startswith("{")]
    entries = [
        line for line in lines if line.get("request_id") == request_id and line.get("logger") == "roadmap_site.request"
    ]
    assert len(entries) == 1
    (entry,) = entries
    assert entry["message"] == "GET /dashboard/ 200"
    assert entry["status"] == 200
    assert entry["user_id"] == 1
    assert entry["duration_ms"] > 0
    assert ADMIN_PASSWORD not in admin.logs.read_text()
