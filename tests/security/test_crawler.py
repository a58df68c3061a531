"""Hostile input: every URL of the site, with valid, unknown and malformed values, never breaks a page.

The crawler walks the root URLconf (``get_resolver()``, includes and the admin's
own patterns too), so a URL added later is crawled without touching this file;
a URL with a parameter the crawler has no values for fails
``test_the_crawler_knows_every_url_parameter`` until ``VALID`` and ``UNKNOWN``
learn it.

Requests go through the default test client, which re-raises any exception a
view lets escape (what would be a 500 page in production); every response is
checked for a 5xx status as well. Each request runs in a savepoint, so one
broken request (on PostgreSQL a failed statement aborts the transaction) is
reported on its own instead of breaking every later one.

Run on SQLite and on PostgreSQL: psycopg refuses strings with NUL characters
(``ValueError``) and PostgreSQL enforces column lengths, two classic sources of
500s that SQLite lets through.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    TO_FIELD_VAR,
)
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core import mail
from django.db import models, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.static import serve as static_serve

from accounts.models import Note, Progress, Status, User
from roadmap.models import Resource, Roadmap, Stage, Topic
from tests.curriculum import load_curriculum
from tests.factories import make_roadmap, make_stage, make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
# Every model the admin edits, with its ModelAdmin.
REGISTERED = {
    model: admin.site.get_model_admin(model) for model in apps.get_models() if admin.site.is_registered(model)
}
ROLES = ["anonymous", "learner", "editor", "superuser"]

# Values a URL parameter takes when it names something that exists: filled in
# by the ``world`` fixture (``None`` here) or fixed.
VALID: dict[str, str | None] = {
    "roadmap": None,
    "stage": None,
    "topic": None,
    "username": None,
    "object_id": None,  # a real primary key of the admin page's model
    "content_type_id": None,
    "id": None,
    "uidb64": None,
    "token": None,
    "app_label": "roadmap",
    "url": "roadmap/topic",  # the admin's catch-all: redirects to add the slash
}
# Well-formed values that name nothing: 404, or the admin's "doesn't exist" redirect.
UNKNOWN = {
    "roadmap": "no-such-roadmap",
    "stage": "no-such-stage",
    "topic": "no-such-topic",
    "username": "nobody-by-that-name",
    "object_id": "987654321",
    "content_type_id": "987654",
    "id": "987654321",
    "uidb64": urlsafe_base64_encode(b"987654321"),
    "token": "c0ffee-0123456789abcdef0123456789abcdef",
    "app_label": "nosuchapp",
    "url": "no/such/page/",
}
# Already percent-encoded, as they would arrive on the wire.
MALFORMED = {
    "very long": "x" * 3000,
    "NUL": "a%00b",
    "invalid UTF-8": "%ff%fe",
    "dot-dot": "%2e%2e%2f%2e%2e",
    "unicode": "%C3%BC%E6%97%A5%F0%9F%92%A9",
    "markup": "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "integer overflow": "9" * 30,
}
# The admin turns every model's object id into a primary key the same way
# (``unquote``, then the field's ``to_python``): each model's change page gets
# every malformed value, its other pages (and everyone's admin pages before the
# login check) a sample.
ADMIN_SAMPLE = ["very long", "NUL", "invalid UTF-8"]
STAFF = {"editor", "superuser"}
# A query string some pages need before they show anything.
BASE_QUERY = {"admin:autocomplete": "app_label=roadmap&model_name=topic&field_name=stage&term=py"}

# Query parameters the views read, by URL name: each gets every kind of junk there.
READS = {
    "roadmap:search": ["q"],
    "roadmap:roadmap_detail": ["show"],
    "login": ["next"],
    "accounts:signup": ["next"],
    "admin:login": ["next"],
    "admin:autocomplete": ["term", "app_label", "model_name", "field_name", "page"],
}
# The admin's changelist parameters; each changelist also reads its filters'
# keys (``filter_keys``) and its search box, which reaches the database.
CHANGELIST_KEYS = [ORDER_VAR, PAGE_VAR, ERROR_FLAG, ALL_VAR, IS_FACETS_VAR, TO_FIELD_VAR, IS_POPUP_VAR]
# Every page gets all of these at once (the page cache looks at every key), in two rounds.
EVERY_PAGE_KEYS = [SEARCH_VAR, "show", "page", "next", *CHANGELIST_KEYS, "_changelist_filters", "zz-unknown"]
EVERY_PAGE_JUNK = {
    "NUL in every key": "&".join(f"{key}=%00" for key in EVERY_PAGE_KEYS) + "&%00=%00",
    # 1,000 characters a key here (the keys a page reads get 10,000 on their own):
    # the admin repeats the query in every link that preserves its filters.
    "arrays, empty, repeated, invalid UTF-8, unicode and long in every key": "&".join(
        f"{key}[]=x&{key}=&{key}=b&{key}=%ff%fe%F0%9F%92%A9{'x' * 1000}" for key in EVERY_PAGE_KEYS
    ),
}
# Per key, already percent-encoded: what no form of ours sends. The last
# value of a repeated key is the one ``QueryDict.get`` reads.
JUNK = {
    "NUL": "{key}=py%00thon",
    "array, empty, repeated, invalid UTF-8, unicode, 10k characters": (
        "{key}[]=x&{key}=&{key}=b&{key}=%ff%fe%F0%9F%92%A9%E2%80%AE" + "x" * 10_000
    ),
}
# The admin's generic changelist keys are handled alike for every model: one changelist gets them.
GENERIC_CHANGELIST = "admin:roadmap_topic_changelist"


@dataclass(frozen=True)
class Route:
    """One URL pattern of the root URLconf, with the patterns that include it."""

    patterns: tuple
    name: str
    callback: object

    @property
    def params(self) -> list[str]:
        names = []
        for pattern in self.patterns:
            regex = r"\(\?P<(\w+)>" if isinstance(pattern, RegexPattern) else r"<(?:\w+:)?(\w+)>"
            names += re.findall(regex, str(pattern))
        return names

    def path(self, values: dict[str, str]) -> str:
        parts = []
        for pattern in self.patterns:
            if isinstance(pattern, RegexPattern):
                part = str(pattern).removeprefix("^").removesuffix("$")
                parts.append(re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m[1]], part))
            else:
                parts.append(re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m[1]], str(pattern)))
        return "/" + "".join(parts)

    @property
    def is_admin(self) -> bool:
        return str(self.patterns[0]) == settings.ADMIN_URL

    @property
    def admin_model(self) -> type[models.Model] | None:
        """The model whose ModelAdmin serves this URL, if any."""
        by_prefix = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m in REGISTERED}
        return (
            next((by_prefix[str(p)] for p in self.patterns[1:2] if str(p) in by_prefix), None)
            if self.is_admin
            else None
        )


def _walk(patterns, prefix: tuple = (), namespaces: tuple = ()) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            spaces = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, (*prefix, entry.pattern), spaces)
        else:
            chain = (*prefix, entry.pattern)
            name = ":".join((*namespaces, entry.name)) if entry.name else "".join(map(str, chain))
            yield Route(chain, name, entry.callback)


# ``static()`` adds Django's development file server under MEDIA_URL when the
# settings load with DEBUG on; production never routes it (nginx serves
# /media/), and it makes no claim to handle hostile paths (an over-long name is
# an OSError), so it is the one URL not crawled.
ROUTES = [route for route in _walk(get_resolver().url_patterns) if route.callback is not static_serve]


@dataclass
class World:
    """The seeded curriculum plus one row of every model the admin shows, and the people who use them."""

    valid: dict[str, str]
    object_ids: dict[type[models.Model], str]
    users: dict[str, User | None]
    failures: list[str] = field(default_factory=list)

    def values(self, route: Route) -> dict[str, str]:
        values = {}
        for name in route.params:
            if name == "object_id":
                # The admin's view-on-site redirect (/r/<content type>/<id>/) is for a topic.
                values[name] = self.object_ids[route.admin_model or Topic]
            else:
                values[name] = self.valid[name]
        return values


@pytest.fixture(scope="module", autouse=True)
def curriculum(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The shipped curriculum, loaded once for the module: loading it takes seconds, the crawl needs it unchanged.

    As ``TestCase.setUpTestData`` does: the rows live in a transaction that
    every test of the module nests in (``db`` opens a savepoint) and that is
    rolled back after the last one, so no other module ever sees them.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            load_curriculum()
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(curriculum, learner) -> World:
    """The people of the crawl, a published topic's slugs, and a row of every model the admin shows."""
    learner.is_profile_public = True
    learner.save()
    editor = make_user(username="editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="Content editors"))
    superuser = make_user(username="root", is_staff=True, is_superuser=True)
    topic = Topic.objects.select_related("stage__roadmap").filter(stage__roadmap__is_published=True).first()
    now = timezone.now()
    Progress.objects.create(user=learner, topic=topic, status=Status.DONE, updated_at=now)
    Note.objects.create(user=learner, topic=topic, text="A note.")
    AccessAttempt.objects.create(username="ada", ip_address="127.0.0.2", user_agent="test", failures_since_start=1)
    AccessLog.objects.create(username="ada", ip_address="127.0.0.2", user_agent="test")
    AccessFailureLog.objects.create(username="ada", ip_address="127.0.0.2", user_agent="test")
    object_ids = {}
    for model in REGISTERED:
        first = model._default_manager.order_by("pk").first()
        assert first is not None, f"the world fixture needs a row of {model.__name__} for the admin's pages"
        object_ids[model] = str(first.pk)
    valid = {
        **{name: value for name, value in VALID.items() if value is not None},
        "roadmap": topic.stage.roadmap.slug,
        "stage": topic.stage.slug,
        "topic": topic.slug,
        "username": learner.username,
        "content_type_id": str(ContentType.objects.get_for_model(Topic).pk),
        "id": str(learner.pk),
        "uidb64": urlsafe_base64_encode(force_bytes(learner.pk)),
        "token": default_token_generator.make_token(learner),
    }
    users = {"anonymous": None, "learner": learner, "editor": editor, "superuser": superuser}
    return World(valid=valid, object_ids=object_ids, users=users)


@pytest.fixture
def short_changelists(monkeypatch) -> None:
    """Five rows per changelist page: rendering a hundred seeded topics per junk request only costs time."""
    for model_admin in REGISTERED.values():
        monkeypatch.setattr(model_admin, "list_per_page", 5)
        monkeypatch.setattr(model_admin, "list_max_show_all", 5)


def client_for(world: World, role: str) -> Client:
    """The default test client: it re-raises what a view lets escape instead of rendering a 500."""
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    return client


LOGIN_PATHS = {"/accounts/login/", f"/{settings.ADMIN_URL}login/"}


def outcome(client: Client, response: HttpResponse, depth: int = 0) -> str:
    """What the response amounts to, following redirects within the site (at most 3)."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response.url)
        if target.netloc and target.netloc != "testserver":
            return "redirect"
        if target.path in LOGIN_PATHS:
            return "login"
        if target.path == reverse("admin:index") and any(
            "Perhaps it was deleted?" in str(message) for message in get_messages(response.wsgi_request)
        ):
            return "missing"  # how the admin answers an unknown id
        if depth < 3:
            with transaction.atomic():
                followed = client.get(response.url)
            return outcome(client, followed, depth + 1)
        return "redirect"
    if status == 404:
        return "missing"
    return {400: "bad request", 403: "forbidden", 405: "method", 200: "ok", 304: "ok"}.get(status, f"status {status}")


def fetch(client: Client, method: str, path: str, data: dict | None = None) -> tuple[HttpResponse | None, str]:
    """The response and its outcome; an exception or 5xx comes back as the outcome text."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(path, data) if data is not None else getattr(client, method)(path)
        return response, outcome(client, response)
    except Exception as error:  # noqa: BLE001 - every exception is a finding, reported with its URL
        return None, f"raised {type(error).__name__}: {str(error)[:120]}"


def is_invalid_reset_link(response: HttpResponse | None) -> bool:
    """Django's reset-confirm view answers a bad link with a page saying so (200), not a 404."""
    return response is not None and response.context is not None and response.context.get("validlink") is False


# What each kind of value may lead to. A signed-out visitor or a learner is
# sent to log in (or refused) before the admin looks anything up, so only
# staff tell "missing" from "refused"; the superuser may never be refused.
ALLOWED = {
    "valid": {"ok", "redirect", "method", "login", "forbidden"},
    "unknown": {"missing", "method", "login", "forbidden"},
    "malformed": {"missing", "bad request", "method", "login", "forbidden"},
}
REFUSALS = {"login", "forbidden"}


def refused_to_everyone(route: Route, superuser: User) -> bool:
    """Whether the route's ModelAdmin refuses even superusers (read-only progress, axes' logs, private notes)."""
    if route.admin_model is None:
        return False
    model_admin = admin.site.get_model_admin(route.admin_model)
    request = RequestFactory().get("/")
    request.user = superuser
    permission = {"add": model_admin.has_add_permission, "delete": model_admin.has_delete_permission}.get(
        route.name.rsplit("_", 1)[-1], model_admin.has_view_or_change_permission
    )
    return not permission(request)


def check(world: World, role: str, route: Route, case: tuple[str, str, str], response, result: str) -> None:
    kind, label, path = case
    allowed = ALLOWED[kind]
    if role == "superuser" and not refused_to_everyone(route, world.users["superuser"]):
        allowed = allowed - REFUSALS
    if result == "ok" and kind != "valid" and is_invalid_reset_link(response):
        return
    if result not in allowed:
        world.failures.append(f"{route.name} [{kind}: {label}] {path[:200]!r}: {result}")


def crawl_cases(world: World, route: Route, role: str) -> Iterator[tuple[str, str, str]]:
    """(kind, label, path) for the route: valid values, then each parameter unknown, then malformed."""
    valid = world.values(route)
    malformed = MALFORMED
    if route.is_admin and not (route.name.endswith("_change") and role in STAFF):
        malformed = {label: MALFORMED[label] for label in ADMIN_SAMPLE}
    query = f"?{BASE_QUERY[route.name]}" if route.name in BASE_QUERY else ""
    yield "valid", "all valid", route.path(valid) + query
    for name in valid:
        yield "unknown", name, route.path({**valid, name: UNKNOWN[name]}) + query
    for name in valid:
        for label, value in malformed.items():
            yield "malformed", f"{name} {label}", route.path({**valid, name: value}) + query


@pytest.mark.parametrize("raise_request_exception", [True, False])
def test_the_crawler_reports_a_view_that_breaks(learner, monkeypatch, raise_request_exception):
    """The harness is not blind: an exception escaping a view is a finding with either kind of test client."""
    monkeypatch.setattr("roadmap.views.selectors.roadmap_list", lambda **kwargs: 1 / 0)
    client = Client(raise_request_exception=raise_request_exception)
    client.force_login(learner)

    response, result = fetch(client, "get", "/")

    if raise_request_exception:
        assert (response, result) == (None, "raised ZeroDivisionError: division by zero")
    else:
        assert (response.status_code, result) == (500, "server error 500")


def test_the_crawler_knows_every_url_parameter(world):
    """Every parameter of every URL pattern has a valid and an unknown value, so nothing goes uncrawled."""
    params = {name for route in ROUTES for name in route.params}

    assert params - set(world.valid) - {"object_id"} == set(), "teach VALID (and the world fixture) these parameters"
    assert set(world.object_ids) == set(REGISTERED)
    assert params - set(UNKNOWN) == set(), "teach UNKNOWN these URL parameters"
    assert {route.name for route in ROUTES} >= {"roadmap:topic_detail", "accounts:public_profile", "admin:index"}
    assert sum(route.admin_model is not None for route in ROUTES) >= 5 * len(REGISTERED)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.usefixtures("short_changelists")
def test_every_url_answers_valid_unknown_and_malformed_values_without_a_server_error(world, role):
    """Valid values give a page (or a refusal for the wrong role); unknown ones 404; malformed ones 404 or 400.

    POST-only URLs (a 405 on GET) are posted to as well with unknown and
    malformed values: they look the object up first, so they 404 too.
    """
    client = client_for(world, role)
    crawled = 0
    for route in ROUTES:
        for kind, label, path in crawl_cases(world, route, role):
            response, result = fetch(client, "get", path)
            check(world, role, route, (kind, label, path), response, result)
            crawled += 1
            if result == "method" and kind != "valid" and "POST" in response.get("Allow", ""):
                response, result = fetch(client, "post", path, {})
                check(world, role, route, (kind, f"POST {label}", path), response, result)

    assert crawled > 300
    assert world.failures == [], "\n".join(world.failures)


def junk_queries(keys: list[str]) -> Iterator[tuple[str, str]]:
    for key in keys:
        for label, junk in JUNK.items():
            yield f"{key} {label}", junk.format(key=key)


def filter_keys(response: HttpResponse) -> list[str]:
    """The query keys of a changelist's filter and date links, as an editor would click them."""
    links = soup_of(response).select("#changelist-filter a[href], .xfull a[href], nav.toplinks a[href]")
    keys = {key for link in links for key, _ in parse_qsl(urlsplit(link["href"]).query, keep_blank_values=True)}
    return sorted(keys - {*CHANGELIST_KEYS, SEARCH_VAR})


def keys_read(route: Route, response: HttpResponse) -> list[str]:
    """The keys ``route`` reads: a changelist's search box and filters, and on one of them the generic keys."""
    if route.name.endswith("_changelist"):
        search = [SEARCH_VAR] if admin.site.get_model_admin(route.admin_model).search_fields else []
        generic = CHANGELIST_KEYS if route.name == GENERIC_CHANGELIST else []
        return search + filter_keys(response) + generic
    return READS.get(route.name, [])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.usefixtures("short_changelists")
def test_junk_query_strings_are_ignored_or_refused_never_a_server_error(world, role):
    """Every page that answers 200 still answers with junk in its query string, never with a 500.

    Every page gets every known key (and unknown ones) at once, twice: with
    NUL bytes (refused up front with a 400), then with PHP-style arrays, empty
    values, repeated keys, invalid UTF-8, unicode and long values. Each key a
    page reads gets that junk on its own, with 10,000 characters, so one
    refused key cannot hide another. The page ignores the junk (200), explains
    it (200 or 400), the admin redirects with its ``?e=1`` "bad filter" flag,
    or a page number that does not exist is a 404.
    """
    client = client_for(world, role)
    pages = keys = 0
    for route in ROUTES:
        base = BASE_QUERY.get(route.name, "")
        path = route.path(world.values(route)) + f"?{base}"
        response, result = fetch(client, "get", path)
        if result != "ok" or response.status_code != 200:
            continue
        pages += 1
        # The editor's pages are the superuser's (same views, fewer models): every-page junk suffices.
        read = [] if role == "editor" else keys_read(route, response)
        keys += len(read)
        for label, junk in [*EVERY_PAGE_JUNK.items(), *junk_queries(read)]:
            response, result = fetch(client, "get", f"{path}&{junk}")
            if result not in {"ok", "bad request", "missing", "redirect", "login", "forbidden"}:
                world.failures.append(f"{route.name} [{label}] {path!r}: {result}")

    assert pages >= {"anonymous": 10, "learner": 15, "editor": 30, "superuser": 50}[role]
    if role != "editor":
        assert keys >= {"anonymous": 5, "learner": 4, "superuser": 20}[role]
    assert world.failures == [], "\n".join(world.failures)


# Focused cases: the inputs that reached PostgreSQL or tripped Django, with what a person sees.

NUL_REFUSED = "The address contains a NUL character (%00)"


def refused_for_nul(response: HttpResponse) -> bool:
    """The 400 page of ``MalformedInputMiddleware``, with its reason."""
    return response.status_code == 400 and NUL_REFUSED in text(soup_of(response).select_one("main"))


def test_an_over_long_search_is_explained_next_to_the_box(client):
    """The search form's own limit: the message under the box, the text kept, no query run."""
    response = client.get("/search/", {"q": "x" * 10_000})

    assert response.status_code == 200
    error = soup_of(response).select_one("#search-q_error")
    assert "Keep your search to 200 characters or fewer (this one has 10000)." in text(error)
    assert response.context["results"] is None


@pytest.mark.parametrize("path", ["/u/a%00b/", "/u/%00/", "/roadmaps/a%00b/", "/admin/roadmap/roadmap/a%00b/change/"])
def test_a_nul_character_in_the_path_is_a_400_with_the_reason(client, learner, path):
    """PostgreSQL cannot compare text holding NUL (the public profile's lookup was a 500): refused up front."""
    learner.is_profile_public = True
    learner.save()

    assert refused_for_nul(client.get(path))
    assert client.get(f"/u/{learner.username}/").status_code == 200


def test_a_nul_character_in_the_search_box_is_the_forms_error(client):
    """The site's own query parameters go through forms, which say what is wrong next to the field."""
    response = client.get("/search/", {"q": "py\x00thon", "zz": "\x00"})

    assert response.status_code == 200
    assert text(soup_of(response).select_one("#search-q_error")) == "Null characters are not allowed."
    assert response.context["results"] is None


# Where a NUL reached PostgreSQL from the admin: every search box, and the filters on text columns.
ADMIN_NUL_QUERIES = [
    *((model, "q=py%00thon") for model, model_admin in REGISTERED.items() if model_admin.search_fields),
    (Progress, "status__exact=%00"),
    (Resource, "kind__exact=%00"),
    (Topic, "resources__kind__exact=%00"),
    (AccessLog, "path_info=%00"),
]


@pytest.mark.parametrize(("model", "query"), ADMIN_NUL_QUERIES)
def test_admin_search_and_filters_refuse_nul_characters(admin_client, model, query):
    """The admin's search box and filters put the value in SQL as is; NUL was a DataError on PostgreSQL."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    assert refused_for_nul(admin_client.get(f"{url}?{query}"))
    assert admin_client.get(url).status_code == 200


def test_admin_autocomplete_refuses_nul_characters(admin_client):
    """The autocomplete widget searches like the changelist, so NUL in its term is refused the same way."""
    make_stage(title="Zebra crossings")
    url = "/admin/autocomplete/?app_label=roadmap&model_name=topic&field_name=stage&term=zebra"

    assert refused_for_nul(admin_client.get(f"{url}%00"))
    assert [result["text"] for result in admin_client.get(url).json()["results"]] == ["Zebra crossings"]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", ["change", "delete"])
def test_an_empty_to_field_in_the_admin_is_a_400(admin_client, method, action):
    """``_to_field=`` (empty) made Django's change and delete views look up a field named "" (a 500)."""
    roadmap = make_roadmap(title="Kept")
    url = reverse(f"admin:roadmap_roadmap_{action}", args=[roadmap.pk])

    response = getattr(admin_client, method)(url, {"_to_field": ""})

    assert response.status_code == 400
    assert "empty field (_to_field=)" in text(soup_of(response).select_one("main"))
    assert Roadmap.objects.get(pk=roadmap.pk).title == "Kept"
    assert admin_client.get(url, {"_to_field": "id"}).status_code == 200


@pytest.mark.parametrize("cookie", ['"abcdefghij\\000"', '"\\000"'])
def test_a_session_cookie_with_a_nul_character_is_no_session(learner, cookie):
    """A quoted cookie can spell NUL (``\\000``); looking that session up was a DataError on every page."""
    client = Client()
    client.cookies.load(f"{settings.SESSION_COOKIE_NAME}={cookie}")
    assert "\x00" in client.cookies[settings.SESSION_COOKIE_NAME].value

    assert client.get("/").status_code == 200
    assert client.get("/dashboard/").status_code == 302
    response = client.post("/accounts/login/", {"username": learner.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize("length", [151, 300, 10_000])
def test_an_over_long_username_at_login_is_a_failed_login(client, learner, length):
    """The login form limits usernames only in the browser; axes' 255-character column refused the rest (a 500)."""
    username = "x" * length

    response = client.post("/accounts/login/", {"username": username, "password": "wrong"})

    assert response.status_code == 200
    assert soup_of(response).select(FORM_ERRORS)
    assert AccessAttempt.objects.get().username == username[:255]
    assert "_auth_user_id" not in client.session


HOSTILE_NEXT = ["dashboard", "ab\x00cd", "/\x00", "\n/evil", "//evil.example", "javascript:alert(1)", "x" * 100_000]


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
def test_a_hostile_next_after_signing_up_lands_on_the_dashboard_or_a_path_here(client, next_url):
    """``next`` outlives the form: any value but a path on this site gives way to the dashboard, never a 500.

    "dashboard" was taken by ``redirect()`` for a URL name to reverse: a 500
    after the account had been created.
    """
    password = "a-brand-new-passphrase-42"
    data = {"username": "grace", "email": "grace@example.com", "password1": password, "password2": password}

    response = client.post("/accounts/signup/", {**data, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] in ("/dashboard/", "/%00")
    assert User.objects.filter(username="grace").exists()


@pytest.mark.parametrize("next_url", HOSTILE_NEXT)
@pytest.mark.parametrize("form", ["progress", "note", "theme"])
def test_a_hostile_next_after_a_change_returns_to_the_page_or_a_path_here(client, learner, next_url, form):
    """Progress, notes and the theme return to ``next`` only if it is a path on this site; the change is saved."""
    topic = Topic.objects.filter(stage__roadmap__is_published=True).select_related("stage__roadmap").first()
    client.force_login(learner)
    url, data, fallback = {
        "progress": (topic.get_absolute_url() + "progress/", {"status": "done"}, topic.get_absolute_url()),
        "note": (topic.get_absolute_url() + "note/", {"text": "Mine."}, topic.get_absolute_url()),
        "theme": ("/theme/", {"theme": "dark"}, "/"),
    }[form]

    response = client.post(url, {**data, "next": next_url})

    assert response.status_code == 302
    assert response["Location"] in (fallback, "/%00")
    saved = {
        "progress": lambda: Progress.objects.filter(user=learner, topic=topic, status="done").exists(),
        "note": lambda: Note.objects.filter(user=learner, topic=topic, text="Mine.").exists(),
        "theme": lambda: response.cookies["theme"].value == "dark",
    }[form]
    assert saved()


@pytest.mark.parametrize("selected", ["abc", "py\x00thon"])
def test_an_admin_action_on_ids_that_are_not_primary_keys_changes_nothing(admin_client, selected):
    """The changelist's action form posts primary keys; anything else is refused with a message
    (roadmap_site/admin_input.py), not a 500."""
    make_roadmap()
    before = Roadmap.objects.count()

    response = admin_client.post(
        "/admin/roadmap/roadmap/", {"action": "delete_selected", "_selected_action": [selected]}, follow=True
    )

    assert response.status_code == 200
    assert "The selected items are not valid; nothing was done." in response.content.decode()
    assert Roadmap.objects.count() == before


@pytest.mark.parametrize(
    ("value", "error"), [("abc", "Select a valid choice"), ("py\x00thon", "Null characters are not allowed.")]
)
def test_an_autocomplete_field_posted_with_a_value_that_is_not_a_primary_key_is_a_form_error(
    admin_client, value, error
):
    """A stage's roadmap (an autocomplete field) posted as junk: the form says so instead of a 500."""
    data = {"roadmap": value, "title": "New", "slug": "new", "position": "1", "summary": ""}
    data |= {"topics-TOTAL_FORMS": "0", "topics-INITIAL_FORMS": "0"}

    before = Stage.objects.count()

    response = admin_client.post("/admin/roadmap/stage/add/", data)

    assert response.status_code == 200
    assert error in soup_of(response).select_one(".field-roadmap .errorlist").get_text()
    assert Stage.objects.count() == before


# Junk posted to every form: a form error (200) or a 400, nothing saved.

# How the site's forms (crispy), the login page and the admin show an error.
FORM_ERRORS = ".invalid-feedback, .errorlist, .errornote, .alert-danger"
NUL = "ab\x00cd"
HUGE = "x" * 100_000
JUNK_POSTS = {"NUL": NUL, "100k characters": HUGE, "repeated": [HUGE, NUL]}
COUNTS = ("TOTAL", "INITIAL", "MIN_NUM", "MAX_NUM")


def user_state(user: User) -> tuple:
    user.refresh_from_db()
    return (user.username, user.email, user.password, user.display_name, user.bio, user.is_profile_public)


def database_state() -> tuple:
    return (
        User.objects.count(),
        Roadmap.objects.count(),
        sorted(Note.objects.values_list("pk", "text")),
        sorted(Progress.objects.values_list("pk", "status")),
    )


@dataclass(frozen=True)
class Form:
    """A form endpoint: who posts it, what a valid submission is, which fields to spoil."""

    name: str
    role: str
    url: str
    data: dict[str, str]
    fields: list[str]
    # Status of a rejected submission: a form shown again with its errors (200), or a 400.
    rejected: tuple[int, ...] = (200,)
    # Fields without a length limit (by design): spoiled with NUL only.
    unbounded: tuple[str, ...] = ()


def form_endpoints(world: World) -> list[Form]:
    learner = world.users["learner"]
    topic_path = f"/roadmaps/{world.valid['roadmap']}/{world.valid['stage']}/{world.valid['topic']}"
    new_password = "a-brand-new-passphrase-42"
    return [
        Form(
            "login",
            "anonymous",
            "/accounts/login/",
            {"username": "ada", "password": PASSWORD},
            ["username", "password"],
        ),
        Form(
            "admin login",
            "anonymous",
            "/admin/login/",
            {"username": "root", "password": PASSWORD},
            ["username", "password"],
        ),
        Form(
            "signup",
            "anonymous",
            "/accounts/signup/",
            {"username": "newcomer", "email": "new@example.com", "password1": new_password, "password2": new_password},
            ["username", "email", "password1", "password2"],
        ),
        Form("password reset", "anonymous", "/accounts/password_reset/", {"email": learner.email}, ["email"]),
        Form(
            "profile",
            "learner",
            "/accounts/profile/",
            {"display_name": "Ada", "bio": "Hello", "is_profile_public": "on"},
            ["display_name", "bio"],
        ),
        Form(
            "password change",
            "learner",
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
            ["old_password", "new_password1", "new_password2"],
        ),
        Form("account delete", "learner", "/accounts/delete/", {"password": PASSWORD}, ["password"]),
        Form("note", "learner", f"{topic_path}/note/", {"text": "A new note."}, ["text"], rejected=(400,)),
        Form("progress", "learner", f"{topic_path}/progress/", {"status": "skipped"}, ["status"], rejected=(400,)),
        Form("theme", "anonymous", "/theme/", {"theme": "dark", "next": "/"}, ["theme"], rejected=(400,)),
        Form(
            "admin add roadmap",
            "superuser",
            "/admin/roadmap/roadmap/add/",
            {
                "title": "New",
                "slug": "new",
                "position": "1",
                "description": "",
                "is_published": "on",
                **{f"{inline}-{count}_FORMS": "0" for inline in ("stages", "resource_links") for count in COUNTS},
            },
            ["title", "slug", "position", "description"],
            unbounded=("description",),  # editors only; the 2.5 MB request limit bounds it
        ),
    ]


FORM_NAMES = [
    "login",
    "admin login",
    "signup",
    "password reset",
    "profile",
    "password change",
    "account delete",
    "note",
    "progress",
    "theme",
    "admin add roadmap",
]


@pytest.mark.parametrize("name", FORM_NAMES)
def test_each_forms_valid_submission_goes_through(world, name):
    """The control: unspoiled, each submission is accepted, so in the test below the junk is what is refused."""
    (form,) = [form for form in form_endpoints(world) if form.name == name]
    client = client_for(world, form.role)
    before, user_before = database_state(), user_state(world.users["learner"])

    response = client.post(form.url, form.data)

    assert response.status_code == 302
    changed = database_state() != before or user_state(world.users["learner"]) != user_before
    assert changed or len(mail.outbox) == 1 or "theme" in response.cookies or "_auth_user_id" in client.session


def junk_post_cases(world: World) -> Iterator[tuple[Form, str, dict]]:
    for form in form_endpoints(world):
        for name in form.fields:
            for label, junk in JUNK_POSTS.items():
                if name not in form.unbounded or label == "NUL":
                    yield form, f"{name} {label}", {**form.data, name: junk}


@pytest.mark.parametrize("role", ["anonymous", "learner", "superuser"])
def test_junk_posted_to_every_form_is_a_form_error_and_saves_nothing(world, role):
    """NUL bytes, 100,000 characters or a repeated key in any field: the form says no and nothing changes.

    Each submission is otherwise valid, so the junk field is what stops it
    (the login form's authentication, the signup's uniqueness checks and the
    note's save all run with the other fields). The brute-force lock is reset
    before each login, so every attempt reaches authentication.
    """
    learner = world.users["learner"]
    client = client_for(world, role)
    cases = [case for case in junk_post_cases(world) if case[0].role == role]
    for form, label, data in cases:
        AccessAttempt.objects.all().delete()
        before, user_before = database_state(), user_state(learner)
        response, result = fetch(client, "post", form.url, data)
        if response is None or response.status_code >= 500:
            world.failures.append(f"{form.name} [{label}]: {result}")
            continue
        if response.status_code not in form.rejected:
            world.failures.append(f"{form.name} [{label}]: {response.status_code}, expected {form.rejected}")
        elif response.status_code == 200 and not soup_of(response).select(FORM_ERRORS):
            world.failures.append(f"{form.name} [{label}]: 200 without an error message")
        if database_state() != before or user_state(learner) != user_before:
            world.failures.append(f"{form.name} [{label}]: something was saved")
        if role == "anonymous" and "_auth_user_id" in client.session:
            world.failures.append(f"{form.name} [{label}]: logged in")

    assert cases
    assert mail.outbox == []
    assert world.failures == [], "\n".join(world.failures)


@pytest.mark.parametrize("role", ["anonymous", "learner"])
def test_invalid_utf8_and_too_many_fields_never_break_a_form(world, role):
    """Raw bodies no browser sends: invalid UTF-8 is decoded with replacement characters, 2,000 fields are a 400."""
    client = client_for(world, role)
    forms = [form for form in form_endpoints(world) if form.role == role]
    before = database_state()
    for form in forms:
        AccessAttempt.objects.all().delete()
        spoiled = "&".join(f"{name}=%ff%fe%00" for name in form.fields)
        for label, body in [("invalid UTF-8", spoiled), ("2,000 fields", "&".join(f"f{i}=x" for i in range(2000)))]:
            try:
                with transaction.atomic():
                    response = client.post(form.url, body, content_type="application/x-www-form-urlencoded")
            except Exception as error:  # noqa: BLE001 - reported with the form's name
                world.failures.append(f"{form.name} [{label}]: raised {type(error).__name__}: {error}")
                continue
            if response.status_code >= 500:
                world.failures.append(f"{form.name} [{label}]: {response.status_code}")
            elif label == "2,000 fields" and response.status_code != 400:
                world.failures.append(f"{form.name} [{label}]: {response.status_code}, expected 400")

    assert forms
    assert database_state() == before
    assert world.failures == [], "\n".join(world.failures)
