from pathlib import Path

import pytest
import redis
from django.test import Client

from tests.curriculum import load_curriculum
from tests.factories import make_user
from tests.helpers import redis_cache

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCES = BASE_DIR / "fixtures" / "sources"
# Redis databases of the tests (Redis has 16): 9 for a serial run, 10 to 15 for pytest-xdist's workers
# gw0, gw1, ... (more than six workers would share them).
LIVE_REDIS = "redis://127.0.0.1:6379/{}"
# The slow tiers, by folder: `pytest -m "not browser and not stack"` leaves them out.
TIERS = {BASE_DIR / "tests" / "browser": "browser", BASE_DIR / "tests" / "deploy": "stack"}


def pytest_collection_modifyitems(items):
    for item in items:
        if tier := TIERS.get(item.path.parent):
            item.add_marker(tier)


@pytest.fixture
def seeded(db) -> None:
    """The shipped curriculum (fixtures/roadmaps.json), loaded once per process and copied after that."""
    load_curriculum()


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
def live_redis(settings, worker_id):
    """The cache in a real Redis database of this worker's own, emptied before and after; the raw connection."""
    location = LIVE_REDIS.format(9 if worker_id == "master" else 10 + int(worker_id.removeprefix("gw")) % 6)
    connection = redis.Redis.from_url(location, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.ConnectionError:
        pytest.skip(f"No Redis at {location} (start redis-server to run this test).")
    connection.flushdb()
    settings.CACHES = redis_cache(location)
    yield connection
    connection.flushdb()
