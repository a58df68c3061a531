"""Site search: what it finds, who sees what, how hits are numbered, bad input, query counts and indexes."""

import importlib

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.indexes import GinIndex
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import progress_set
from roadmap.search import (
    resource_search_vector,
    resources_matching,
    search,
    topic_search_vector,
    topics_matching,
)
from tests.factories import make_resource, make_roadmap, make_stage, make_topic, make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

SEARCH = "/search/"
STAGE = "/roadmaps/django-roadmap/django-orm-object-relational-mapping/"

only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search and its indexes are PostgreSQL only"
)
not_postgresql = pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL ranks by relevance")


def search_page(client: Client, q: str, status: int = 200):
    response = client.get(SEARCH, {"q": q})
    assert response.status_code == status
    return soup_of(response)


def topic_hits(soup) -> list[str]:
    return [text(hit.h3.a) for hit in soup.select(".topic-hit")]


def resource_hits(soup) -> list[str]:
    return [text(hit.select_one(".resource a, .resource cite")) for hit in soup.select(".resource-hit")]


def summary(soup) -> str:
    return text(soup.select_one('p[role="status"]'))


@pytest.fixture
def stage(db):
    return make_stage(make_roadmap(title="Web Roadmap", slug="web"), title="Forms", slug="forms", position=1)


# What it finds -------------------------------------------------------------------


def test_finds_a_topic_by_a_word_in_its_title(client, stage):
    make_topic(stage, title="Form validation", description="Cleaning data.")
    make_topic(stage, title="Templates", description="Rendering pages.")
    soup = search_page(client, "validation")
    assert topic_hits(soup) == ["Form validation"]
    assert summary(soup) == "1 topic and 0 resources match “validation”."


def test_finds_a_topic_by_a_word_in_its_description(client, stage):
    make_topic(stage, title="Cleaning data", description="Reject bad input with validators.")
    make_topic(stage, title="Templates", description="Rendering pages.")
    assert topic_hits(search_page(client, "validators")) == ["Cleaning data"]


def test_topic_hit_links_to_the_topic_and_shows_a_short_description(client, stage):
    topic = make_topic(stage, title="Widgets", description="Use `forms.Widget` to render. " + "word " * 50)
    hit = search_page(client, "widgets").select_one(".topic-hit")
    assert hit.h3.a["href"] == topic.get_absolute_url()
    description = hit.select_one(".card-text")
    assert description.code.get_text() == "forms.Widget"
    assert text(description).endswith("…")
    assert len(text(description).split()) == 31  # 30 words and the ellipsis


def test_finds_a_resource_by_title_and_shows_the_topics_and_roadmaps_it_belongs_to(client, stage):
    topic = make_topic(stage, title="Form basics", slug="basics", position=3)
    resource = make_resource(title="Working with forms", author="Django team", url="https://example.com/forms/")
    topic.resources.add(resource)
    stage.roadmap.resources.add(resource)
    hit = search_page(client, "working").select_one(".resource-hit")
    link = hit.select_one(".resource a")
    assert (text(link), link["href"]) == ("Working with forms", "https://example.com/forms/")
    assert "by Django team" in text(hit)
    assert text(hit.select_one(".kind-badge")) == "Official docs"
    places = [text(li) for li in hit.select(".resource-hit-places li")]
    assert places == ["Whole roadmap: Web Roadmap", "1.1 Form basics · Web Roadmap · Stage 1: Forms"]
    links = [a["href"] for a in hit.select(".resource-hit-places a")]
    assert links == [stage.roadmap.get_absolute_url(), topic.get_absolute_url()]


def test_finds_a_resource_by_author(client, stage):
    make_topic(stage).resources.add(make_resource(title="Two Scoops of Django", author="Audrey Roy Greenfeld"))
    make_topic(stage).resources.add(make_resource(title="Django for Beginners", author="William S. Vincent"))
    assert resource_hits(search_page(client, "greenfeld")) == ["Two Scoops of Django"]


