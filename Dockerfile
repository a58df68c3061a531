# First working version: a slim image that serves the portal with gunicorn and
# WhiteNoise. Hardening (non-root details, health checks, nginx) comes with the
# production issue.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no real secrets.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input \
 && useradd --system --home /app roadmap \
 && mkdir -p /app/media && chown roadmap /app/media

USER roadmap
EXPOSE 8000
# Migrations and `loaddata roadmaps` are deploy steps, run once per release:
#   docker run --env-file .env IMAGE python manage.py migrate
#   docker run --env-file .env IMAGE python manage.py loaddata roadmaps
CMD ["gunicorn", "roadmap_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
