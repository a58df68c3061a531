"""accounts.sessions.learners: each process's copies of learners' sessions and users, dropped by NOTIFY.

The PostgreSQL tests commit (``transaction=True``): triggers notify only at
commit. Each runs its own version feed (``roadmap/version_feed.py``), whose
connection carries the notifications.
"""

import hashlib
import threading
import time
from types import SimpleNamespace

import psycopg
import pytest
from django.conf import settings
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.db import connection, connections, transaction
from django.test import Client

from accounts import services, sessions
from accounts.models import User
from accounts.sessions import LearnerCopies, LearnerCopy
from roadmap import version_feed
from roadmap.models import Topic
from roadmap.version_feed import LEARNERS_CHANNEL, LEASE, RECHECK, VersionFeed
from tests.factories import make_user
from tests.helpers import soup_of, wait_for

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="NOTIFY triggers need PostgreSQL")

PASSWORD = "correct-horse-battery-staple"
ROADMAP = "/roadmaps/django-roadmap/"
TOPIC = ROADMAP + "django-orm-object-relational-mapping/querysets/"


def copy_of(pk) -> LearnerCopy:
    return LearnerCopy("data", SimpleNamespace(pk=pk), None)


# Without a database ------------------------------------------------------------------


def test_a_change_drops_only_the_copies_it_names():
    copies = LearnerCopies()
    copies.put("ada-1", copy_of(1), copies.epoch)
    copies.put("ada-2", copy_of(1), copies.epoch)
    copies.put("grace", copy_of(2), copies.epoch)
    copies.changed("user:1")
    assert copies.get("ada-1") is None and copies.get("ada-2") is None
    assert copies.get("grace") is not None
    copies.changed(f"session:{hashlib.sha256(b'grace').hexdigest()}")
    assert copies.get("grace") is None
    copies.put("grace", copy_of(2), copies.epoch)
    copies.changed("*")
    assert len(copies) == 0


def test_a_read_older_than_a_change_is_not_kept():
    copies = LearnerCopies()
    epoch = copies.epoch  # taken before the read
    copies.changed("user:99")  # any change notified meanwhile, even someone else's
    copies.put("ada", copy_of(1), epoch)
    assert copies.get("ada") is None
    copies.put("ada", copy_of(1), copies.epoch)
    assert copies.get("ada") is not None


def test_copies_are_bounded():
    copies = LearnerCopies(limit=2)
    for key in ("a", "b", "c"):
        copies.put(key, copy_of(key), copies.epoch)
    assert len(copies) == 1 and copies.get("c") is not None


def test_logging_out_here_drops_the_copy_at_once(db):
    store = sessions.SessionStore()
    store.create()
    sessions.learners.put(store.session_key, copy_of(1), sessions.learners.epoch)
    store.delete()
    assert sessions.learners.get(store.session_key) is None


# PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
def feed(settings, monkeypatch):
    settings.CONTENT_VERSION_FEED = True
    own = VersionFeed()
    monkeypatch.setattr(version_feed, "feed", own)
    own.current()  # starts its thread
    try:
        assert wait_for(own.current)
        yield own
    finally:  # even when it never came up: a thread left behind would hold a connection to the test database
        own.stop()
        sessions.learners.clear()


@pytest.fixture
def ada(seeded):
    return make_user(username="ada", password=PASSWORD)


@pytest.fixture
def ada_client(ada, feed) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 302
    return client


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def warm(client: Client, url: str) -> None:
    """Rendered and stored, then served with a database read that leaves a copy."""
    client.get(url)
    client.get(url)
    assert sessions.learners.get(session_key(client)) is not None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_triggers_notify_every_user_and_session_change_at_commit(seeded):
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    user = make_user(username="ada", password=PASSWORD)
    store = sessions.SessionStore()
    store.create()
    digest = hashlib.sha256(store.session_key.encode()).hexdigest()
    with psycopg.connect(**params, autocommit=True) as listener:
        listener.execute(f"LISTEN {LEARNERS_CHANNEL}")

        def payloads() -> list[str]:
            return [notification.payload for notification in listener.notifies(timeout=0.5)]

        User.objects.filter(pk=user.pk).update(is_active=False)
        assert payloads() == [f"user:{user.pk}"]
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(is_active=True)
            transaction.set_rollback(True)
        assert payloads() == []  # rolled back: nothing changed
        store["anything"] = 1
        store.save()
        assert payloads() == [f"session:{digest}"]  # the key's digest: the key itself is a credential
        Session.objects.filter(session_key=store.session_key).delete()
        assert payloads() == [f"session:{digest}"]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Session._meta.db_table}")
        assert payloads() == ["*"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [ROADMAP, TOPIC, "/dashboard/"])
