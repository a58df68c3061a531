from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import make_user

BASE_DIR = Path(__file__).resolve().parent.parent
SOURCES = BASE_DIR / "fixtures" / "sources"


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

    from accounts.ticks import last_read
    from roadmap.caching import local_pages
    from roadmap.selectors import _numbered_topics

    cache.clear()
    local_pages.clear()
    _numbered_topics.cache_clear()
    last_read.clear()


def answered_by(monkeypatch, module, name: str) -> list[str]:
    """Spy on a fast path ``module.name(request)``: the paths it answered itself (not None) are listed.

    Middleware takes the function when it is built, so a test client made after this sees the spy.
    """
    answered: list[str] = []
    real = getattr(module, name)

    def spy(request):
        response = real(request)
        if response is not None:
            answered.append(request.get_full_path())
        return response

    monkeypatch.setattr(module, name, spy)
    return answered


@pytest.fixture
def served(monkeypatch) -> list[str]:
    """The paths roadmap.caching.learner_page answered itself, before the middleware stack."""
    from roadmap import caching

    return answered_by(monkeypatch, caching, "learner_page")
