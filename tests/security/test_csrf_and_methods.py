"""CSRF and HTTP methods: every state change is a POST that carries this visitor's token.

Each state-changing endpoint is posted by the role that may use it, with a
client that enforces CSRF checks as browsers' requests are: without a token,
with a wrong one, with another visitor's, without the cookie, and from a
foreign ``Origin``. Each is a 403 and the database, the session and the
outbox are exactly as before. The same request with its own token goes
through, so the refusal is the token's doing, not bad test data.

POST-only endpoints answer 405 to GET (and to PUT, PATCH, DELETE); form pages
show their form on GET and change nothing whatever the query string says.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.models import Note, Progress, User
from roadmap.models import Roadmap, Topic
from tests.factories import make_roadmap, make_stage, make_topic, make_user
from tests.helpers import form_data

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "a-brand-new-passphrase-42"
TOKEN_FIELD = "csrfmiddlewaretoken"


@pytest.fixture
def scene(learner):
    """A small roadmap; the learner has a note; an editor and a superuser."""
    roadmap = make_roadmap(title="Forms", slug="forms")
    stage = make_stage(roadmap, slug="basics", position=1)
    topic = make_topic(stage, title="Fields", slug="fields", position=1)
    spare = make_topic(stage, title="Widgets", slug="widgets", position=2)
    services.note_set(user=learner, topic=topic, text="Original note.")
    editor = make_user(username="editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    root = make_user(username="root", is_staff=True, is_superuser=True)
    users = {"anonymous": None, "learner": learner, "editor": editor, "superuser": root}
    return SimpleNamespace(roadmap=roadmap, topic=topic, spare=spare, learner=learner, users=users)


def observe(client: Client) -> dict:
    """Everything a forged request could change: rows, passwords, profiles, the admin log, mail, the session."""
    return {
        "users": sorted(
            User.objects.values_list("username", "password", "email", "display_name", "is_superuser", "is_active")
        ),
        "progress": sorted(Progress.objects.values_list("user__username", "topic__slug", "status")),
        "notes": sorted(Note.objects.values_list("user__username", "topic__slug", "text")),
        "curriculum": sorted(Topic.objects.values_list("slug", "title"))
        + sorted(Roadmap.objects.values_list("slug", "title")),
        "admin log": LogEntry.objects.count(),
        "outbox": len(mail.outbox),
        "signed in as": client.session.get("_auth_user_id"),
    }


@dataclass(frozen=True)
class Change:
    """A state-changing endpoint: who uses it, the page its form is on, and a submission that would succeed."""

    role: str
    page: Callable[[SimpleNamespace], str]
    data: Callable[[SimpleNamespace, Client], tuple[str, dict]]


def _topic(scene) -> str:
    return scene.topic.get_absolute_url()


def _admin_form(url: str, **changes: str) -> Callable[[SimpleNamespace, Client], tuple[str, dict]]:
    """The admin form at ``url`` as a browser would submit it, with ``changes``; its own token left out."""

    def data(scene, client):
        path = url.format(topic=scene.topic.pk, spare=scene.spare.pk, learner=scene.learner.pk)
        html = client.get(path).content
        fields = form_data(html)
        fields.pop(TOKEN_FIELD, None)
        # An empty multiple select submits nothing (form_data would send "").
        empty = {select["name"] for select in BeautifulSoup(html, "html.parser").select("select[multiple]")}
        fields = {name: value for name, value in fields.items() if value or name not in empty}
        return path, {**fields, **changes}

    return data


def _reset_confirm(scene, client) -> tuple[str, dict]:
    uid = urlsafe_base64_encode(force_bytes(scene.learner.pk))
    token = default_token_generator.make_token(scene.learner)
    set_password = client.get(f"/accounts/reset/{uid}/{token}/")["Location"]  # the token moves to the session
    client.get(set_password)
    return set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


CHANGES = {
    "progress": Change(
        "learner", _topic, lambda s, c: (_topic(s) + "progress/", {"status": "done", "next": _topic(s)})
    ),
    "note": Change("learner", _topic, lambda s, c: (_topic(s) + "note/", {"text": "Forged note."})),
    "logout": Change("learner", lambda s: "/dashboard/", lambda s, c: ("/accounts/logout/", {})),
    "signup": Change(
        "anonymous",
        lambda s: "/accounts/signup/",
        lambda s, c: (
            "/accounts/signup/",
            {"username": "forged", "email": "f@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ),
    ),
    "login": Change(
        "anonymous",
        lambda s: "/accounts/login/",
        lambda s, c: ("/accounts/login/", {"username": s.learner.username, "password": PASSWORD}),
    ),
    "profile": Change(
        "learner",
        lambda s: "/accounts/profile/",
        lambda s, c: ("/accounts/profile/", {"display_name": "Forged", "bio": "", "is_profile_public": "on"}),
    ),
    "account delete": Change(
        "learner", lambda s: "/accounts/delete/", lambda s, c: ("/accounts/delete/", {"password": PASSWORD})
    ),
    "password change": Change(
        "learner",
        lambda s: "/accounts/password_change/",
        lambda s, c: (
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
    ),
    "password reset": Change(
        "anonymous",
        lambda s: "/accounts/password_reset/",
        lambda s, c: ("/accounts/password_reset/", {"email": s.learner.email}),
    ),
    "password reset confirm": Change("anonymous", lambda s: "/accounts/password_reset/", _reset_confirm),
    "admin login": Change(
        "anonymous",
        lambda s: "/admin/login/",
        lambda s, c: ("/admin/login/", {"username": "root", "password": PASSWORD, "next": "/admin/"}),
    ),
    "admin logout": Change("superuser", lambda s: "/admin/", lambda s, c: ("/admin/logout/", {})),
    "admin password change": Change(
        "superuser",
        lambda s: "/admin/password_change/",
        lambda s, c: (
            "/admin/password_change/",
            {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        ),
    ),
    "admin add": Change(
        "editor", lambda s: "/admin/", _admin_form("/admin/roadmap/roadmap/add/", title="Forged", slug="forged")
    ),
    "admin change": Change(
        "editor", lambda s: "/admin/", _admin_form("/admin/roadmap/topic/{topic}/change/", title="Forged")
    ),
    "admin delete": Change(
        "editor", lambda s: "/admin/", lambda s, c: (f"/admin/roadmap/topic/{s.spare.pk}/delete/", {"post": "yes"})
    ),
    "admin bulk delete": Change(
        "superuser",
        lambda s: "/admin/",
        lambda s, c: (
            "/admin/roadmap/topic/",
            {"action": "delete_selected", "_selected_action": [str(s.spare.pk)], "post": "yes"},
        ),
    ),
    "admin makes a superuser": Change(
        "superuser", lambda s: "/admin/", _admin_form("/admin/accounts/user/{learner}/change/", is_superuser="on")
    ),
}


def prepared(scene, name: str) -> tuple[Client, str, dict]:
    """A CSRF-enforcing client for the endpoint's role that has seen the form's page, and the submission."""
    change = CHANGES[name]
    client = Client(enforce_csrf_checks=True)
    if scene.users[change.role] is not None:
        client.force_login(scene.users[change.role])
    assert client.get(change.page(scene)).status_code == 200
    url, data = change.data(scene, client)
    assert settings.CSRF_COOKIE_NAME in client.cookies, "the form's page sets the CSRF cookie"
    return client, url, data


def another_visitors_token() -> str:
    stranger = Client(enforce_csrf_checks=True)
    stranger.get("/accounts/login/")
    return stranger.cookies[settings.CSRF_COOKIE_NAME].value


FORGERIES = ["no token", "wrong token", "another visitor's token", "no cookie", "foreign origin"]


def forge(client: Client, data: dict, forgery: str) -> tuple[dict, dict]:
    """The submission and headers of a forged request; the client's own cookie stays unless the forgery drops it."""
    own = client.cookies[settings.CSRF_COOKIE_NAME].value
    if forgery == "no token":
        return data, {}
    if forgery == "wrong token":
        return {**data, TOKEN_FIELD: "x" * 64}, {}
    if forgery == "another visitor's token":
        return {**data, TOKEN_FIELD: another_visitors_token()}, {}
    if forgery == "no cookie":
        del client.cookies[settings.CSRF_COOKIE_NAME]
        return {**data, TOKEN_FIELD: own}, {}
    assert forgery == "foreign origin"
    return {**data, TOKEN_FIELD: own}, {"HTTP_ORIGIN": "https://evil.example"}


