"""The production app server: gunicorn with gunicorn.conf.py and DEBUG off serves
the collected static files itself (WhiteNoise), hashed, compressed and cached for good.

One gunicorn for the module, after a real ``collectstatic`` and ``migrate`` in
a temporary directory.
"""

import http.client
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import BASE_DIR
from tests.deploy.conftest import free_port, production_environ, wait_for

SITE_CSS = re.compile(r"^/static/css/site\.([0-9a-f]{12})\.css$")


@dataclass
class AppServer:
    port: int
    static_root: Path
    access_log: Path

    def get(self, path: str, **headers: str) -> http.client.HTTPResponse:
        """A request as nginx would pass it on: over HTTPS, as far as Django can tell."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"X-Forwarded-Proto": "https", **{key.replace("_", "-"): value for key, value in headers.items()}}
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response


def manage(env: dict[str, str], *arguments: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(arguments)}:\n{result.stdout}\n{result.stderr}"


def healthy(server: AppServer) -> bool:
    try:
        return server.get("/healthz").status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> Iterator[AppServer]:
    directory = tmp_path_factory.mktemp("app")
    env = production_environ(directory, DJANGO_STATIC_ROOT=str(directory / "static"), DJANGO_SECURE_SSL_REDIRECT="0")
    manage(env, "collectstatic", "--no-input")
    manage(env, "migrate", "--no-input")
    server = AppServer(free_port(), directory / "static", directory / "access.log")
    env |= {"GUNICORN_BIND": f"127.0.0.1:{server.port}", "GUNICORN_WORKERS": "1"}
    with server.access_log.open("w") as stdout, (directory / "error.log").open("w") as stderr:
        # From another directory: gunicorn.conf.py points gunicorn at the project.
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(BASE_DIR / "gunicorn.conf.py")],
            cwd=directory,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        wait_for(lambda: healthy(server), what="gunicorn", timeout=60, alive=lambda: process.poll() is None)
        yield server
    finally:
        # SIGTERM is gunicorn's graceful shutdown, as from `docker stop`.
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        assert returncode == 0, (directory / "error.log").read_text()


@pytest.fixture(scope="module")
def site_css(app_server) -> str:
    """The URL of the site's stylesheet, as the home page links it."""
    response = app_server.get("/")
    assert response.status == 200, response.body[:500]
    hrefs = [link["href"] for link in BeautifulSoup(response.body, "html.parser").select('link[rel="stylesheet"]')]
    (href,) = [href for href in hrefs if "/css/site." in href]
    return href


def test_pages_link_the_hashed_stylesheet(site_css):
    assert SITE_CSS.match(site_css), site_css


def test_hashed_stylesheet_is_cached_for_good(app_server, site_css):
    response = app_server.get(site_css)
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/css")
    cache_control = response.getheader("Cache-Control")
    assert "max-age=315360000" in cache_control
    assert "immutable" in cache_control


@pytest.mark.parametrize(("accept", "encoding"), [("br", "br"), ("gzip", "gzip"), ("gzip, deflate, br", "br")])
def test_stylesheet_is_sent_compressed(app_server, site_css, accept, encoding):
    response = app_server.get(site_css, Accept_Encoding=accept)
    assert response.status == 200
    assert response.getheader("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.getheader("Vary")


def test_collectstatic_wrote_compressed_copies(app_server, site_css):
    stylesheet = app_server.static_root / site_css.removeprefix("/static/")
    assert stylesheet.is_file()
    assert stylesheet.with_name(stylesheet.name + ".br").is_file()
    assert stylesheet.with_name(stylesheet.name + ".gz").is_file()


def test_access_log_has_json_lines_without_health_probes(app_server):
    app_server.get("/healthz")
    response = app_server.get("/?from=access-log-test")
    assert response.status == 200
    request_id = response.getheader("X-Request-ID")
    # Worker output is line-buffered, but give it a moment to reach the file.
    lines: list[dict] = []

    def logged() -> bool:
        lines[:] = [json.loads(line) for line in app_server.access_log.read_text().splitlines() if line.startswith("{")]
        return any(line["query"] == "from=access-log-test" for line in lines)

    wait_for(logged, what="the access log line", timeout=10)
    (entry,) = [line for line in lines if line["query"] == "from=access-log-test"]
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/", 200)
    assert entry["request_id"] == request_id
    assert not [line for line in lines if line["path"] in {"/healthz", "/readyz"}]