def test_matching_ignores_case(client, stage):
    make_topic(stage, title="QuerySet API")
    assert topic_hits(search_page(client, "QUERYSET api")) == ["QuerySet API"]
    assert topic_hits(search_page(client, "queryset")) == ["QuerySet API"]


def test_every_word_must_match(client, stage):
    make_topic(stage, title="Model forms", description="Forms made from a model.")
    make_topic(stage, title="Form validation", description="Cleaning submitted data.")
    make_topic(stage, title="Model fields", description="Columns.")
    assert topic_hits(search_page(client, "model form")) == ["Model forms"]
    assert topic_hits(search_page(client, "form cleaning")) == ["Form validation"]


@only_postgresql
def test_postgresql_ranks_a_title_match_above_a_description_only_match(client, stage):
    make_topic(stage, title="Listing objects", description="Split long lists with pagination.", position=1)
    make_topic(stage, title="Pagination", description="Page through results.", position=2)
    assert topic_hits(search_page(client, "pagination")) == ["Pagination", "Listing objects"]


@only_postgresql
def test_postgresql_matches_word_forms(client, stage):
    make_topic(stage, title="Running migrations")
    assert topic_hits(search_page(client, "migration")) == ["Running migrations"]


@not_postgresql
def test_without_postgresql_hits_come_in_reading_order(client, stage):
    later = make_stage(stage.roadmap, title="Later", slug="later", position=2)
    make_topic(later, title="Pagination", position=1)
    make_topic(stage, title="Listing objects", description="Split long lists with pagination.", position=9)
    assert topic_hits(search_page(client, "pagination")) == ["Listing objects", "Pagination"]


# Who sees what -------------------------------------------------------------------------


@pytest.fixture
def draft_content(db):
    draft = make_stage(make_roadmap(title="Secret Roadmap", slug="secret", is_published=False), slug="s")
    topic = make_topic(draft, title="Unreleased feature")
    topic.resources.add(make_resource(title="Unreleased guide"))
    return topic


@pytest.mark.parametrize("who", ["anonymous", "learner"])
def test_draft_roadmaps_are_hidden_from_visitors_and_learners(client, learner, draft_content, who):
    if who == "learner":
        client.force_login(learner)
    soup = search_page(client, "unreleased")
    assert topic_hits(soup) == [] and resource_hits(soup) == []
    assert summary(soup) == "No topics or resources match “unreleased”. Try fewer or different words."


def test_staff_find_drafts_marked_as_such(client, draft_content):
    client.force_login(make_user(is_staff=True))
    soup = search_page(client, "unreleased")
    assert topic_hits(soup) == ["Unreleased feature"]
    assert resource_hits(soup) == ["Unreleased guide"]
    assert "Draft" in text(soup.select_one(".topic-hit .hit-context"))


def test_a_resource_lists_only_the_places_the_user_may_see(client, stage, draft_content):
    guide = draft_content.resources.get()
    make_topic(stage, title="Public topic").resources.add(guide)
    soup = search_page(client, "unreleased")
    assert resource_hits(soup) == ["Unreleased guide"]
    assert [text(a) for a in soup.select(".resource-hit-places a")] == ["Public topic"]


# Numbering and status ------------------------------------------------------------------


def test_hit_is_numbered_as_on_its_stage_page(client, seeded):
    stage_page = soup_of(client.get(STAGE))
    card = next(card for card in stage_page.select(".topic-card") if text(card.h2.a) == "QuerySets")
    number = text(card.select_one(".topic-number"))
    assert number == "6.2"

    hit = search_page(client, "querysets").select_one(".topic-hit")
    assert text(hit.h3) == f"{number} QuerySets"
    assert text(hit.select_one(".hit-context")) == (
        f"Django Roadmap: From the Basics to Advanced Concepts · Stage 6: {text(stage_page.h1)}"
    )
    assert [a["href"] for a in hit.select(".hit-context a")] == ["/roadmaps/django-roadmap/", STAGE]


def test_numbers_count_stages_and_topics_not_their_positions(client):
    roadmap = make_roadmap()
    make_stage(roadmap, title="Empty stage", position=10)
    stage = make_stage(roadmap, title="Second stage", position=20)
    make_topic(stage, title="First", position=5)
    topic = make_topic(stage, title="Needle", position=9)
    topic.resources.add(make_resource(title="Needle guide"))
    soup = search_page(client, "needle")
    assert text(soup.select_one(".topic-hit .topic-number")) == "2.2"
    assert "Stage 2: Second stage" in text(soup.select_one(".topic-hit .hit-context"))
    assert text(soup.select_one(".resource-hit-places .topic-number")) == "2.2"


def test_learner_sees_their_status_on_each_topic_hit(learner_client, learner, stage):
    done = make_topic(stage, title="Forms one", position=1)
    make_topic(stage, title="Forms two", position=2)
    progress_set(user=learner, topic=done, status="done")
    badges = [
        text(hit.select_one("[data-status-badge]")) for hit in search_page(learner_client, "forms").select(".topic-hit")
    ]
    assert badges == ["✓ Done", "○ Not started"]


def test_visitors_see_no_status(client, stage):
    make_topic(stage, title="Forms one")
    soup = search_page(client, "forms")
    assert topic_hits(soup) == ["Forms one"]
    assert soup.select(".topic-hit [data-status-badge]") == []


# The page and bad input -------------------------------------------------------------------


def test_search_page_has_one_labelled_form_that_submits_with_get(client):
    soup = search_page(client, "")
    form = soup.select_one("main form[role=search]")
    assert form["method"] == "get" and form["action"] == SEARCH
    field = form.select_one("input[name=q]")
    assert field["id"] == "search-q" and field["type"] == "search"
    assert text(form.select_one("label[for=search-q]")) == "Search topics and resources"
    assert [text(h) for h in soup.select("h1")] == ["Search"]
    assert soup.select("main [style], main script") == []


@pytest.mark.parametrize("q", [None, "", "   "])
def test_empty_query_shows_an_introduction_and_searches_nothing(client, stage, q):
    make_topic(stage, title="Forms")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SEARCH, {} if q is None else {"q": q})
    assert response.status_code == 200
    soup = soup_of(response)
    assert text(soup.select_one(".search-intro")).startswith("Type a word or two to search")
    assert soup.select('p[role="status"], .topic-hit, [aria-invalid]') == []
    assert not [q for q in queries.captured_queries if "roadmap_topic" in q["sql"] or "roadmap_resource" in q["sql"]]


def test_over_long_query_is_an_error_tied_to_the_field_and_keeps_the_text(client, stage):
    make_topic(stage, title="Forms")
    q = "forms " * 100
    soup = search_page(client, q)
    field = soup.select_one("#search-q")
    assert field["aria-invalid"] == "true"
    error = soup.select_one(f"#{field['aria-describedby']}")
    assert text(error) == "Keep your search to 200 characters or fewer (this one has 599)."
    assert field["value"] == q
    assert soup.select('p[role="status"], .topic-hit, .search-intro') == []
    assert text(soup.title).startswith("Search ·")


def test_null_character_is_an_error_not_a_crash(client):
    soup = search_page(client, "forms\x00")
    assert text(soup.select_one("#search-q_error")) == "Null characters are not allowed."


@pytest.mark.parametrize("q", ["&|!", "the", '"', "(", "-", "%_\\"])
def test_punctuation_and_stop_words_find_nothing_without_crashing(client, stage, q):
    make_topic(stage, title="Forms", description="Fields & widgets.")
    soup = search_page(client, q)
    assert summary(soup) == f"No topics or resources match “{q}”. Try fewer or different words."
    assert soup.select_one("#search-q")["value"] == q


