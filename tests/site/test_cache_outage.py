"""Redis is a cache, never a dependency: an unreachable Redis makes the site slower, not broken.

The cache is django-redis with IGNORE_EXCEPTIONS; sessions live in the database
only (Django's ``db`` engine), so they survive Redis restarts.
"""

import logging

import pytest
from django.core.cache import cache

from accounts.models import Progress
from tests.factories import make_user
from tests.helpers import redis_cache, soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
PASSWORD = "correct-horse-battery-staple"


def log_in(client) -> None:
    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302, "the login failed"
    assert response["Location"] == "/dashboard/"


def test_the_site_works_while_redis_is_down(client, settings, seeded, caplog):
    """A port where nothing listens: pages, log-in, tick-off and the next page all work."""
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0")
    make_user(username="ada", password=PASSWORD)
    caplog.set_level(logging.ERROR, logger="django_redis")

    assert client.get("/").status_code == 200
    assert client.get(ROADMAP).status_code == 200
    log_in(client)
    ticked = client.post(TOPIC + "progress/", {"status": "done"}, follow=True)
    dashboard = client.get("/dashboard/")

    assert ticked.status_code == 200
    assert text(soup_of(ticked).select_one("[data-messages]")) == "6.2 QuerySets: marked as done."
    assert Progress.objects.get().status == "done"
    assert dashboard.status_code == 200, "the learner was logged out"
    # The errors were swallowed, and logged.
    assert any(record.name == "django_redis" for record in caplog.records)


def test_sessions_survive_a_redis_restart(client, seeded, live_redis):
    make_user(username="ada", password=PASSWORD)
    log_in(client)
    client.get(ROADMAP)
    assert not any(b"session" in key for key in live_redis.keys()), "sessions are kept in the database only"

    live_redis.flushdb()  # what a restart of a Redis that keeps nothing on disk looks like

    response = client.get("/dashboard/")
    assert response.status_code == 200, "the learner was logged out"


def test_the_cache_is_shared_through_redis(live_redis):
    cache.set("shared", "between app servers", 30)
    assert live_redis.get(cache.make_key("shared")) is not None
