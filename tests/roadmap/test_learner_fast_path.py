"""roadmap.caching.learner_page: a learner's stored page, served before the middleware stack, as the stack would.

It answers only a session this process has seen, for a page the full stack
already rendered for that learner at this content version and progress
state, and only after every check ``django.contrib.auth.get_user()`` makes.
Each test shows either that it answered (``served``) and what it answered,
or that it stepped aside and the full stack decided.
"""

import re
import time
from email.utils import parsedate_to_datetime

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts import sessions
from roadmap import caching
from roadmap.caching import CSRF_PLACEHOLDER
from tests.factories import make_user
from tests.helpers import soup_of

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
STAGE = ROADMAP + "django-orm-object-relational-mapping/"
TOPIC = STAGE + "querysets/"
PAGES = [ROADMAP, STAGE, TOPIC, ROADMAP + "?show=left", "/dashboard/"]
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def ada(seeded):
    return make_user(username="ada", password=PASSWORD)


@pytest.fixture
def ada_client(ada) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 302
    return client


def comparable(response) -> tuple:
    """Status, headers and body, less what differs between any two responses (token, request id, dates)."""
    headers = {
        name: re.sub(r"expires=[^;]+", "expires=…", value)
        for name, value in response.headers.items()
        if name not in ("X-Request-ID", "Expires", "Date")
    }
    body = re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"token", response.content)
    return response.status_code, headers, body


@pytest.mark.parametrize("url", PAGES)
def test_it_answers_what_the_full_stack_answers(ada_client, served, url):
    live = ada_client.get(url)  # rendered and stored
    stored = ada_client.get(url)  # served before the stack
    assert served == [url]
    assert comparable(stored) == comparable(live)
    assert abs(parsedate_to_datetime(stored["Expires"]).timestamp() - time.time()) < 5  # now, as Django writes it
    assert stored.cookies[settings.CSRF_COOKIE_NAME].value == live.cookies[settings.CSRF_COOKIE_NAME].value
    assert CSRF_PLACEHOLDER.encode() not in stored.content


def test_it_costs_one_query(ada_client, served, django_assert_num_queries):
    ada_client.get(ROADMAP)
    with django_assert_num_queries(1):
        assert ada_client.get(ROADMAP).status_code == 200
    assert served == [ROADMAP]


