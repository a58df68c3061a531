"""Sessions end when they should, server-side, and a login never reuses a session key.

Every login here goes through the login form (as a browser's does), so the
session key rotation and django-axes run as in production. A "replayed" cookie
is an old session cookie sent by a fresh client, as a thief holding a copy of
it would. Sessions use the ``cached_db`` engine (settings): ending one must
remove it from the database and from the cache alike. The cookie's name comes
from settings (``__Host-sessionid`` in production).
"""

import re
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import caches
from django.shortcuts import resolve_url
from django.test import Client

from accounts.models import Progress
from tests.factories import make_topic, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "tr0ub4dor-and-three-more"


@pytest.fixture
def ada(db):
    return make_user(username="ada", email="ada@example.com", password=PASSWORD, display_name="Ada Lovelace")


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def session_key(client: Client) -> str | None:
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return cookie.value if cookie and cookie.value else None


def log_in(client: Client, username: str = "ada", password: str = PASSWORD) -> str:
    """Log in through the form, as a browser does; return the session key the response set."""
    response = client.post(login_url(), {"username": username, "password": password})
    assert response.status_code == 302, "the login was refused"
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    return session_key(client)


def replay(key: str) -> Client:
    """A fresh client that sends only this session cookie."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def is_logged_in(client: Client) -> bool:
    """Whether the dashboard (login required) opens for this client; anything but the login redirect fails."""
    response = client.get("/dashboard/")
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response["Location"].startswith(f"{login_url()}?next=")
    return False


def stored(key: str) -> tuple[bool, bool]:
    """Whether the session is in the database, and in a session cache (if the engine keeps one)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    cache_key = getattr(store, "cache_key", None)
    in_cache = cache_key is not None and caches[settings.SESSION_CACHE_ALIAS].get(cache_key) is not None
    return Session.objects.filter(session_key=key).exists(), in_cache


# Log out ------------------------------------------------------------------------


def test_logout_deletes_the_session_from_the_database(ada):
    client = Client()
    key = log_in(client)
    assert stored(key) == (True, False), "sessions live in the database only"

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert stored(key) == (False, False)
    assert session_key(client) is None


def test_a_session_cookie_replayed_after_logout_is_anonymous(ada):
    """A copy of the cookie taken before logout opens nothing afterwards, not even a POST."""
    client = Client()
    key = log_in(client)
    assert is_logged_in(replay(key))
    client.post("/accounts/logout/")
    topic = make_topic()
    thief = replay(key)

    assert not is_logged_in(thief)
    tick = thief.post(f"{topic.get_absolute_url()}progress/", {"status": "done"})
    assert tick["Location"].startswith(f"{login_url()}?next=")
    assert not Progress.objects.exists()
    assert SESSION_KEY not in thief.session


def test_a_replayed_cookie_never_gets_the_learner_cached_pages(ada):
    """Pages Ada saw while she was logged in are not served to her old cookie after logout."""
    client = Client()
    key = log_in(client)
    assert "Ada Lovelace" in client.get("/").content.decode()  # her copy of the home page, now cached
    client.post("/accounts/logout/")

    home = replay(key).get("/")

    assert home.status_code == 200
    assert "Ada Lovelace" not in home.content.decode()


def test_deleting_the_account_ends_its_session(ada):
    client = Client()
    key = log_in(client)

    client.post("/accounts/delete/", {"password": PASSWORD})

    assert stored(key) == (False, False)
    assert not is_logged_in(replay(key))


# Password change and reset --------------------------------------------------------


def test_password_change_logs_out_the_other_sessions_and_keeps_this_one(ada):
    here, elsewhere = Client(), Client()
    log_in(here)
    other_key = log_in(elsewhere)

    response = here.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/accounts/password_change/done/"
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    # Django flushed the stale session when it was presented: it cannot come back later either.
    assert stored(other_key) == (False, False)


def test_password_change_gives_the_changing_client_a_new_session_key(ada):
    """The key from before the change (a copy may have leaked with the old password) no longer works."""
    client = Client()
    old_key = log_in(client)

    client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert session_key(client) not in (None, old_key)
    assert not is_logged_in(replay(old_key))
    assert is_logged_in(client)


def test_a_password_set_in_the_admin_logs_the_user_out(ada):
    make_user(username="root", password=PASSWORD, is_staff=True, is_superuser=True)
    learner, admin = Client(), Client()
    log_in(learner)
    log_in(admin, "root")  # lands on the dashboard like every login through the site's form

    response = admin.post(
        f"/{settings.ADMIN_URL}accounts/user/{ada.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert not is_logged_in(learner)
    assert is_logged_in(admin)


def test_password_reset_logs_out_existing_sessions_and_logs_nobody_in(ada):
    logged_in = Client()
    key = log_in(logged_in)
    resetter = Client()
    resetter.post("/accounts/password_reset/", {"email": "ada@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", mail.outbox[0].body).group(1)
    form_page = resetter.get(link, follow=True)

    done = resetter.post(
        form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert done["Location"] == "/accounts/reset/done/"
    assert not is_logged_in(logged_in)
    assert stored(key) == (False, False)
    assert not is_logged_in(resetter)
    assert log_in(Client(), password=NEW_PASSWORD)


# Session fixation: a login always starts a new session ------------------------------


def test_anonymous_browsing_creates_no_session(ada):
    """Nothing an anonymous visitor does before logging in stores a session (or sets its cookie)."""
    client = Client()

    client.get("/")
    client.get(login_url())
    client.post("/theme/", {"theme": "dark"})
    client.post(login_url(), {"username": "ada", "password": "wrong-password"})

    assert session_key(client) is None
    assert not Session.objects.exists()


def test_login_replaces_a_session_the_visitor_already_had(ada):
    """A session that existed before the login (planted by an attacker, say) is not the one that gets logged in."""
    engine = import_module(settings.SESSION_ENGINE)
    planted = engine.SessionStore()
    planted["visited"] = True
    planted.create()
    client = replay(planted.session_key)
    client.get(login_url())

    new_key = log_in(client)

    assert new_key != planted.session_key
    assert stored(planted.session_key) == (False, False)
    assert not is_logged_in(replay(planted.session_key))
    assert is_logged_in(replay(new_key))


def test_login_never_adopts_a_session_key_made_up_by_the_client(ada):
    """A cookie value an attacker chose (and could then reuse) is replaced by a key the server generates."""
    chosen = "attackerchosen0123456789abcdefgh"
    client = replay(chosen)

    key = log_in(client)

    assert key != chosen
    assert not Session.objects.filter(session_key=chosen).exists()
    assert not is_logged_in(replay(chosen))


def test_logging_in_as_someone_else_ends_the_previous_user_session(ada):
    make_user(username="grace", password=PASSWORD)
    client = Client()
    ada_key = log_in(client)

    grace_key = log_in(client, "grace")

    assert grace_key != ada_key
    assert stored(ada_key) == (False, False)
    assert client.get("/dashboard/").context["user"].username == "grace"


def test_the_session_cookie_is_http_only_same_site_and_named_by_settings(ada):
    client = Client()

    response = client.post(login_url(), {"username": "ada", "password": PASSWORD})

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert bool(cookie["secure"]) is settings.SESSION_COOKIE_SECURE
