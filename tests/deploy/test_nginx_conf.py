"""deploy/nginx.conf and scripts/render-nginx-conf.

The rendering tests need only Python. The others run a real nginx on loopback
ports around the rendered file, with a small Python app server behind it; they
skip where nginx is not installed (apt-get install nginx-light), unless
REQUIRE_NGINX=1 makes that a failure.
"""

import contextlib
import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR
from tests.deploy.conftest import clean_environ, free_port, port_open, wait_for

sys.path.insert(0, str(BASE_DIR / "scripts"))
import _stack  # scripts/ is not a package

TEMPLATE = BASE_DIR / "deploy" / "nginx.conf"
RENDER = BASE_DIR / "scripts" / "render-nginx-conf"
PLACEHOLDERS = {
    "ROADMAP_SERVER_NAME",
    "ROADMAP_UPSTREAMS",
    "ROADMAP_HTTP_PORT",
    "ROADMAP_HTTPS_PORT",
    "ROADMAP_TLS_CERT",
    "ROADMAP_TLS_KEY",
    "ROADMAP_STATIC_ROOT",
    "ROADMAP_MEDIA_ROOT",
}
HASHED_CSS = "site.0123456789ab.css"


def render(cwd: Path, *options: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(RENDER), *options],
        cwd=cwd,
        env=clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def required(tmp_path: Path) -> list[str]:
    return ["--cert", str(tmp_path / "cert.pem"), "--key", str(tmp_path / "key.pem")]


# The template and the render script -----------------------------------------------------


def test_template_uses_exactly_the_documented_placeholders():
    template = TEMPLATE.read_text()
    assert set(re.findall(r"\$\{(\w+)\}", template)) == PLACEHOLDERS
    # envsubst would also replace the brace-less spelling; the render script would not.
    assert not re.search(r"\$ROADMAP_", template)


def test_render_fills_in_the_placeholders_and_leaves_nginx_variables(tmp_path):
    result = render(
        tmp_path,
        *required(tmp_path),
        "--server-name",
        "roadmaps.example.com www.roadmaps.example.com",
        "--upstream",
        "10.0.0.5:8000",
        "--upstream",
        "[::1]:8001",
        "--https-port",
        "8443",
        "--static-root",
        "static",
        "--media-root",
        "/srv/media/",
    )
    assert result.returncode == 0, result.stderr
    conf = result.stdout
    assert "${" not in conf
    assert "server 10.0.0.5:8000 max_fails=1 fail_timeout=5s;" in conf
    assert "server [::1]:8001 max_fails=1 fail_timeout=5s;" in conf
    assert "server_name roadmaps.example.com www.roadmaps.example.com;" in conf
    assert "listen 8443 ssl http2;" in conf
    assert "listen 80;" in conf
    # Relative paths are made absolute from the caller's directory, not nginx's prefix.
    assert f"alias {tmp_path / 'static'}/;" in conf
    assert "alias /srv/media/;" in conf
    assert f"ssl_certificate     {tmp_path / 'cert.pem'};" in conf
    for variable in ("$host", "$http_host", "$request_uri", "$request_id", "$scheme", "$proxy_add_x_forwarded_for"):
        assert variable in conf


def test_render_falls_back_to_the_environment(tmp_path):
    result = render(
        tmp_path,
        ROADMAP_SERVER_NAME="example.org",
        ROADMAP_UPSTREAMS="server web:8000;",
        ROADMAP_HTTP_PORT="8080",
        ROADMAP_HTTPS_PORT="8443",
        ROADMAP_TLS_CERT="/etc/certs/fullchain.pem",
        ROADMAP_TLS_KEY="/etc/certs/privkey.pem",
        ROADMAP_STATIC_ROOT="/srv/static",
        ROADMAP_MEDIA_ROOT="/srv/media",
    )
    assert result.returncode == 0, result.stderr
    assert "server web:8000;" in result.stdout
    assert "listen 8080;" in result.stdout
    assert "ssl_certificate_key /etc/certs/privkey.pem;" in result.stdout
    # An option still wins over the environment.
    again = render(
        tmp_path, "--https-port", "9443", ROADMAP_HTTPS_PORT="8443", ROADMAP_TLS_CERT="/c", ROADMAP_TLS_KEY="/k"
    )
    assert "listen 9443 ssl http2;" in again.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--key", "/k"], "ROADMAP_TLS_CERT is missing: give --cert or set ROADMAP_TLS_CERT"),
        (["--cert", "/c"], "ROADMAP_TLS_KEY is missing: give --key or set ROADMAP_TLS_KEY"),
        (["--cert", "/c", "--key", "/k", "--upstream", "web"], "--upstream must be HOST:PORT"),
        (["--cert", "/c", "--key", "/k", "--https-port", "0"], "ROADMAP_HTTPS_PORT must be a port number"),
        (["--cert", "/c", "--key", "/k", "--server-name", "a; include /etc/x"], "ROADMAP_SERVER_NAME must be"),
        (["--cert", "/c", "--key", "/k", "--media-root", "/srv/a b"], "ROADMAP_MEDIA_ROOT must be a path"),
    ],
)
def test_render_refuses_missing_or_malformed_values(tmp_path, options, message):
    result = render(tmp_path, *options)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_envsubst_renders_the_same_file(tmp_path):
    """The official nginx image renders templates with envsubst, limited to the ROADMAP_ variables."""
    envsubst = shutil.which("envsubst")
    if envsubst is None:
        pytest.skip("envsubst (gettext-base) is not installed")
    env = {
        "ROADMAP_SERVER_NAME": "localhost",
        "ROADMAP_UPSTREAMS": "server web:8000;",
        "ROADMAP_HTTP_PORT": "80",
        "ROADMAP_HTTPS_PORT": "443",
        "ROADMAP_TLS_CERT": "/etc/nginx/certs/fullchain.pem",
        "ROADMAP_TLS_KEY": "/etc/nginx/certs/privkey.pem",
        "ROADMAP_STATIC_ROOT": "/srv/roadmap/static",
        "ROADMAP_MEDIA_ROOT": "/srv/roadmap/media",
    }
    # What the image's 20-envsubst-on-templates.sh passes: the defined, filtered names.
    shell_format = " ".join(f"${{{name}}}" for name in env)
    with TEMPLATE.open() as template:
        by_envsubst = subprocess.run(
            [envsubst, shell_format],
            stdin=template,
            env=clean_environ(**env),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    by_script = render(tmp_path, **env)
    assert by_script.returncode == 0, by_script.stderr
    assert by_envsubst == by_script.stdout


# nginx itself ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        message = "nginx is not installed (apt-get install nginx-light)."
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail(message + " REQUIRE_NGINX=1 makes this a failure.", pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, valid for a day."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass
class Site:
    http_port: int
    https_port: int
    static_root: Path
    media_root: Path
    certificate: Path

    def tls_context(self, *protocols: str) -> ssl.SSLContext:
        """Verifies nginx against the test certificate; offers ``protocols`` by ALPN."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        if protocols:
            context.set_alpn_protocols(list(protocols))
        return context

    def request(self, method: str, path: str, body: bytes | None = None, **headers: str) -> http.client.HTTPResponse:
        """An HTTP/1.1 request over TLS; ``X_Request_ID="x"`` sends ``X-Request-ID: x``."""
        connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.tls_context(), timeout=10)
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response


def main_config(directory: Path, site_conf: Path) -> Path:
    """The scripts' minimal nginx.conf around the site file, everything nginx writes kept in ``directory``."""
    (directory / "temp").mkdir()
    main = directory / "nginx.conf"
    # Run as root, nginx would start its workers as an unprivileged user, who
    # cannot read pytest's private temporary directories.
    main.write_text(_stack.nginx_main_config(directory, site_conf, user="root", error_level="info"))
    return main


@contextlib.contextmanager
def running_nginx(nginx_binary: str, certificate, directory: Path, upstreams: list[int]) -> Iterator[Site]:
    cert, key = certificate
    http_port, https_port = free_port(), free_port()
    static_root, media_root = directory / "static", directory / "media"
    static_root.mkdir(parents=True, exist_ok=True)
    media_root.mkdir(exist_ok=True)
    options = [f"--upstream=127.0.0.1:{port}" for port in upstreams]
    rendered = render(
        directory,
        *options,
        f"--http-port={http_port}",
        f"--https-port={https_port}",
        f"--cert={cert}",
        f"--key={key}",
        f"--static-root={static_root}",
        f"--media-root={media_root}",
    )
    assert rendered.returncode == 0, rendered.stderr
    site_conf = directory / "roadmap.conf"
    site_conf.write_text(rendered.stdout)
    main = main_config(directory, site_conf)
    command = [nginx_binary, "-p", f"{directory}/", "-e", str(directory / "error.log"), "-c", str(main)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stderr
    with (directory / "nginx.out").open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: port_open(https_port), what="nginx", timeout=15, alive=lambda: process.poll() is None)
        yield Site(http_port, https_port, static_root, media_root, cert)
    finally:
        process.send_signal(signal.SIGQUIT)  # graceful
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class EchoHandler(http.server.BaseHTTPRequestHandler):
    """An app server that answers with what it was sent, as JSON."""

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": dict(self.headers.items()),
                "body": self.rfile.read(length).decode(),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def dropping_server() -> Iterator[tuple[int, list[bytes]]]:
    """An app server that reads each request and hangs up without answering (a crashed worker)."""
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], received
    finally:
        listener.close()


@pytest.fixture(scope="module")
def site(nginx_binary, certificate, tmp_path_factory) -> Iterator[Site]:
    """nginx with a stopped app server (nothing listens) ahead of a working one."""
    with (
        echo_server() as app_port,
        running_nginx(nginx_binary, certificate, tmp_path_factory.mktemp("nginx"), [free_port(), app_port]) as site,
    ):
        css = site.static_root / "css"
        css.mkdir()
        (css / HASHED_CSS).write_text("body { color: #123456; }\n" * 20)
        (css / f"{HASHED_CSS}.gz").write_bytes(gzip.compress((css / HASHED_CSS).read_bytes()))
        (css / "site.css").write_text("body { color: #123456; }\n")
        avatars = site.media_root / "avatars"
        avatars.mkdir()
        (avatars / "a1b2.webp").write_bytes(b"RIFF\x00\x00\x00\x00WEBPVP8 ")
        (avatars / "evil.html").write_text("<script>alert(1)</script>")
        (avatars / "evil.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
        yield site


def test_nginx_accepts_the_rendered_configuration(site):
    # The fixture ran `nginx -t` and started it; here, the protocol it speaks.
    with socket.create_connection(("127.0.0.1", site.https_port)) as raw:
        with site.tls_context("h2", "http/1.1").wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            assert tls.version() in {"TLSv1.2", "TLSv1.3"}
            assert tls.selected_alpn_protocol() == "h2"


def test_plain_http_redirects_to_the_same_url_over_https(site):
    connection = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=10)
    connection.request("GET", "/roadmaps/python/?page=2")
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{site.https_port}/roadmaps/python/?page=2"
    assert "nginx/" not in (response.getheader("Server") or "")  # server_tokens off


def test_app_gets_the_client_host_scheme_and_a_request_id(site):
    response = site.request("GET", "/accounts/login/", X_Request_ID="client-made", X_Forwarded_Ssl="off")
    assert response.status == 200
    seen = json.loads(response.body)["headers"]
    # Host keeps the port: Django's CSRF check compares it with the form's Origin.
    assert seen["Host"] == f"127.0.0.1:{site.https_port}"
    assert seen["X-Forwarded-Proto"] == "https"
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", seen["X-Request-ID"])
    assert "X-Forwarded-Ssl" not in seen
    # Security headers of app responses are Django's business, not added here.
    assert response.getheader("Strict-Transport-Security") is None


def test_a_stopped_app_server_costs_no_request_not_even_a_post(site):
    # The first app server refuses connections: nginx retries on the next one,
    # a POST too, since it never reached an app.
    statuses = [site.request("POST", "/accounts/login/", body=b"username=ada").status for _ in range(4)]
    statuses += [site.request("GET", "/").status for _ in range(4)]
    assert statuses == [200] * 8


def test_a_request_that_reached_an_app_is_retried_only_if_safe(nginx_binary, certificate, tmp_path):
    with echo_server() as app_port, dropping_server() as (dropper_port, received):
        with running_nginx(nginx_binary, certificate, tmp_path / "get", [dropper_port, app_port]) as site:
            response = site.request("GET", "/roadmaps/")
            assert len(received) == 1  # the dropper had it first
            assert response.status == 200
            assert json.loads(response.body)["path"] == "/roadmaps/"
        with running_nginx(nginx_binary, certificate, tmp_path / "post", [dropper_port, app_port]) as site:
            response = site.request("POST", "/accounts/login/", body=b"username=ada")
            assert len(received) == 2
            # The app may have acted on it: nginx must not send it again.
            assert response.status == 502


def test_hashed_static_files_are_cached_for_good_and_precompressed(site):
    response = site.request("GET", f"/static/css/{HASHED_CSS}", Accept_Encoding="gzip")
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=315360000, immutable"
    assert response.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(response.body) == (site.static_root / "css" / HASHED_CSS).read_bytes()
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains; preload"


def test_unhashed_static_files_are_cached_briefly(site):
    response = site.request("GET", "/static/css/site.css")
    assert response.status == 200
    assert response.getheader("Cache-Control") == "public, max-age=60"
    assert response.getheader("X-Content-Type-Options") == "nosniff"


def test_static_files_missing_here_come_from_the_app(site):
    response = site.request("GET", "/static/css/site.fedcba987654.css")
    assert response.status == 200
    assert json.loads(response.body)["path"] == "/static/css/site.fedcba987654.css"


def test_media_images_are_served_as_inert_images(site):
    response = site.request("GET", "/media/avatars/a1b2.webp")
    assert response.status == 200
    assert response.getheader("Content-Type") == "image/webp"
    assert response.getheader("Content-Security-Policy") == "default-src 'none'; sandbox"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    assert response.getheader("Strict-Transport-Security") == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.parametrize("path", ["/media/avatars/evil.html", "/media/avatars/evil.svg", "/media/avatars/", "/media/"])
def test_media_never_serves_anything_but_images(site, path):
    response = site.request("GET", path)
    assert response.status == 404
    assert b"alert" not in response.body


def test_uploads_over_the_limit_are_refused_before_the_app(site):
    response = site.request("POST", "/accounts/profile/", body=b"x" * (5 * 1024 * 1024 + 1))
    assert response.status == 413
