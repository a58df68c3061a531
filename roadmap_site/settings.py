"""Settings for roadmap_site.

One source of truth, read from the environment. Without any environment the
project runs as a development site (DEBUG, SQLite, local-memory cache); a
production deployment sets ``DJANGO_DEBUG=0`` and must then provide
``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``. ``.env.example`` lists
every variable.
"""

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
Number = TypeVar("Number", int, float)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _env_number(name: str, default: Number, parse: Callable[[str], Number], kind: str) -> Number:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}; got {value!r}.") from None


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


DEBUG = env_bool("DJANGO_DEBUG", default=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=[])

if DEBUG:
    # Development only: a fixed, clearly insecure key and local hosts.
    SECRET_KEY = SECRET_KEY or "django-insecure-development-key-never-use-in-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]
else:
    _missing = [
        name
        for name, value in (("DJANGO_SECRET_KEY", SECRET_KEY), ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS))
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(
            f"DJANGO_DEBUG is off (production mode), so {' and '.join(_missing)} must be set. See .env.example."
        )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Where the admin lives, e.g. "staff-7f3a/": a non-obvious path keeps it out of
# drive-by scans (it is protected by login and django-axes either way).
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/").strip()
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/") or ADMIN_URL == "/":
    raise ImproperlyConfigured(
        f"DJANGO_ADMIN_URL must look like 'admin/' (no leading slash, one trailing slash); got {ADMIN_URL!r}."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "accounts",
    "roadmap",
]

MIDDLEWARE = [
    # Outermost: tags every log line with a request id and logs each request once.
    "roadmap_site.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "roadmap_site.middleware.CrossOriginResourcePolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Answers /healthz and /readyz before host validation and sessions.
    "roadmap_site.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 400 for NUL characters in the path or the admin's query (PostgreSQL cannot
    # compare them) and the like; ignores a session cookie holding one.
    "roadmap_site.middleware.MalformedInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "roadmap_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "roadmap.context_processors.navigation",
                "roadmap.preferences.theme",
            ],
            # {% slot %} for cached fragments (pagecache/fragments.py).
            "libraries": {"pagecache": "pagecache.templatetags"},
        },
    },
]

WSGI_APPLICATION = "roadmap_site.wsgi.application"
ASGI_APPLICATION = "roadmap_site.asgi.application"

# Database: dj-database-url form, e.g. postgres://user:pass@host:5432/name.
# PostgreSQL goes through psycopg 3. Connections persist for CONN_MAX_AGE
# seconds and are health-checked before reuse, so a database restart costs one
# reconnect instead of an error page.
CONN_MAX_AGE = env_int("DJANGO_CONN_MAX_AGE", 60)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: take the write lock when a
    # transaction starts (no "database is locked" on a read-to-write upgrade),
    # wait for it rather than fail, and let readers run beside the writer (WAL).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# Optional read replica (streaming replication): anonymous page views read
# from it, everything else uses the primary (see roadmap_site/routers.py).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=CONN_MAX_AGE, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["roadmap_site.routers.PrimaryReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every app server), local memory
# otherwise. django-redis with IGNORE_EXCEPTIONS turns an unreachable Redis into
# cache misses, logged by the "django_redis" logger, instead of error pages.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "roadmap",
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                # Fail fast: a dead Redis must cost milliseconds, not seconds, per request.
                "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT", 0.25),
                "SOCKET_TIMEOUT": env_float("REDIS_TIMEOUT", 0.5),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "roadmap-site",
        }
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "django_redis"

# Sessions live in the database and are read from it on every request (Django's
# "db" engine): a session deleted or expired there (logout elsewhere, an admin
# ending it, clearsessions) is never accepted again, on any process or server,
# and nobody is logged out when Redis restarts. "cached_db" would save one
# primary-key query but keeps accepting a session deleted behind the cache's back.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "roadmap:home"
# OWASP ASVS 5.0 level 1 (V6.2): at least 12 characters (no upper limit below
# 64), checked against common and breached-style passwords, no composition rules
# (so no "must not be all digits" either), and pasting is never blocked.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Argon2id first; existing PBKDF2 hashes still verify and are rehashed with
# Argon2 on the user's next successful login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes checks every login (learner and admin) before Django does.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email (password reset): printed to the console unless an SMTP host is configured.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "Learning Roadmaps <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Shipped content: ``manage.py loaddata roadmaps`` finds fixtures/roadmaps.json.
FIXTURE_DIRS = [BASE_DIR / "fixtures"]
# dumpdata/loaddata (backups, fixtures) keep timestamps to the microsecond; Django's encoder stops at the millisecond.
SERIALIZATION_MODULES = {"json": "roadmap_site.serializers"}

# The curriculum pages read a learner's progress through this object (roadmap/progress.py).
ROADMAP_LEARNER_PROGRESS = "accounts.progress.LearnerProgress"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Security headers, the same in development so that problems show up early.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
# /healthz and /readyz answer plain HTTP from load balancers and Docker.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Content-Security-Policy (django-csp): only this origin's scripts, styles,
# images and fonts; no inline script or style anywhere (progress bar widths are
# classes, the theme is set by a script file), nothing may frame the site.
# Bootstrap's own CSS draws checkboxes and toggler icons as data: SVGs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# Brute-force protection (django-axes) on the learner and the admin login. A
# username is locked from one address only, so an attacker elsewhere cannot
# lock a learner out; the lock lifts after 15 minutes or a successful login.
AXES_FAILURE_LIMIT = env_int("DJANGO_AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_USERNAME_CALLABLE = "accounts.views.axes_username"
AXES_CLIENT_IP_CALLABLE = "roadmap_site.net.client_ip"
# Number of reverse proxies in front of gunicorn that append to X-Forwarded-For
# (nginx: 1). 0 trusts nothing and uses the socket's address.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 0 if DEBUG else 1)

if not DEBUG:
    # Behind a TLS-terminating proxy (nginx) that sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    # "__Host-" cookies are only accepted over HTTPS, without a Domain and for
    # path "/": no subdomain or plain-HTTP page can plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Forms carry the token; no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Logging: JSON lines in production (one object per line, with the request id
# and user id of the request that logged it), readable lines in development.
LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO").upper()
LOG_FORMAT = os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"DJANGO_LOG_FORMAT must be 'json' or 'text'; got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "roadmap_site.logging.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(user_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django logs every 4xx/5xx itself; our request log already has them.
        "django.server": {"level": "WARNING"},
        # Lockouts and failures are logged by "axes.handlers"; not its start-up banner.
        "axes.apps": {"level": "WARNING"},
    },
}
