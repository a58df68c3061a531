"""roadmap/version_feed.py: each process's copy of the content version, pushed by LISTEN/NOTIFY.

These tests commit (``transaction=True``): a NOTIFY is only delivered when its
transaction commits, which the rest of the suite's transactions never do
(so ``CONTENT_VERSION_FEED`` is off there). Each test runs its own feed.
"""

import os
import threading
import time

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.test import Client

from roadmap import version_feed
from roadmap.caching import content_changed, content_version, local_pages
from roadmap.models import ContentVersion, Topic
from roadmap.version_feed import LEASE, RECHECK, VersionFeed
from tests.helpers import wait_for

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="LISTEN/NOTIFY needs PostgreSQL")

ROADMAP = "/roadmaps/django-roadmap/"
TOPIC = ROADMAP + "django-orm-object-relational-mapping/querysets/"


def stored_version() -> str:
    return ContentVersion.objects.get(pk=1).value


@pytest.fixture
def feed(settings, monkeypatch):
    """A feed of its own, switched on, installed where the page cache looks for it."""
    settings.CONTENT_VERSION_FEED = True
    own = VersionFeed()
    monkeypatch.setattr(version_feed, "feed", own)
    yield own
    own.stop()


@pytest.fixture
def listener(transactional_db):
    """A connection LISTENing on the feed's channel, as each process's feed does."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(f"LISTEN {version_feed.CHANNEL}")
        yield conn


def notifications(conn: psycopg.Connection, timeout: float) -> int:
    return sum(1 for _ in conn.notifies(timeout=timeout))


# Without a database ------------------------------------------------------------------


def test_a_copy_is_trusted_only_within_its_lease(monkeypatch):
    feed = VersionFeed()
    monkeypatch.setattr(feed, "_pid", os.getpid())  # as if started in this process
    feed._value, feed._confirmed_at = "v1", time.monotonic()
    assert feed.current() == "v1"
    feed._confirmed_at = time.monotonic() - LEASE
    assert feed.current() is None  # not confirmed lately: the caller reads the database


def test_it_is_off_in_the_test_suite_and_on_sqlite(settings, db):
    feed = VersionFeed()
    assert feed.current() is None
    assert feed._thread is None
    settings.CONTENT_VERSION_FEED = True
    if connection.vendor == "sqlite":
        feed.stop()
        assert feed.current() is None and feed._thread is None


# NOTIFY ------------------------------------------------------------------------------


@postgresql_only
def test_a_change_is_notified_at_commit_once_per_transaction_and_never_after_a_rollback(listener):
    with transaction.atomic():
        for _ in range(3):
            content_changed()
        assert notifications(listener, timeout=0.2) == 0  # not before the commit
    assert notifications(listener, timeout=1.0) == 1  # PostgreSQL folds identical notifications

    with pytest.raises(RuntimeError), transaction.atomic():
        content_changed()
        raise RuntimeError
    assert notifications(listener, timeout=0.5) == 0


@postgresql_only
def test_a_content_edit_notifies(listener, seeded):
    assert notifications(listener, timeout=0.2) == 1  # loading the fixture was one transaction
    topic = Topic.objects.first()
    topic.title += " (edited)"
    topic.save()
    assert notifications(listener, timeout=1.0) >= 1


# The feed ----------------------------------------------------------------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_feed_follows_committed_changes(feed, seeded):
    assert feed.current() is None  # starting: read the database meanwhile
    assert wait_for(feed.current) == stored_version()
    before = stored_version()

    topic = Topic.objects.first()
    topic.title += " (edited)"
    topic.save()
    after = stored_version()
    assert after != before
    started = time.monotonic()
    assert wait_for(lambda: feed.current() == after, timeout=RECHECK / 2)  # notified, not found by the re-read
    assert time.monotonic() - started < RECHECK / 2

    with transaction.atomic():
        content_changed()
        assert not wait_for(lambda: feed.current() != after, timeout=0.3)  # uncommitted: unseen
    assert wait_for(lambda: feed.current() == stored_version(), timeout=RECHECK / 2)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_change_made_without_a_notification_is_seen_within_the_recheck(feed, seeded):
    assert wait_for(feed.current)
    with connection.cursor() as cursor:  # as a restored backup or SQL by hand would
        cursor.execute("UPDATE roadmap_contentversion SET value = 'by-hand' WHERE id = 1")
    assert wait_for(lambda: feed.current() == "by-hand", timeout=RECHECK + 1)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_content_change_never_waits_for_a_batch(feed, seeded, monkeypatch):
    """Only learners' notifications are batched (version_feed.BATCH): an edit is applied as soon as it arrives."""
    assert wait_for(feed.current)
    slept = []
    real_sleep = version_feed.time.sleep
    monkeypatch.setattr(version_feed.time, "sleep", lambda seconds: (slept.append(seconds), real_sleep(seconds)))
    topic = Topic.objects.first()
    topic.title += " (edited)"
    topic.save()
    assert wait_for(lambda: feed.current() == stored_version())
    assert version_feed.BATCH not in slept


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_is_distrusted_at_once_and_replaced(feed, seeded, caplog):
    assert wait_for(feed.current)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database() AND pid <> pg_backend_pid()",
            [version_feed.APPLICATION_NAME],
        )
        assert cursor.fetchall() == [(True,)]
    assert wait_for(lambda: feed.current() is None, timeout=LEASE)
    # The thread distrusts its copy first and logs after: wait for the line rather than race it.
    assert wait_for(lambda: "Content version feed lost its connection" in caplog.text, timeout=1)
    assert wait_for(lambda: feed.current() == stored_version(), timeout=5)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_hanging_connection_lapses_within_the_lease(feed, seeded, monkeypatch):
    assert wait_for(feed.current)
    hang = threading.Event()
    real = psycopg.Connection.execute

    def execute(self, query, *args, **kwargs):
        if "roadmap_contentversion" in str(query) and hang.is_set():
            time.sleep(LEASE + 1)  # a read that never comes back in time
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    hang.set()
    time.sleep(RECHECK + 0.1)  # the thread is now stuck in its re-read
    assert wait_for(lambda: feed.current() is None, timeout=LEASE)
    hang.clear()