@pytest.mark.parametrize("forgery", FORGERIES)
@pytest.mark.parametrize("name", CHANGES)
def test_a_forged_post_is_refused_and_changes_nothing(scene, name, forgery):
    """403 (Django's CSRF failure page) and not one row, password, session or email differs."""
    client, url, data = prepared(scene, name)
    before = observe(client)
    data, headers = forge(client, data, forgery)

    response = client.post(url, data, **headers)

    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content
    assert observe(client) == before


@pytest.mark.parametrize("name", CHANGES)
def test_the_same_post_with_its_own_token_goes_through(scene, name):
    """The control: with the visitor's token the submission changes something, so the 403s above are CSRF's."""
    client, url, data = prepared(scene, name)
    before = observe(client)

    response = client.post(url, {**data, TOKEN_FIELD: client.cookies[settings.CSRF_COOKIE_NAME].value})

    assert response.status_code in (200, 302)
    assert observe(client) != before


def test_a_forged_progress_update_from_the_page_script_is_refused(scene):
    """The page's script asks for JSON; a forged one (wrong header token) is a 403 too, and changes nothing."""
    client, url, data = prepared(scene, "progress")
    before = observe(client)

    forged = client.post(url, data, HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN="x" * 64)
    assert forged.status_code == 403
    assert observe(client) == before

    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    genuine = client.post(url, data, HTTP_ACCEPT="application/json", HTTP_X_CSRFTOKEN=token)
    assert genuine.status_code == 200
    assert genuine.json()["status"] == "done"