def test_each_answer_carries_a_fresh_token_that_posts(ada, served):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "ada", "password": PASSWORD}).status_code == 403
    login_token = soup_of(client.get("/accounts/login/")).select_one("input[name=csrfmiddlewaretoken]")["value"]
    assert (
        client.post(
            "/accounts/login/", {"username": "ada", "password": PASSWORD, "csrfmiddlewaretoken": login_token}
        ).status_code
        == 302
    )
    client.get(TOPIC)
    tokens = [soup_of(client.get(TOPIC)).select_one("#progress-form input")["value"] for _ in range(2)]
    assert served == [TOPIC, TOPIC]
    assert tokens[0] != tokens[1]
    response = client.post(TOPIC + "progress/", {"status": "done", "csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302


def test_a_tick_is_seen_on_the_next_request(ada_client, served):
    ada_client.get(TOPIC)
    ada_client.post(TOPIC + "progress/", {"status": "done"})
    ada_client.cookies.pop(caching.CookieStorage.cookie_name, None)
    page = ada_client.get(TOPIC)
    assert served == []  # a new progress state: rendered afresh
    assert "Done" in soup_of(page).select_one("[data-status-badge]").get_text()


def test_learners_never_get_each_others_pages(ada_client, served):
    grace = make_user(username="grace", password=PASSWORD)
    grace_client = Client()
    grace_client.force_login(grace)
    ada_client.post(TOPIC + "progress/", {"status": "done"})
    for client in (ada_client, grace_client, ada_client, grace_client):
        client.cookies.pop(caching.CookieStorage.cookie_name, None)
        client.get(TOPIC)
    assert served == [TOPIC, TOPIC]  # each their own copy, the second time
    ada_row = soup_of(ada_client.get(TOPIC)).select_one("[data-status-badge]").get_text()
    grace_row = soup_of(grace_client.get(TOPIC)).select_one("[data-status-badge]").get_text()
    assert "Done" in ada_row and "Not started" in grace_row


# It steps aside ------------------------------------------------------------------------------


def test_not_for_a_session_this_process_has_not_seen(ada_client, served):
    ada_client.get(ROADMAP)
    sessions.known.clear()
    ada_client.get(ROADMAP)
    assert served == []


def test_not_when_the_session_ended_elsewhere(ada_client, served):
    ada_client.get("/dashboard/")
    key = ada_client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).delete()
    caches[settings.SESSION_CACHE_ALIAS].delete(sessions.SessionStore.cache_key_prefix + key)  # as its logout does
    response = ada_client.get("/dashboard/")
    assert served == []
    assert response.status_code == 302  # to the login page


def test_not_after_a_password_change_elsewhere(ada_client, ada, served):
    ada_client.get("/dashboard/")
    ada.set_password("another-long-passphrase")
    ada.save()
    assert ada_client.get("/dashboard/").status_code == 302
    assert served == []


def test_not_after_the_secret_key_changes(ada_client, served, settings):
    ada_client.get("/dashboard/")
    ada_client.get("/dashboard/")
    assert served == ["/dashboard/"]
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-" + "k" * 40
    response = ada_client.get("/dashboard/")
    assert served == ["/dashboard/"]  # its session hash was made under the old key: the full stack decides
    assert response.status_code == 200  # and keeps the learner logged in, through the fallback


def test_not_for_a_deactivated_learner(ada_client, ada, served):
    ada_client.get("/dashboard/")
    type(ada).objects.filter(pk=ada.pk).update(is_active=False)
    assert ada_client.get("/dashboard/").status_code == 302
    assert served == []


def test_not_for_a_tampered_session_hash(ada_client, served):
    ada_client.get(ROADMAP)
    key = ada_client.cookies[settings.SESSION_COOKIE_NAME].value
    store = sessions.SessionStore(key)
    store[HASH_SESSION_KEY] = "0" * 64
    store.save()
    ada_client.get(ROADMAP)
    assert served == []


def test_not_for_staff(seeded, served):
    editor = make_user(username="editor", is_staff=True)
    client = Client()
    client.force_login(editor)
    client.get(ROADMAP)
    client.get(ROADMAP)
    assert served == []


@pytest.mark.parametrize(
    "cookie",
    [None, "", "short", "x" * 31 + "!", "A" * 64],
    ids=["missing", "empty", "short", "bad-character", "masked-legacy"],
)
def test_not_with_a_csrf_cookie_django_would_replace(ada_client, served, cookie):
    ada_client.get(ROADMAP)
    if cookie is None:
        del ada_client.cookies[settings.CSRF_COOKIE_NAME]
    else:
        ada_client.cookies[settings.CSRF_COOKIE_NAME] = cookie
    response = ada_client.get(ROADMAP)
    assert served == []
    assert response.status_code == 200


def test_not_with_messages_waiting(ada_client, served):
    ada_client.get(ROADMAP)
    ada_client.post(TOPIC + "progress/?next=" + ROADMAP, {"status": "done"})  # "marked as done" waits
    ada_client.get(ROADMAP)  # renders afresh (new state), shows and clears the message
    ada_client.cookies[caching.CookieStorage.cookie_name] = "anything"
    ada_client.get(ROADMAP)
    assert served == []


def test_not_for_a_post_or_an_unseen_path(ada_client, served):
    ada_client.get(ROADMAP)
    ada_client.post(ROADMAP)
    ada_client.get(ROADMAP + "?show=everything")
    assert served == []


def test_a_head_request_gets_the_headers_only(ada_client, served):
    ada_client.get(ROADMAP)
    response = ada_client.head(ROADMAP)
    assert served == [ROADMAP]
    assert response.status_code == 200 and response.content == b""


def test_a_miss_hands_its_read_to_the_full_stack_and_nothing_outlives_the_request(ada_client, served):
    ada_client.get(ROADMAP)
    ada_client.post(TOPIC + "progress/", {"status": "done"})  # a new state: the stored page is old
    ada_client.cookies.pop(caching.CookieStorage.cookie_name, None)
    with CaptureQueriesContext(connection) as queries:
        assert ada_client.get(ROADMAP).status_code == 200  # learner_page reads, misses, the stack renders
    assert served == []
    session_reads = [query for query in queries.captured_queries if "django_session" in query["sql"]]
    assert len(session_reads) == 1
    assert sum("accounts_user" in query["sql"] for query in queries.captured_queries) == 1
    assert sessions.preloaded.get() is None


def test_no_user_read_outlives_its_request(ada_client, served):
    from accounts import backends

    ada_client.get(ROADMAP)
    ada_client.get(ROADMAP)
    assert served == [ROADMAP]
    assert backends._prefetched.get() is None
    assert sessions.preloaded.get() is None
