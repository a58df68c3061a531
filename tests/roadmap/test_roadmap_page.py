"""The roadmap page as a learner moves through it: table of contents, "only what's left", print checklist."""

import pytest

from accounts.services import progress_set
from roadmap.models import Topic
from tests.factories import make_curriculum, make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

ROADMAP = "/roadmaps/django-roadmap/"


@pytest.fixture
def learner(client, seeded):
    user = make_user(username="ada")
    client.force_login(user)
    return user


def first_topics(count: int) -> list[Topic]:
    return list(Topic.objects.filter(stage__roadmap__slug="django-roadmap").order_by("stage__position", "position"))[
        :count
    ]


def topic_numbers(soup) -> list[str]:
    """The numbers of the topic rows a reader sees (hidden rows are neither shown nor read out)."""
    return [text(row.select_one(".topic-number")) for row in soup.select(".topic-row:not([hidden])")]


def test_only_whats_left_hides_finished_topics_and_keeps_numbers(client, learner):
    topics = first_topics(7)
    for topic in topics[:5]:  # all of stage 1
        progress_set(user=learner, topic=topic, status="done")
    progress_set(user=learner, topic=topics[5], status="skipped")  # 2.1
    progress_set(user=learner, topic=topics[6], status="in_progress")  # 2.2 stays

    soup = soup_of(client.get(f"{ROADMAP}?show=left"))

    numbers = topic_numbers(soup)
    assert len(numbers) == 57 - 6
    assert numbers[:3] == ["2.2", "2.3", "3.1"]
    first_stage = soup.select_one("#stage-basics-of-python")
    assert "Every topic of this stage is finished." in text(first_stage)
    # Summaries are those of the whole roadmap, not of the filtered view.
    assert soup.select_one('[data-progress^="roadmap-"] [role=progressbar]')["aria-valuenow"] == "10"


def test_filter_links_say_which_view_is_current(client, learner):
    progress_set(user=learner, topic=first_topics(1)[0], status="done")

    everything = soup_of(client.get(ROADMAP)).select(".roadmap-filter a")
    left = soup_of(client.get(f"{ROADMAP}?show=left")).select(".roadmap-filter a")

    assert [(text(a), a.get("aria-current")) for a in everything] == [
        ("All topics", "page"),
        ("Only what's left 56 topics", None),
    ]
    assert [a["href"] for a in everything] == [ROADMAP, f"{ROADMAP}?show=left"]
    assert [a.get("aria-current") for a in left] == [None, "page"]


def test_tick_off_while_filtered_comes_back_to_the_filtered_view(client, learner):
    soup = soup_of(client.get(f"{ROADMAP}?show=left"))
    tick = soup.select_one(".tick")
    assert "next=/roadmaps/django-roadmap/%3Fshow%3Dleft%23t" in tick["formaction"]


@pytest.mark.parametrize("value", ["", "all", "nonsense"])
def test_other_show_values_show_everything(client, learner, value):
    progress_set(user=learner, topic=first_topics(1)[0], status="done")
    assert len(topic_numbers(soup_of(client.get(f"{ROADMAP}?show={value}")))) == 57


def test_anonymous_visitors_see_no_filter_and_every_topic(client, seeded):
    soup = soup_of(client.get(f"{ROADMAP}?show=left"))
    assert not soup.select(".roadmap-filter")
    assert len(topic_numbers(soup)) == 57


def test_table_of_contents_shows_each_stages_progress(client, learner):
    for topic in first_topics(6):
        progress_set(user=learner, topic=topic, status="done")

    entries = [text(a) for a in soup_of(client.get(ROADMAP)).select(".toc-list a")]

    assert entries[0] == "1. Basics of Python ✓, finished"
    assert entries[1] == "2. Introduction to Web Development 1/3 finished"
    assert entries[-1] == "Resources for the whole roadmap"


def test_printed_roadmap_lists_each_topics_resource_urls(client, seeded):
    soup = soup_of(client.get(ROADMAP))
    row = soup.select(".topic-row")[0]
    urls = [text(span) for span in row.select(".print-resources .print-url")]
    assert urls and all(url.startswith("https://docs.python.org/") for url in urls)


def test_filtered_page_costs_the_same_queries(client, django_assert_num_queries, seeded):
    user = make_user(username="bob")
    client.force_login(user)
    make_curriculum(stages=10, topics=10, resources=2, slug="big")
    client.get("/roadmaps/big/")  # warm the session
    # The session, the user, the content version and the learner's states: the curriculum is a cached fragment.
    with django_assert_num_queries(4):
        client.get("/roadmaps/big/?show=left")
