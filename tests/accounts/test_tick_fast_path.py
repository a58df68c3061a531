"""accounts.ticks: the tick-off form's POST answered before the middleware stack, in one statement.

Every test compares with what the full stack answers, or checks that anything
out of the ordinary goes down the full stack with nothing written. PostgreSQL
only: SQLite has no data-modifying CTEs, and its ticks always take the full
stack (the last test).
"""

import logging

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services, ticks
from accounts.models import Progress, ProgressEvent, User
from tests.conftest import answered_by
from tests.factories import make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fast path needs PostgreSQL's data-modifying CTEs"
)

PASSWORD = "correct-horse-battery-staple"
TOPIC = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/querysets/"
PROGRESS = TOPIC + "progress/"
OTHER = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/models/progress/"


@pytest.fixture
def answered(monkeypatch) -> list[str]:
    """The tick-offs accounts.ticks answered itself."""
    return answered_by(monkeypatch, ticks, "tick_response")


def log_in(username: str, **client_options) -> Client:
    client = Client(**client_options)
    token = soup_of(client.get("/accounts/login/")).select_one("input[name=csrfmiddlewaretoken]")["value"]
    credentials = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    response = client.post("/accounts/login/", credentials)
    assert response.status_code == 302
    client.get("/dashboard/")  # this process now knows the session's user, as after any page
    return client


@pytest.fixture
def ada(seeded) -> User:
    return make_user(username="ada", password=PASSWORD)


@pytest.fixture
def ada_client(ada, answered) -> Client:
    return log_in("ada")


def tick(client: Client, path: str = PROGRESS, status: str = "done", **data):
    """A tick-off as the page's form sends it; the messages cookie is shown and cleared, as a browser would."""
    response = client.post(path, {"status": status, **data})
    client.cookies.pop("messages", None)
    return response


def statuses(user: User) -> dict[str, str]:
    return dict(Progress.objects.filter(user=user).values_list("topic__slug", "status"))


@postgresql_only
def test_a_tick_is_one_statement_and_answers_as_the_full_stack(ada, ada_client, answered, monkeypatch):
    with CaptureQueriesContext(connection) as queries:
        fast = ada_client.post(PROGRESS, {"status": "done"})
    assert answered == [PROGRESS]
    # The roadmap's numbered topics (3, once per content version), the session with its user
    # (once in this process), then the change.
    assert len(queries) == 5
    assert statuses(ada) == {"querysets": "done"}
    assert list(ProgressEvent.objects.filter(user=ada).values_list("status", flat=True)) == ["done"]
    shown = text(soup_of(ada_client.get(fast.url)).select_one(".alert"))

    ada_client.post(PROGRESS, {"status": "not_started"})  # back, through the fast path again
    monkeypatch.setattr(ticks, "tick_response", lambda request: None)
    full = log_in("ada").post(PROGRESS, {"status": "done"})
    assert (fast.status_code, fast.url) == (full.status_code, full.url) == (302, TOPIC)
    assert shown == "6.2 QuerySets: marked as done."
    assert fast.cookies["messages"].value.split(":")[0] == full.cookies["messages"].value.split(":")[0]
    for header in ("Content-Type", "Content-Length", "Vary", "Cache-Control", "X-Frame-Options"):
        assert fast[header] == full[header], header
    assert "Expires" in fast
    assert settings.SESSION_COOKIE_NAME not in fast.cookies and settings.CSRF_COOKIE_NAME not in fast.cookies


@postgresql_only
def test_the_next_ticks_are_one_statement_each(ada, ada_client, answered):
    tick(ada_client)
    for status in ("in_progress", "skipped", "not_started", "done"):
        with CaptureQueriesContext(connection) as queries:
            assert tick(ada_client, OTHER, status).status_code == 302
        assert len(queries) == 1, [query["sql"][:80] for query in queries]
    assert answered == [PROGRESS] + [OTHER] * 4
    assert statuses(ada) == {"querysets": "done", "models": "done"}
    assert ProgressEvent.objects.filter(user=ada).count() == 5


