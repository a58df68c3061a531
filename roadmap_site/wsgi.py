"""WSGI entry point, used by gunicorn (``roadmap_site.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "roadmap_site.settings")

application = get_wsgi_application()
