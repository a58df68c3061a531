"""Settings for the test suite (selected by ``pyproject.toml``'s pytest config).

Same as production code paths, minus what only slows tests down: a fast
password hasher, in-memory email and a throw-away media directory.
"""

import tempfile
from pathlib import Path

from roadmap_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="roadmap-site-test-media-"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the finders (no collectstatic needed) and do not warn
# about the missing STATIC_ROOT.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]  # noqa: F405
