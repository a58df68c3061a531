"""Settings come from the environment, with safe development defaults."""

import os
import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR


def run_check(**env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    environ |= {"DJANGO_SETTINGS_MODULE": "roadmap_site.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=60
    )


def test_development_defaults_need_no_environment():
    result = run_check()
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_SECRET_KEY": "x" * 50}, "DJANGO_ALLOWED_HOSTS must be set"),
        ({"DJANGO_ALLOWED_HOSTS": "example.com"}, "DJANGO_SECRET_KEY must be set"),
    ],
)
def test_production_refuses_to_start_without_secret_key_and_hosts(env, missing):
    result = run_check(DJANGO_DEBUG="0", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_starts_with_its_environment():
    result = run_check(DJANGO_DEBUG="0", DJANGO_SECRET_KEY="s" * 60, DJANGO_ALLOWED_HOSTS="roadmaps.example.com")
    assert result.returncode == 0, result.stderr


def test_bad_boolean_is_a_clear_error():
    result = run_check(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr
