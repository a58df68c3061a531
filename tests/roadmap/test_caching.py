"""Cached pages are never stale and never someone else's, and warm pages cost a constant few queries.

The shared part of every page is cached under the content version (every
curriculum change gives it a new value); a learner's progress and notes are
read afresh on each request. These tests change content the three ways editors do (the
admin, the importer, a fixture reload) and check every page type on the next
request, for visitors and learners.
"""

import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import note_set, progress_set
from pagecache import make_key
from roadmap.models import Topic
from roadmap.selectors import content_version
from tests.conftest import SOURCES
from tests.factories import make_curriculum, make_user
from tests.helpers import form_data, soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"
STAGE = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/"
TOPIC = STAGE + "querysets/"
PAGES = ["/", ROADMAP, STAGE, TOPIC]


def querysets() -> Topic:
    return Topic.objects.get_by_natural_key("django-roadmap", "django-orm-object-relational-mapping", "querysets")


@pytest.fixture
def visitor() -> Client:
    return Client()


def warm(client: Client, *urls: str) -> None:
    for url in urls:
        assert client.get(url).status_code == 200


def shows(client: Client, url: str, words: str) -> bool:
    return words in client.get(url).content.decode()


# Never stale -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [ROADMAP, STAGE, TOPIC])
def test_an_admin_edit_shows_on_the_next_request(seeded, admin_client, visitor, learner_client, url):
    warm(visitor, url)
    warm(learner_client, url)
    topic = querysets()
    change = f"/admin/roadmap/topic/{topic.pk}/change/"
    data = form_data(admin_client.get(change).content)
    data["title"] = "QuerySets, freshly edited"

    assert admin_client.post(change, data).status_code == 302

    assert shows(visitor, url, "QuerySets, freshly edited")
    assert shows(learner_client, url, "QuerySets, freshly edited")


def test_an_admin_edit_of_a_roadmap_shows_on_the_home_page_and_in_the_header(
    seeded, admin_client, visitor, learner_client
):
    warm(visitor, "/")
    warm(learner_client, "/", "/search/")
    roadmap_id = querysets().stage.roadmap_id
    change = f"/admin/roadmap/roadmap/{roadmap_id}/change/"
    data = form_data(admin_client.get(change).content)
    data["title"] = "The Django Roadmap, second edition"

    admin_client.post(change, data)

    assert shows(visitor, "/", "The Django Roadmap, second edition")
    # The header's roadmap menu is cached too (by content version).
    menu = soup_of(learner_client.get("/search/")).select_one("#site-nav")
    assert "The Django Roadmap, second edition" in text(menu)


def test_an_import_shows_on_the_next_request(seeded, visitor, learner, learner_client, tmp_path):
    progress_set(user=learner, topic=querysets(), status="done")
    warm(visitor, *PAGES)
    warm(learner_client, *PAGES, "/dashboard/")
    source = (SOURCES / "django-roadmap.md").read_text(encoding="utf-8")
    edited = tmp_path / "django-roadmap.md"
    edited.write_text(re.sub(r"\bQuerySets\b", "QuerySet API", source, count=1), encoding="utf-8")
    assert "QuerySet API" in edited.read_text(encoding="utf-8")

    call_command("import_roadmap", str(edited), slug="django-roadmap", verbosity=0)

    renamed = Topic.objects.filter(title__contains="QuerySet API").select_related("stage").get()
    for url in [ROADMAP, renamed.stage.get_absolute_url()]:
        assert shows(visitor, url, "QuerySet API"), url
        assert shows(learner_client, url, "QuerySet API"), url


def test_a_fixture_reload_shows_on_the_next_request(seeded, visitor, learner, learner_client):
    topic = querysets()
    topic.title = "Edited by mistake"
    topic.save()
    progress_set(user=learner, topic=topic, status="in_progress")
    warm(visitor, *PAGES)
    warm(learner_client, *PAGES, "/dashboard/")
    assert shows(learner_client, "/dashboard/", "Edited by mistake")

    call_command("loaddata", "roadmaps", verbosity=0)

    for url in [ROADMAP, STAGE, TOPIC]:
        assert not shows(visitor, url, "Edited by mistake"), url
        assert not shows(learner_client, url, "Edited by mistake"), url
    assert not shows(learner_client, "/dashboard/", "Edited by mistake")


@pytest.mark.parametrize("url", [ROADMAP, STAGE, TOPIC, "/", "/dashboard/"])
def test_a_tick_shows_on_the_next_request(seeded, learner, learner_client, url):
    warm(learner_client, url)

    learner_client.post(TOPIC + "progress/", {"status": "in_progress"})

    html = text(soup_of(learner_client.get(url)).main)
    assert ("1 in progress" if url == "/" else "In progress") in html


def test_a_note_shows_on_the_next_request(seeded, learner, learner_client):
    warm(learner_client, TOPIC, "/dashboard/")

    note_set(user=learner, topic=querysets(), text="Remember select_related.")

    assert shows(learner_client, TOPIC, "Remember select_related.")
    assert shows(learner_client, "/dashboard/", "Remember select_related.")


# Never someone else's ----------------------------------------------------------------------


def status_of(client: Client, url: str, topic: Topic) -> str | None:
    row = soup_of(client.get(url)).select_one(f"#t{topic.pk}")
    return row.get("data-status")


def test_learners_never_see_each_others_progress(seeded):
    ada, grace = make_user(username="ada"), make_user(username="grace")
    ada_client, grace_client = Client(), Client()
    ada_client.force_login(ada)
    grace_client.force_login(grace)
    topic = querysets()

    for round_ in range(3):
        status = ["done", "in_progress", "skipped"][round_]
        ada_client.post(TOPIC + "progress/", {"status": status})
        for url in [ROADMAP, STAGE, TOPIC]:
            assert status_of(ada_client, url, topic) == status, (round_, url)
            assert status_of(grace_client, url, topic) in (None, "not_started"), (round_, url)
            assert status_of(ada_client, url, topic) == status, (round_, url)
        assert "QuerySets" in text(soup_of(ada_client.get("/dashboard/")).main)
        assert "QuerySets" not in text(soup_of(grace_client.get("/dashboard/")).main)
    # A visitor's copy of the same pages carries nobody's progress.
    for url in [ROADMAP, STAGE, TOPIC]:
        html = Client().get(url).content.decode()
        assert "data-status" not in html
        assert "ada" not in text(soup_of(Client().get(url)).select_one("header"))