def test_a_warm_learner_page_makes_no_query(ada_client, served, django_assert_num_queries, url):
    warm(ada_client, url)
    with django_assert_num_queries(0):
        response = ada_client.get(url)
    assert response.status_code == 200 and served == [url, url]
    assert soup_of(response).select_one("input[name=csrfmiddlewaretoken]")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_tick_committed_elsewhere_is_seen_on_the_next_request(ada_client, ada, served):
    warm(ada_client, TOPIC)
    topic = Topic.objects.get(slug="querysets", stage__slug="django-orm-object-relational-mapping")
    services.progress_set(user=ada, topic=topic, status="done")  # another device, another process
    assert wait_for(lambda: sessions.learners.get(session_key(ada_client)) is None)
    page = ada_client.get(TOPIC)
    assert "Done" in soup_of(page).select_one("[data-status-badge]").get_text()
    assert served == [TOPIC]  # rendered afresh for the new state


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_session_ended_elsewhere_is_not_served(ada_client, served):
    warm(ada_client, "/dashboard/")
    # As another process logs it out: Django's own store, without this process's bookkeeping.
    cached_db.SessionStore(session_key(ada_client)).delete()
    assert wait_for(lambda: sessions.learners.get(session_key(ada_client)) is None)
    assert ada_client.get("/dashboard/").status_code == 302
    assert served == ["/dashboard/"]


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["password", "deactivated", "staff"])
def test_a_user_changed_elsewhere_is_not_served_from_the_copy(ada_client, ada, served, change):
    warm(ada_client, "/dashboard/")
    if change == "password":
        ada.set_password("another-long-passphrase")
        ada.save()
    else:
        field = {"deactivated": "is_active", "staff": "is_staff"}[change]
        User.objects.filter(pk=ada.pk).update(**{field: change == "staff"})
    assert wait_for(lambda: sessions.learners.get(session_key(ada_client)) is None)
    response = ada_client.get("/dashboard/")
    assert served == ["/dashboard/"]
    assert response.status_code == (200 if change == "staff" else 302)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_an_expired_copy_is_not_used(ada_client, served, django_assert_num_queries):
    warm(ada_client, "/dashboard/")
    key = session_key(ada_client)
    copy = sessions.learners.get(key)
    expired = LearnerCopy(copy.session_data, copy.user, copy.expire_date.replace(year=2000))
    sessions.learners._copies[sessions.LearnerCopies.digest(key)] = expired
    with django_assert_num_queries(1):  # the session read again, as Django would
        ada_client.get("/dashboard/")


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_copies_are_dropped_and_unused_when_the_feed_loses_its_connection(ada_client, feed, django_assert_num_queries):
    warm(ada_client, "/dashboard/")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database() AND pid <> pg_backend_pid()",
            [version_feed.APPLICATION_NAME],
        )
    assert wait_for(lambda: len(sessions.learners) == 0, timeout=LEASE)
    with django_assert_num_queries(1):
        assert ada_client.get("/dashboard/").status_code == 200
    assert wait_for(feed.current, timeout=5)  # reconnected: copies are made again


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_read_that_races_a_change_leaves_no_copy(ada_client, ada, monkeypatch):
    ada_client.get("/dashboard/")  # stored
    real = sessions.read_with_user

    def racing(key, user_id):
        found = real(key, user_id)
        epoch = sessions.learners.epoch
        User.objects.filter(pk=ada.pk).update(first_name="Ada")  # committed right after the read
        assert wait_for(lambda: sessions.learners.epoch != epoch)  # and notified before the copy is kept
        return found

    monkeypatch.setattr(sessions, "read_with_user", racing)
    ada_client.get("/dashboard/")
    assert sessions.learners.get(session_key(ada_client)) is None


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_what_is_notified_during_a_re_read_is_applied_before_the_lease_is_renewed(ada_client, ada, feed, monkeypatch):
    warm(ada_client, "/dashboard/")
    applied = []
    real_changed = sessions.learners.changed

    def changed(payload):
        applied.append((payload, feed._confirmed_at))  # the confirmation standing when it is applied
        real_changed(payload)

    monkeypatch.setattr(sessions.learners, "changed", changed)
    injected = {}
    real_execute = psycopg.Connection.execute

    def execute(self, query, *args, **kwargs):
        if "roadmap_contentversion" in str(query) and not injected and threading.current_thread().daemon:
            # The feed's re-read: a change commits, and its notification reaches the feed's
            # connection while the read is on its way (as after a network stall).
            injected["confirmed_at"] = feed._confirmed_at
            params = connections["default"].get_connection_params()
            params.pop("cursor_factory", None)
            with psycopg.connect(**params, autocommit=True) as other:  # not Django's: this is the feed's thread
                other.execute(f"UPDATE {User._meta.db_table} SET first_name = 'Ada' WHERE id = %s", [ada.pk])
            time.sleep(0.1)
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    assert wait_for(lambda: sessions.learners.get(session_key(ada_client)) is None, timeout=RECHECK + 2)
    assert (f"user:{ada.pk}", injected["confirmed_at"]) in applied  # applied before the re-read renewed the lease


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_changes_is_applied_whole(seeded, feed, monkeypatch):
    """Notifications coming one after another are taken in batches (version_feed.BATCH); none is lost."""
    wakeups = []
    real_sleep = version_feed.time.sleep
    monkeypatch.setattr(version_feed.time, "sleep", lambda seconds: (wakeups.append(seconds), real_sleep(seconds)))
    for pk in range(1, 201):
        sessions.learners.put(f"key-{pk}", copy_of(pk), sessions.learners.epoch)
    with connection.cursor() as cursor:
        for pk in range(1, 201):  # each in its own transaction, as 200 learners' ticks
            cursor.execute("SELECT pg_notify(%s, %s)", [LEARNERS_CHANNEL, f"user:{pk}"])
    assert wait_for(lambda: len(sessions.learners) == 0)
    assert feed.current() is not None  # the lease still holds
    assert 0 < len([s for s in wakeups if s == version_feed.BATCH]) < 200
