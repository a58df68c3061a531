from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.test import Client

from tests.factories import make_user
from tests.helpers import redis_cache

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCES = BASE_DIR / "fixtures" / "sources"
LIVE_REDIS = "redis://127.0.0.1:6379/9"


@pytest.fixture
def seeded(db) -> None:
    """The shipped curriculum (fixtures/roadmaps.json)."""
    call_command("loaddata", "roadmaps", verbosity=0)


@pytest.fixture
def learner(db):
    """A learner with no progress yet; modules may override it (``learner_client`` follows)."""
    return make_user(username="ada")


@pytest.fixture
def learner_client(learner) -> Client:
    client = Client()
    client.force_login(learner)
    return client


@pytest.fixture(autouse=True)
def empty_cache():
    """Every test starts with an empty cache (the local-memory cache outlives a test's database)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def live_redis(settings):
    """The cache in a real Redis (database 9, emptied before and after); the raw connection, to look inside."""
    connection = redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"No Redis at {LIVE_REDIS} (start redis-server to run this test).")
    connection.flushdb()
    settings.CACHES = redis_cache(LIVE_REDIS)
    yield connection
    connection.flushdb()