def _routes(patterns, prefix: tuple = (), namespaces: tuple = ()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            spaces = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _routes(entry.url_patterns, (*prefix, entry.pattern), spaces)
        else:
            name = ":".join((*namespaces, entry.name)) if entry.name else "".join(map(str, (*prefix, entry.pattern)))
            yield name, (*prefix, entry.pattern), entry.callback


def _path(patterns) -> str:
    """A path the pattern resolves, with placeholder values (CSRF is checked before any lookup)."""
    parts = []
    for pattern in patterns:
        if isinstance(pattern, RegexPattern):
            part = str(pattern).removeprefix("^").removesuffix("$")
            parts.append(re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "roadmap" if m[1] == "app_label" else "x", part))
        else:
            parts.append(re.sub(r"<(?:\w+:)?\w+>", "1", str(pattern)))
    return "/" + "".join(parts)


CSRF_EXEMPT = {"accounts:theme"}


def test_only_the_theme_switch_is_exempt_from_csrf():
    """No view is ``csrf_exempt`` but the colour theme (cosmetic, harmless to forge, keeps pages cacheable)."""
    exempt = {name for name, _, callback in _routes(get_resolver().url_patterns) if getattr(callback, "csrf_exempt", 0)}

    assert exempt == CSRF_EXEMPT


@pytest.mark.parametrize("role", ["anonymous", "superuser"])
def test_every_url_refuses_a_post_without_a_token(scene, role):
    """Whatever the URL (including ones added later), a POST without a token is a 403 before the view runs."""
    client = Client(enforce_csrf_checks=True)
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    before = observe(client)
    answers = {}
    for name, patterns, _ in _routes(get_resolver().url_patterns):
        if name not in CSRF_EXEMPT:
            answers[name] = client.post(_path(patterns), {"title": "Forged"}).status_code

    assert {name: status for name, status in answers.items() if status != 403} == {}
    assert len(answers) > 60
    assert observe(client) == before