@postgresql_only
def test_the_learner_state_version_changes_so_pages_are_never_stale(ada, ada_client, answered):
    roadmap = "/roadmaps/django-roadmap/"
    assert "0 of 57 done" in text(soup_of(ada_client.get(roadmap)))
    ada_client.get(roadmap)  # stored for Ada at this state
    tick(ada_client)
    assert "1 of 57 done" in text(soup_of(ada_client.get(roadmap)))
    assert answered == [PROGRESS]
    before = User.objects.get(pk=ada.pk).state_version
    tick(ada_client, status="done")  # no change: no new version, no event
    assert User.objects.get(pk=ada.pk).state_version == before
    assert ProgressEvent.objects.filter(user=ada).count() == 1


@postgresql_only
def test_next_is_followed_only_on_this_site(ada_client, answered):
    assert tick(ada_client, next="/dashboard/").url == "/dashboard/"
    assert tick(ada_client, status="in_progress", next="https://evil.example/").url == TOPIC
    assert len(answered) == 2


@postgresql_only
def test_logged_out_elsewhere_writes_nothing_and_asks_to_log_in(ada, ada_client, answered):
    tick(ada_client)  # the process now holds the session's rows
    ticks.sessions.SessionStore(Session.objects.get().session_key).delete()  # logged out in another tab
    response = tick(ada_client, OTHER)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert answered == [PROGRESS]
    assert statuses(ada) == {"querysets": "done"}


@postgresql_only
@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user: user.set_password("another-horse-battery-staple"), id="new-password"),
        pytest.param(lambda user: setattr(user, "is_active", False), id="deactivated"),
        pytest.param(lambda user: setattr(user, "is_staff", True), id="made-staff"),
    ],
)
def test_a_changed_user_goes_down_the_full_stack(ada, ada_client, answered, change):
    tick(ada_client)
    user = User.objects.get(pk=ada.pk)
    change(user)
    user.save()
    response = tick(ada_client, OTHER)
    assert answered == [PROGRESS]
    if user.is_staff and user.is_active and user.check_password(PASSWORD):
        assert response.url == OTHER.removesuffix("progress/")  # staff tick through the full stack
        assert statuses(ada)["models"] == "done"
    else:
        assert response.url.startswith("/accounts/login/")  # the full stack no longer knows them
        assert "models" not in statuses(ada)


@postgresql_only
def test_an_expired_session_writes_nothing(ada, ada_client, answered):
    tick(ada_client)
    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))
    caches[settings.SESSION_CACHE_ALIAS].clear()  # its cached copy expires with it
    response = tick(ada_client, OTHER)
    assert response.url.startswith("/accounts/login/")
    assert answered == [PROGRESS] and "models" not in statuses(ada)


@postgresql_only
def test_outdated_rows_are_read_again_once(ada, ada_client, answered):
    """The session's data changed since this process read it (a theme saved in it, say): one failed
    statement that changed nothing, the read, the change."""
    tick(ada_client)
    session = Session.objects.get()
    store = ticks.sessions.SessionStore(session.session_key)
    store["seen"] = True
    store.save()
    with CaptureQueriesContext(connection) as queries:
        assert tick(ada_client, OTHER).url == OTHER.removesuffix("progress/")
    assert len(queries) == 3
    assert answered == [PROGRESS, OTHER]
    assert statuses(ada) == {"querysets": "done", "models": "done"}


@postgresql_only
def test_a_curriculum_change_is_seen_by_the_next_tick(ada, ada_client, answered):
    from roadmap.models import Topic

    tick(ada_client)
    topic = Topic.objects.get(slug="models", stage__slug="django-orm-object-relational-mapping")
    topic.title = "Model classes"
    topic.save()  # a new content version
    response = ada_client.post(OTHER, {"status": "done"})
    assert "Model classes: marked as done" in text(soup_of(ada_client.get(response.url)).select_one(".alert"))
    assert answered == [PROGRESS, OTHER]
    topic.stage.roadmap.is_published = False
    topic.stage.roadmap.save()
    ada_client.cookies.pop("messages", None)
    assert ada_client.post(OTHER, {"status": "not_started"}).status_code == 404
    assert statuses(ada)["models"] == "done"