def test_like_wildcards_are_matched_literally(client, stage):
    make_topic(stage, title="Forms")
    assert topic_hits(search_page(client, "%")) == []
    assert topic_hits(search_page(client, "_")) == []


def test_query_is_in_the_title_and_escaped(client, stage):
    soup = search_page(client, "<b>forms</b>")
    assert text(soup.title).startswith("Search: <b>forms</b> ·")
    assert soup.select("main b") == []


def test_many_hits_are_cut_at_the_limit_and_the_page_says_so(client, stage):
    for n in range(1, 53):
        make_topic(stage, title=f"Forms part {n}", slug=f"part-{n}", position=n)
    soup = search_page(client, "forms")
    assert len(topic_hits(soup)) == 50
    assert summary(soup) == "52 topics and 0 resources match “forms”."
    assert "Showing the first 50 topics; refine your search to see others." in text(soup.select_one("main"))


def test_selector_reports_counts_beyond_the_limit(stage):
    for n in range(1, 4):
        make_topic(stage, title=f"Forms {n}").resources.add(make_resource(title=f"Forms guide {n}"))
    results = search(user=make_user(), query="forms", limit=2)
    assert (len(results.topics), results.topic_count, results.topics_truncated) == (2, 3, True)
    assert (len(results.resources), results.resource_count, results.resources_truncated) == (2, 3, True)
    assert search(user=make_user(), query="forms", limit=3).is_truncated is False


# Query counts -----------------------------------------------------------------------------


def make_hits(stage, word: str, n: int) -> None:
    """``n`` topics and ``n`` resources matching ``word``, each resource on a topic and its roadmap."""
    for i in range(n):
        topic = make_topic(stage, title=f"{word.title()} {i}")
        resource = make_resource(title=f"{word.title()} guide {i}")
        topic.resources.add(resource)
        stage.roadmap.resources.add(resource)


@pytest.mark.parametrize("logged_in", [False, True])
def test_selector_queries_do_not_grow_with_hits(stage, django_assert_num_queries, logged_in):
    other = make_stage(make_roadmap(), title="Other")
    make_hits(stage, "needle", 1)
    make_hits(stage, "haystack", 20)
    make_hits(other, "haystack", 20)
    user = make_user() if logged_in else AnonymousUser()
    expected = 7 if logged_in else 6
    with django_assert_num_queries(expected):
        assert len(search(user=user, query="needle").topics) == 1
    with django_assert_num_queries(expected):
        results = search(user=user, query="haystack")
    assert (results.topic_count, results.resource_count) == (40, 40)


@pytest.mark.parametrize("logged_in", [False, True])
def test_page_queries_do_not_grow_with_hits(client, learner, stage, django_assert_num_queries, logged_in):
    if logged_in:
        client.force_login(learner)
    make_hits(stage, "needle", 1)
    make_hits(stage, "haystack", 30)
    search_page(client, "warm")  # the header's roadmap list is cached after the first page
    with CaptureQueriesContext(connection) as one_hit:
        assert len(topic_hits(search_page(client, "needle"))) == 1
    with django_assert_num_queries(len(one_hit)):
        assert len(topic_hits(search_page(client, "haystack"))) == 30


# Indexes (PostgreSQL) ----------------------------------------------------------------------


def test_migration_indexes_exactly_the_expressions_the_search_uses():
    migration = importlib.import_module("roadmap.migrations.0003_search_indexes")
    assert migration.topic_index() == GinIndex(topic_search_vector(), name="topic_search_vector")
    assert migration.resource_index() == GinIndex(resource_search_vector(), name="resource_search_vector")


def plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


@only_postgresql
def test_topic_search_uses_its_index():
    assert "topic_search_vector" in plan(topics_matching(user=make_user(), query="forms"))


@only_postgresql
def test_resource_search_uses_its_index():
    assert "resource_search_vector" in plan(resources_matching(user=make_user(), query="forms"))
