"""A learner's pages are private and never cached; anonymous pages are left cacheable."""

import pytest

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_learners_pages_are_never_stored_by_caches(client, seeded):
    client.force_login(make_user(username="ada"))
    for url in ("/", "/roadmaps/django-roadmap/", "/dashboard/", "/search/?q=django"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_anonymous_pages_are_not_marked_private(client, seeded):
    """Shared caches may keep them; they revalidate with the ETag (see tests/roadmap/test_caching.py)."""
    cache_control = client.get("/roadmaps/django-roadmap/")["Cache-Control"]
    assert "private" not in cache_control
    assert "no-store" not in cache_control