def test_the_cached_page_carries_the_requests_own_csrf_token(seeded, learner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    tokens = []
    for _ in range(2):  # a miss, then a hit
        html = client.get(STAGE).content.decode()
        assert "\ue000" not in html, "no slot marker is left unfilled"
        tokens.append(soup_of(client.get(STAGE)).select_one("#progress-form input[name=csrfmiddlewaretoken]")["value"])
    assert tokens[0] != tokens[1], "each response masks the token afresh"

    response = client.post(TOPIC + "progress/", {"status": "done", "csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302


@pytest.mark.parametrize("url", [ROADMAP, STAGE, TOPIC])
def test_the_stored_layout_shows_each_viewer_their_own_name_path_and_menu(seeded, url):
    """The whole page is stored per kind of viewer and theme: the name, the return paths and the staff's
    draft roadmaps in the menu are each viewer's own."""
    from roadmap.models import Roadmap

    Roadmap.objects.create(slug="draft-map", title="Draft <b>map</b>", is_published=False)
    clients = {}
    for username, display_name, staff in [("ada", "Ada <Lovelace>", False), ("grace", "Grace H.", False)]:
        clients[username] = Client()
        clients[username].force_login(make_user(username=username, display_name=display_name, is_staff=staff))
    clients["boss"] = Client()
    clients["boss"].force_login(make_user(username="boss", display_name="The boss", is_staff=True))

    for username, client in clients.items():
        page = soup_of(client.get(url + "?show=left" if url == ROADMAP else url))
        header = text(page.select_one("header"))
        assert "\ue000" not in str(page)
        expected = {"ada": "Ada <Lovelace>", "grace": "Grace H.", "boss": "The boss"}[username]
        assert f"Profile of {expected}" in header
        assert ("Draft <b>map</b>" in header) == (username == "boss"), username
        back = url + "?show=left" if url == ROADMAP else url
        assert {field["value"] for field in page.select("form[data-theme-form] input[name=next]")} == {back}


def test_a_message_is_shown_once_and_never_cached(seeded, learner_client):
    first = learner_client.post(TOPIC + "progress/?next=" + ROADMAP, {"status": "done"}, follow=True)
    assert "marked as done" in text(soup_of(first).select_one("[data-messages]"))
    again = learner_client.get(ROADMAP)
    assert text(soup_of(again).select_one("[data-messages]")) == ""


# Conditional GET ---------------------------------------------------------------------------


def test_anonymous_pages_revalidate_with_their_etag(seeded, visitor, admin_client):
    first = visitor.get(ROADMAP)
    etag = first["ETag"]
    assert first["Cache-Control"] == "no-cache"

    unchanged = visitor.get(ROADMAP, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    topic = querysets()
    topic.title = "QuerySets (revised)"
    topic.save()
    changed = visitor.get(ROADMAP, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "QuerySets (revised)" in changed.content.decode()


def test_the_theme_is_part_of_the_cached_page(seeded, visitor):
    light = visitor.get(ROADMAP)
    visitor.cookies["theme"] = "dark"
    dark = visitor.get(ROADMAP)

    assert light["ETag"] != dark["ETag"]
    assert 'data-bs-theme="dark"' in dark.content.decode()
    assert 'data-bs-theme="dark"' not in light.content.decode()


def test_learners_pages_are_never_stored_by_browsers(seeded, learner_client):
    response = learner_client.get(ROADMAP)
    assert "no-store" in response["Cache-Control"]
    assert not response.has_header("ETag")


# Constant, small query counts on a 1,000-topic roadmap ----------------------------------


BIG = "/roadmaps/big/"


@pytest.fixture
def big():
    roadmap = make_curriculum(stages=40, topics=25, resources=3, slug="big")
    stage = roadmap.stages.all()[19]
    topic = stage.topics.all()[9]
    return {"roadmap": BIG, "stage": stage.get_absolute_url(), "topic": topic.get_absolute_url(), "home": "/"}


def warm_queries(client: Client, url: str) -> int:
    warm(client, url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["home", "roadmap", "stage", "topic"])
def test_warm_anonymous_pages_cost_at_most_3_queries(big, visitor, page):
    assert warm_queries(visitor, big[page]) <= 3


# The session, the user and the content version, then the page's own: one query for the learner's states on
# the roadmap and stage pages, the learner's record and note on the topic page (their curriculum is a cached
# fragment), the learner's records, recent activity and notes on the dashboard (the roadmaps' reading order
# is cached: accounts.selectors.dashboard).
LEARNER_QUERIES = {"home": 5, "roadmap": 4, "roadmap-left": 4, "stage": 4, "topic": 5, "dashboard": 6}


@pytest.mark.parametrize("page", LEARNER_QUERIES)
def test_warm_learner_pages_cost_a_constant_few_queries(big, learner, learner_client, page):
    topics = list(Topic.objects.filter(stage__roadmap__slug="big")[:500])
    for topic in topics[::2]:
        progress_set(user=learner, topic=topic, status="done")
    learner_client.get("/")  # a fresh session's first request
    url = {"roadmap-left": BIG + "?show=left", "dashboard": "/dashboard/"}.get(page) or big[page]
    assert warm_queries(learner_client, url) == LEARNER_QUERIES[page]


def test_undeclared_query_parameters_are_served_live_and_not_stored(seeded, visitor):
    """Anyone can make up query strings: they must not fill the cache (or plant links in shared pages)."""

    def stored(path: str) -> bool:
        key = make_key("page", "testserver", path, "auto", content_version())
        return cache.get(key) is not None

    response = visitor.get(ROADMAP + "?utm_source=spam")

    assert response.status_code == 200
    assert not response.has_header("ETag")
    assert not stored(ROADMAP + "?utm_source=spam")
    assert visitor.get(ROADMAP + "?show=left").has_header("ETag")
    assert stored(ROADMAP + "?show=left")
