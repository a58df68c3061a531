# syntax=docker/dockerfile:1
#
# The portal's production image: gunicorn serving Django, static files
# collected at build time and served by WhiteNoise (or by nginx in front).
#
#   docker build -t roadmap-site .
#   docker run --env-file .env -p 8000:8000 roadmap-site
#
# Two stages: the builder installs the pinned requirements into a virtualenv
# (with a compiler at hand for any package without a wheel); the final image
# gets only that virtualenv and the code, without compilers, pip caches or
# build files.

FROM python:3.11-slim-bookworm AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# build-essential is a metapackage whose version only changes between Debian
# releases, so the pin does not break when a point release updates gcc.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential=12.9 \
 && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
# The cache mount speeds up rebuilds without leaving pip's cache in a layer.
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install -r /tmp/requirements.txt


FROM python:3.11-slim-bookworm AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/app/media

# A fixed uid/gid, so that files on mounted volumes (media) keep a known owner
# across rebuilds and hosts.
RUN groupadd --system --gid 10001 roadmap \
 && useradd --system --uid 10001 --gid roadmap --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin roadmap

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root: the app can read it but not change it.
COPY . .

# collectstatic needs settings but no real secrets; the values here exist only
# for this build step. The static files land in DJANGO_STATIC_ROOT and uploads
# go to DJANGO_MEDIA_ROOT, the one directory the app may write to (mount a
# volume there); an env file must not point either somewhere else.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input \
 && mkdir -p /app/media \
 && chown roadmap:roadmap /app/media

USER 10001:10001
EXPOSE 8000

# /healthz answers without the database, over plain HTTP and with any Host
# header. slim images have no curl, so Python asks, on the port gunicorn binds.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = (os.environ.get('GUNICORN_BIND') or ':8000').split(',')[0].rsplit(':', 1)[-1]; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]

# Waits for the database and runs migrations when asked (DJANGO_MIGRATE=1,
# DJANGO_LOAD_CONTENT=1), then execs the command.
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
# gunicorn handles SIGTERM (Docker's stop signal) as a graceful shutdown of up
# to GUNICORN_GRACEFUL_TIMEOUT seconds: give `docker stop` more than that (-t 35).
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