def test_the_theme_switch_works_without_a_token_and_changes_only_a_cookie(scene):
    """The one exemption does what it says: a forged theme switch sets a cosmetic cookie and touches no data."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(scene.learner)
    before = observe(client)

    response = client.post("/theme/", {"theme": "dark", "next": "/"})

    assert response.status_code == 302
    assert response.cookies["theme"].value == "dark"
    assert observe(client) == before


# Methods: state changes are POST-only; GET shows forms and changes nothing.

POST_ONLY = {
    "progress": ("learner", lambda s: _topic(s) + "progress/", {"status": "done"}),
    "note": ("learner", lambda s: _topic(s) + "note/", {"text": "Changed by GET"}),
    "theme": ("anonymous", lambda s: "/theme/", {"theme": "dark", "next": "/"}),
    "logout": ("learner", lambda s: "/accounts/logout/", {}),
    "admin logout": ("superuser", lambda s: "/admin/logout/", {}),
}


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("name", POST_ONLY)
def test_post_only_endpoints_refuse_other_methods_with_405(scene, name, method):
    """GET (with the form's fields in the query string), PUT, PATCH and DELETE: 405 naming POST, nothing changed."""
    role, url, data = POST_ONLY[name]
    client = Client()
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    before = observe(client)

    if method == "get":
        response = client.get(url(scene), data)
    else:
        response = getattr(client, method)(url(scene), data, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert "theme" not in response.cookies
    assert observe(client) == before


FORM_PAGES = {
    "signup": ("anonymous", "/accounts/signup/", CHANGES["signup"]),
    "login": ("anonymous", "/accounts/login/", CHANGES["login"]),
    "password reset": ("anonymous", "/accounts/password_reset/", CHANGES["password reset"]),
    "profile": ("learner", "/accounts/profile/", CHANGES["profile"]),
    "account delete": ("learner", "/accounts/delete/", CHANGES["account delete"]),
    "password change": ("learner", "/accounts/password_change/", CHANGES["password change"]),
    "admin password change": ("superuser", "/admin/password_change/", CHANGES["admin password change"]),
    "admin delete": ("editor", None, CHANGES["admin delete"]),
    "admin change": ("editor", None, CHANGES["admin change"]),
}


@pytest.mark.parametrize("name", FORM_PAGES)
def test_get_on_a_form_page_shows_the_form_and_changes_nothing(scene, name):
    """GET with a complete submission in the query string only shows the (POST) form: no account, no change."""
    role, page, change = FORM_PAGES[name]
    client = Client()
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    url, data = change.data(scene, client)
    before = observe(client)

    response = client.get(page or url, data)

    assert response.status_code == 200
    forms = BeautifulSoup(response.content, "html.parser").select("main form, #content-main form, #content form")
    assert [form.get("method", "").lower() for form in forms if form.select("[type=submit]")][-1] == "post"
    assert observe(client) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("name", ["signup", "profile", "account delete"])
def test_the_sites_own_form_views_allow_only_get_head_and_post(scene, name, method):
    """Sign-up, profile and account deletion answer other methods with 405, whatever the body."""
    role, _, change = FORM_PAGES[name]
    client = Client()
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    url, data = change.data(scene, client)
    before = observe(client)

    response = getattr(client, method)(url, data, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert observe(client) == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
@pytest.mark.parametrize("name", ["login", "password reset", "password change"])
def test_djangos_auth_views_change_nothing_on_other_methods(scene, name, method):
    """Django's form views treat PUT as POST but read no body from it: the form is empty, nothing changes."""
    role, _, change = FORM_PAGES[name]
    client = Client()
    if scene.users[role] is not None:
        client.force_login(scene.users[role])
    url, data = change.data(scene, client)
    before = observe(client)

    response = getattr(client, method)(url, data, content_type="application/x-www-form-urlencoded")

    assert response.status_code in (200, 405)
    assert observe(client) == before


def test_get_on_the_admin_login_as_a_signed_in_superuser_changes_nothing(scene):
    """A logged-in superuser visiting the admin login (say, via a link) is sent on, still the same session."""
    client = Client()
    client.force_login(scene.users["superuser"])
    before = observe(client)

    response = client.get("/admin/login/", {"username": "root", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert observe(client) == before
