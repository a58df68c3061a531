"""Settings come from the environment, with safe development defaults."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import BASE_DIR


def run_check(**env: str) -> subprocess.CompletedProcess:
    return run_manage("check", **env)


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


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3v!Qz8#pL2@wX9$mN4%rT7^yB1&cF6*hJ0(dG5)sA-eU_iO+oP=lK~",
    "DJANGO_ALLOWED_HOSTS": "roadmaps.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://roadmaps.example.com",
    "DATABASE_URL": "postgres://roadmap:secret@127.0.0.1:5432/roadmap",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    environ = {k: v for k, v in inherited.items() if not k.startswith("DJANGO_")}
    environ |= {"DJANGO_SETTINGS_MODULE": "roadmap_site.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environ, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_is_clean_in_production():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


SHOW = """
import json
from django.conf import settings
from django.core.cache import caches
cache = caches["default"]
print(json.dumps({
    "cache": type(cache).__module__ + "." + type(cache).__name__,
    "cache_options": settings.CACHES["default"].get("OPTIONS", {}),
    "session_engine": settings.SESSION_ENGINE,
    "session_cookie": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE,
                       settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE],
    "csrf_cookie": [settings.CSRF_COOKIE_NAME, settings.CSRF_COOKIE_SECURE, settings.CSRF_COOKIE_SAMESITE],
    "hasher": settings.PASSWORD_HASHERS[0],
    "database": [settings.DATABASES["default"]["ENGINE"], settings.DATABASES["default"]["CONN_MAX_AGE"],
                 settings.DATABASES["default"]["CONN_HEALTH_CHECKS"]],
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "log_format": settings.LOGGING["handlers"]["console"]["formatter"],
    "storage": settings.STORAGES["staticfiles"]["BACKEND"],
}))
"""


def show_settings(**env: str) -> dict:
    result = run_manage("shell", "--no-imports", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings():
    shown = show_settings(**PRODUCTION)

    assert shown["cache"] == "django_redis.cache.RedisCache"
    assert shown["cache_options"]["IGNORE_EXCEPTIONS"] is True
    assert shown["session_engine"] == "django.contrib.sessions.backends.db"
    assert shown["session_cookie"] == ["__Host-sessionid", True, True, "Lax"]
    assert shown["csrf_cookie"] == ["__Host-csrftoken", True, "Lax"]
    assert shown["hasher"] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert shown["database"] == ["django.db.backends.postgresql", 60, True]
    assert shown["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["log_format"] == "json"
    assert shown["storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_development_settings_are_embedded():
    shown = show_settings()

    assert shown["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["session_cookie"][0] == "sessionid"
    assert shown["database"][0] == "django.db.backends.sqlite3"
    assert shown["log_format"] == "text"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_ADMIN_URL": "/admin"}, "DJANGO_ADMIN_URL must look like 'admin/'"),
        ({"DJANGO_LOG_FORMAT": "xml"}, "DJANGO_LOG_FORMAT must be 'json' or 'text'; got 'xml'."),
        (
            {"REDIS_URL": "redis://127.0.0.1:1/0", "REDIS_TIMEOUT": "soon"},
            "REDIS_TIMEOUT must be a number; got 'soon'.",
        ),
    ],
)
def test_bad_values_are_clear_errors(env, message):
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


ADMIN_AT = """
from django.test import Client
client = Client(HTTP_HOST="localhost")
print(client.get("/staff-7f3a/login/").status_code, client.get("/admin/login/").status_code)
"""


def test_the_admin_path_is_configurable():
    result = run_manage("shell", "--no-imports", "-c", ADMIN_AT, DJANGO_ADMIN_URL="staff-7f3a/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["200", "404"]


ENV_READ = re.compile(
    r"""(?:environ\.get|env_bool|env_int|env_float|env_list|_env_int|_env_str)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)
SHELL_READ = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)")


def test_every_variable_the_code_reads_is_documented_in_env_example():
    read = set()
    for source in ("roadmap_site/settings.py", "gunicorn.conf.py"):
        read |= set(ENV_READ.findall((BASE_DIR / source).read_text()))
    read |= {name for name in SHELL_READ.findall((BASE_DIR / "deploy/entrypoint.sh").read_text()) if "_" in name}
    read = {name for name in read if name.startswith(("DJANGO_", "GUNICORN_", "DATABASE_", "REDIS_"))}
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE))

    assert read - documented == set(), "read by the code but missing from .env.example"
