"""docker-compose.yml wires the services together the way the deployment needs.

No Docker engine here: the file is read as YAML (PyYAML from the virtualenv,
or the system Python's) and its structure checked. Skipped without PyYAML.
"""

import json
import shutil
import subprocess

import pytest

from tests.conftest import BASE_DIR
from tests.deploy.test_nginx_conf import PLACEHOLDERS

COMPOSE = BASE_DIR / "docker-compose.yml"


def load_yaml() -> dict:
    try:
        import yaml  # optional: not a project requirement
    except ImportError:
        pass
    else:
        return yaml.safe_load(COMPOSE.read_text())
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if system_python:
        result = subprocess.run(
            [system_python, "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
            stdin=COMPOSE.open(),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode == 0:
            return json.loads(result.stdout)
        if "No module named 'yaml'" not in result.stderr:
            pytest.fail(f"docker-compose.yml does not parse:\n{result.stderr}")
    pytest.skip("PyYAML is not installed (pip install pyyaml, or apt-get install python3-yaml)")


@pytest.fixture(scope="module")
def services() -> dict:
    return load_yaml()["services"]


def test_defines_the_four_services(services):
    assert set(services) == {"web", "db", "redis", "nginx"}


def test_web_starts_once_its_database_and_cache_are_healthy(services):
    web = services["web"]
    assert web["build"] == "."
    assert web["env_file"] == ".env"
    assert web["depends_on"] == {"db": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    environment = web["environment"]
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["DJANGO_MIGRATE"] == "1"
    # The image's own directories, whatever .env says for a deployment without Docker.
    assert (environment["DJANGO_STATIC_ROOT"], environment["DJANGO_MEDIA_ROOT"]) == ("/app/staticfiles", "/app/media")
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    # Longer than gunicorn's 30 s graceful timeout.
    assert int(web["stop_grace_period"].removesuffix("s")) > 30


def test_database_and_cache_report_their_health(services):
    assert "pg_isready" in services["db"]["healthcheck"]["test"]
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["db"]["volumes"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]


def test_nginx_renders_the_site_template_with_every_placeholder(services):
    nginx = services["nginx"]
    assert "./deploy/nginx.conf:/etc/nginx/templates/default.conf.template:ro" in nginx["volumes"]
    assert any(volume.startswith("./deploy/certs:") for volume in nginx["volumes"])
    assert set(nginx["ports"]) == {"80:80", "443:443"}
    environment = nginx["environment"]
    assert PLACEHOLDERS <= environment.keys()
    assert environment["NGINX_ENVSUBST_FILTER"] == "^ROADMAP_"
    assert "server web:8000" in environment["ROADMAP_UPSTREAMS"]
    assert nginx["depends_on"] == {"web": {"condition": "service_healthy"}}


def test_media_volume_is_shared_read_only_with_nginx(services):
    assert "media:/app/media" in services["web"]["volumes"]
    media_root = services["nginx"]["environment"]["ROADMAP_MEDIA_ROOT"]
    assert f"media:{media_root}:ro" in services["nginx"]["volumes"]
