"""Redis is a cache, never a dependency: an unreachable Redis makes the site slower, not broken.

The cache is django-redis with IGNORE_EXCEPTIONS; sessions are ``cached_db``, so
they live in the database and survive Redis restarts.
"""

import logging

import pytest
import redis
from django.core.cache import cache

from accounts.models import Progress
from tests.factories import make_user
from tests.helpers import redis_cache, soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
PASSWORD = "correct-horse-battery-staple"
LIVE_REDIS = "redis://127.0.0.1:6379/9"


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


@pytest.fixture
def live_redis(settings):
    connection = redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"No Redis at {LIVE_REDIS} (start redis-server to run this test).")
    connection.flushdb()
    settings.CACHES = redis_cache(LIVE_REDIS)
    yield connection
    connection.flushdb()


def test_sessions_survive_a_redis_restart(client, seeded, live_redis):
    make_user(username="ada", password=PASSWORD)
    log_in(client)
    assert any(b"django.contrib.sessions.cached_db" in key for key in live_redis.keys()), "the session was not cached"

    live_redis.flushdb()  # what a restart of a Redis that keeps nothing on disk looks like

    response = client.get("/dashboard/")
    assert response.status_code == 200, "the learner was logged out"
    # And the session is back in the cache for the next request.
    assert any(b"django.contrib.sessions.cached_db" in key for key in live_redis.keys())


def test_the_cache_is_shared_through_redis(live_redis):
    cache.set("shared", "between app servers", 30)
    assert live_redis.get(cache.make_key("shared")) is not None
