"""accounts/sessions.py: a known session's data and its user come in one query, with every check Django makes.

The first request of a session in this process loads it as ``cached_db``
does and learns its user; later ones read the session row and the user row
together. Everything that ends or invalidates a session (logout, another
server deleting it, expiry, a password change, deactivation, a session naming
another user) must work exactly as before.
"""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import backends, sessions
from accounts.sessions import SessionStore
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def ada():
    return make_user(username="ada", password=PASSWORD)


@pytest.fixture
def client_of(ada) -> Client:
    client = Client()
    response = client.post(resolve_url(settings.LOGIN_URL), {"username": "ada", "password": PASSWORD})
    assert response.status_code == 302
    return client


def key_of(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def dashboard_opens(client: Client) -> bool:
    response = client.get("/dashboard/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def forget_cache(key: str) -> None:
    caches[settings.SESSION_CACHE_ALIAS].delete(SessionStore.cache_key_prefix + key)


def test_a_known_session_and_its_user_cost_one_query_and_no_cache_read(client_of, ada, monkeypatch):
    assert dashboard_opens(client_of)
    key = key_of(client_of)
    assert sessions.known.get(key) == ada.pk
    reads = []
    cache = caches[settings.SESSION_CACHE_ALIAS]
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: reads.append(args) or None)

    store = SessionStore(session_key=key)
    with CaptureQueriesContext(connection) as queries:
        assert store[SESSION_KEY] == str(ada.pk)
        user = backends.UserBackend().get_user(ada.pk)
    assert len(queries) == 1
    assert reads == []
    assert user == ada and user.content_version is not None
    assert backends._prefetched.get() is None  # handed over once


def test_a_session_deleted_by_another_server_logs_out_here(client_of):
    assert dashboard_opens(client_of)
    key = key_of(client_of)
    Session.objects.filter(session_key=key).delete()
    forget_cache(key)  # what that server's logout does to the shared cache
    assert not dashboard_opens(client_of)
    assert sessions.known.get(key) is None


def test_an_expired_session_is_no_session(client_of):
    assert dashboard_opens(client_of)
    key = key_of(client_of)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    forget_cache(key)
    assert not dashboard_opens(client_of)


def test_a_password_changed_elsewhere_ends_the_session(client_of, ada):
    assert dashboard_opens(client_of)
    ada.set_password("a-brand-new-passphrase")
    ada.save()
    assert not dashboard_opens(client_of)


def test_a_deactivated_learner_is_logged_out(client_of, ada):
    assert dashboard_opens(client_of)
    ada.is_active = False
    ada.save()
    assert not dashboard_opens(client_of)


def test_a_deleted_learner_is_logged_out(client_of, ada):
    assert dashboard_opens(client_of)
    ada.delete()
    assert not dashboard_opens(client_of)


def test_session_data_naming_another_user_is_never_trusted_from_the_fast_path(client_of, ada):
    """Whatever the map says, the user is the one the session's own data names."""
    assert dashboard_opens(client_of)
    key = key_of(client_of)
    other = make_user(username="grace")
    sessions.known.learn(key, other.pk)  # a wrong entry
    store = SessionStore(session_key=key)
    assert store[SESSION_KEY] == str(ada.pk)
    assert sessions.known.get(key) == ada.pk  # learnt again, right
    assert backends._prefetched.get() is None  # grace's row was not handed to get_user
    assert dashboard_opens(client_of)


def test_logging_out_forgets_the_key(client_of):
    assert dashboard_opens(client_of)
    key = key_of(client_of)
    assert client_of.post(reverse("logout")).status_code == 302
    assert sessions.known.get(key) is None
    assert not Session.objects.filter(session_key=key).exists()


def test_the_map_is_bounded():
    known = sessions.KnownSessions(limit=3)
    for n in range(3):
        known.learn(f"k{n}", n)
    known.learn("k3", 3)
    assert known.get("k0") is None and known.get("k3") == 3