@postgresql_only
def test_learners_only_ever_change_their_own_progress(ada, ada_client, answered):
    make_user(username="grace", password=PASSWORD)
    grace_client = log_in("grace")
    for client, path in ((ada_client, PROGRESS), (grace_client, OTHER), (ada_client, OTHER), (grace_client, PROGRESS)):
        tick(client, path, "in_progress" if client is grace_client else "done")
    assert len(answered) == 4
    assert statuses(ada) == {"querysets": "done", "models": "done"}
    assert statuses(User.objects.get(username="grace")) == {"querysets": "in_progress", "models": "in_progress"}
    # Were this process to take Ada's session for Grace's, the fast path would not tick for Grace:
    # the full stack reads the session afresh and ticks for Ada, whose session it is.
    ada_key = ada_client.cookies[settings.SESSION_COOKIE_NAME].value
    ticks.sessions.known.learn(ada_key, User.objects.get(username="grace").pk)
    ticks.last_read.clear()
    assert tick(ada_client, PROGRESS, "skipped").status_code == 302
    assert len(answered) == 4
    assert statuses(ada)["querysets"] == "skipped"
    assert statuses(User.objects.get(username="grace"))["querysets"] == "in_progress"


@postgresql_only
def test_a_refused_token_is_the_full_stacks_403_logged_once(ada, answered, caplog):
    client = log_in("ada", enforce_csrf_checks=True)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(PROGRESS, {"status": "done", "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert len([record for record in caplog.records if record.name == "django.security.csrf"]) == 1
    assert answered == [] and Progress.objects.count() == 0
    token = soup_of(client.get(TOPIC)).select_one("input[name=csrfmiddlewaretoken]")["value"]
    assert client.post(PROGRESS, {"status": "done", "csrfmiddlewaretoken": token}).status_code == 302
    assert answered == [PROGRESS]


@postgresql_only
@pytest.mark.parametrize("status", ["", "finished", "DONE"])
def test_an_unknown_status_is_the_forms_400(ada_client, answered, status):
    response = ada_client.post(PROGRESS, {"status": status})
    assert response.status_code == 400
    assert answered == [] and Progress.objects.count() == 0


@postgresql_only
def test_the_script_and_pending_messages_go_down_the_full_stack(ada, ada_client, answered):
    answer = ada_client.post(PROGRESS, {"status": "done"}, headers={"Accept": "application/json"})
    assert answer.json()["status"] == "done" and "progress" in answer.json()
    assert answered == []
    ada_client.post(OTHER, {"status": "done"})  # its message waits in the cookie
    ada_client.post(PROGRESS, {"status": "in_progress"})  # so this one takes the full stack, which keeps both
    assert answered == [OTHER]
    shown = [text(alert) for alert in soup_of(ada_client.get(TOPIC)).select(".alert")]
    assert shown == ["6.1 Models: marked as done.", "6.2 QuerySets: marked as in progress."]


@postgresql_only
def test_an_unknown_topic_or_session_goes_down_the_full_stack(ada_client, answered):
    assert tick(ada_client, TOPIC.replace("querysets", "nope") + "progress/").status_code == 404
    stranger = Client()
    stranger.cookies[settings.SESSION_COOKIE_NAME] = "no-such-session"
    assert stranger.post(PROGRESS, {"status": "done"}).url.startswith("/accounts/login/")
    assert answered == [] and Progress.objects.count() == 0


def test_sqlite_ticks_take_the_full_stack(ada, ada_client, answered):
    response = tick(ada_client)
    assert response.status_code == 302 and response.url == TOPIC
    assert statuses(ada) == {"querysets": "done"}
    assert answered == ([PROGRESS] if connection.vendor == "postgresql" else [])


def test_the_status_check_accepts_what_the_form_accepts():
    from accounts.forms import ProgressForm

    choices = {value for value, _ in ProgressForm.base_fields["status"].choices}
    assert choices == services.STATUS_VALUES