def test_the_process_starts_its_own_feed_after_a_fork(monkeypatch, settings, db):
    feed = VersionFeed()
    monkeypatch.setattr(feed, "_pid", os.getpid() + 1)  # as a forked worker sees its parent's feed
    feed._value, feed._confirmed_at = "parent's", time.monotonic()
    assert feed.current() is None  # never the parent's copy
    assert feed._pid == os.getpid()
    feed.stop()


# The anonymous page cache -----------------------------------------------------------


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [ROADMAP, TOPIC])
def test_warm_anonymous_pages_make_no_query_and_show_committed_edits(feed, seeded, django_assert_num_queries, url):
    visitor = Client()
    for _ in range(2):
        assert visitor.get(url).status_code == 200
    assert wait_for(feed.current)
    with django_assert_num_queries(0):
        assert visitor.get(url).status_code == 200

    topic = Topic.objects.get_by_natural_key("django-roadmap", "django-orm-object-relational-mapping", "querysets")
    topic.title = "QuerySets, freshly edited"
    topic.save()
    assert wait_for(lambda: feed.current() == stored_version(), timeout=1)
    assert "QuerySets, freshly edited" in visitor.get(url).content.decode()


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_copy_that_differs_from_the_database_never_stores_a_page_under_the_wrong_version(
    feed, seeded, monkeypatch, django_assert_num_queries
):
    """A replica behind the primary, or a notification on its way: the page is keyed by what it was rendered from."""
    visitor = Client()
    visitor.get(ROADMAP)
    monkeypatch.setattr(feed, "current", lambda: "a-version-not-rendered-yet")
    response = visitor.get(ROADMAP)  # a miss: the full stack renders and stores it
    assert response.status_code == 200 and "QuerySets" in response.content.decode()

    version = content_version()
    monkeypatch.setattr(feed, "current", lambda: version)
    local_pages.anonymous_paths.add(ROADMAP)
    with django_assert_num_queries(0):
        cached = visitor.get(ROADMAP)  # stored under the version the database gave
    assert cached.content == response.content
