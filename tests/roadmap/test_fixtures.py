"""The shipped content: fixtures/roadmaps.json, checked against the seed documents."""

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from roadmap.models import Resource, ResourceKind, Roadmap, Stage, Topic, TopicResource
from tests.conftest import BASE_DIR, SOURCES

FIXTURE = BASE_DIR / "fixtures" / "roadmaps.json"
SEEDS = {"django-roadmap": SOURCES / "django-roadmap.md", "mastering-django": SOURCES / "mastering-django.md"}

pytestmark = pytest.mark.django_db


def seed_outline(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(stage title, [(topic title, description)])] read straight from a seed, independently of the importer."""
    stages: list[tuple[str, list[tuple[str, str]]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if heading := re.match(r"### \d+\. \*\*(.+)\*\*", line):
            stages.append((heading[1], []))
        elif line.startswith("### "):
            break  # the closing Resources section
        elif stages and (bullet := re.match(r"\s+- (?:\*\*(.+?)\*\*: )?(.+)", line)):
            name, text = bullet[1], re.sub(r"\.{2,}", ".", bullet[2])
            stages[-1][1].append((name, text) if name else (text.rstrip("."), ""))
    return stages


def db_outline(slug: str) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (stage.title, [(topic.title, topic.description) for topic in stage.topics.all()])
        for stage in Stage.objects.filter(roadmap__slug=slug).prefetch_related("topics")
    ]


def test_loaddata_roadmaps_loads_both_roadmaps_with_their_counts(seeded):
    counts = {roadmap.slug: (roadmap.stage_count, roadmap.topic_count) for roadmap in Roadmap.objects.with_counts()}
    assert counts == {"django-roadmap": (15, 57), "mastering-django": (10, 48)}


@pytest.mark.parametrize("slug", SEEDS)
def test_every_seed_stage_and_topic_is_in_the_fixture_in_order(seeded, slug):
    assert db_outline(slug) == seed_outline(SEEDS[slug])


def test_seed_typos_are_fixed_in_stage_summaries(seeded):
    stage = Stage.objects.get_by_natural_key("django-roadmap", "setting-up-django")
    assert stage.summary == "Install Django and set up your development environment."
    assert Topic.objects.filter(title__endswith=".").count() == 0


def test_roadmaps_have_titles_and_descriptions_from_their_documents(seeded):
    django_roadmap = Roadmap.objects.get(slug="django-roadmap")
    mastering = Roadmap.objects.get(slug="mastering-django")
    assert django_roadmap.description.startswith("By following this roadmap, you will systematically build")
    assert mastering.title == "Mastering Django"
    assert mastering.description == (
        "Mastering Django involves a combination of theoretical learning and practical experience."
    )


def test_closing_resources_list_becomes_roadmap_wide_resources(seeded):
    resources = {r.title: r for r in Roadmap.objects.get(slug="django-roadmap").resources.all()}
    assert set(resources) == {
        "Django Documentation",
        "Django for Beginners",
        "Two Scoops of Django",
        "Django on Coursera",
        "Django on Udemy",
        "LeetCode",
        "HackerRank",
    }
    assert resources["Django Documentation"].kind == ResourceKind.DOCS
    assert resources["Two Scoops of Django"].kind == ResourceKind.BOOK
    assert resources["Two Scoops of Django"].author == "Daniel Roy Greenfeld and Audrey Roy Greenfeld"
    assert resources["Django for Beginners"].author == "William S. Vincent"
    assert resources["Django on Udemy"].kind == ResourceKind.COURSE
    assert resources["LeetCode"].kind == ResourceKind.PRACTICE
    # Stage 9 of the second roadmap stays a stage.
    assert Stage.objects.get_by_natural_key("mastering-django", "community-and-resources").topics.count() == 4


def test_every_topic_has_at_least_one_official_docs_link(seeded):
    bare = Topic.objects.exclude(resources__kind=ResourceKind.DOCS).values_list("title", flat=True)
    assert list(bare) == []


def test_every_link_was_checked_to_exist():
    """No invented URLs: each is in the checked list or written in a seed document itself."""
    with (SOURCES / "docs-links.tsv").open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    checked = {row["url"] for row in csv.DictReader(io.StringIO("".join(lines)), delimiter="\t")}
    seed_text = "".join(path.read_text(encoding="utf-8") for path in SEEDS.values())
    urls = {obj["fields"]["url"] for obj in json.loads(FIXTURE.read_text()) if obj["model"] == "roadmap.resource"}
    unchecked = {url for url in urls if url and url not in checked and f"({url})" not in seed_text}
    assert unchecked == set()


def test_fixture_is_portable_natural_keys_only():
    objects = json.loads(FIXTURE.read_text())
    assert objects
    assert all("pk" not in obj for obj in objects)
    topic = next(obj for obj in objects if obj["model"] == "roadmap.topic")
    assert topic["fields"]["stage"] == ["django-roadmap", "basics-of-python"]


def test_fixture_is_exactly_what_dumpdata_produces(seeded):
    out = io.StringIO()
    call_command(
        "dumpdata",
        "roadmap",
        exclude=["roadmap.contentversion"],
        natural_foreign=True,
        natural_primary=True,
        indent=2,
        stdout=out,
    )
    dumped = json.loads(out.getvalue())
    for obj in dumped:
        # Bookkeeping the build script leaves out (see scripts/build_fixtures.py).
        obj["fields"].pop("content_updated_at", None)
    assert dumped == json.loads(FIXTURE.read_text())


def test_reloading_the_fixture_updates_in_place_and_keeps_ids(seeded):
    before = {model: dict(model.objects.values_list("pk", "title")) for model in (Roadmap, Stage, Topic, Resource)}
    links_before = dict(TopicResource.objects.values_list("pk", "position"))
    topic = Topic.objects.get_by_natural_key("django-roadmap", "basics-of-python", "exception-handling")
    topic.title = "Edited by mistake"
    topic.save()
    TopicResource.objects.filter(topic=topic).update(position=99)

    call_command("loaddata", "roadmaps", verbosity=0)

    after = {model: dict(model.objects.values_list("pk", "title")) for model in (Roadmap, Stage, Topic, Resource)}
    assert after == before
    assert dict(TopicResource.objects.values_list("pk", "position")) == links_before
    topic.refresh_from_db()
    assert topic.title == "Exception Handling"


def test_reloading_the_fixture_keeps_links_editors_added(seeded):
    topic = Topic.objects.get_by_natural_key("django-roadmap", "testing", "unit-testing")
    extra = Resource.objects.create(title="A testing talk", slug="a-testing-talk", url="https://example.com/talk/")
    topic.resources.add(extra, through_defaults={"position": 9})

    call_command("loaddata", "roadmaps", verbosity=0)

    assert extra in topic.resources.all()
    assert topic.resources.count() > 1


def test_topic_links_keep_the_relevance_order_of_topic_links_tsv(seeded):
    topic = Topic.objects.get_by_natural_key("django-roadmap", "django-orm-object-relational-mapping", "models")
    assert [link.resource.url for link in topic.resource_links.order_by("position")] == [
        "https://docs.djangoproject.com/en/stable/topics/db/models/",
        "https://docs.djangoproject.com/en/stable/ref/models/fields/",
    ]


def test_a_load_that_adds_a_link_to_an_existing_topic_marks_it_changed(seeded):
    """A curriculum update by fixture is a change learners should see; a fresh load is not."""
    topic = Topic.objects.get_by_natural_key("django-roadmap", "basics-of-python", "exception-handling")
    assert topic.content_updated_at is None, "a topic created with its links by one load has not changed since"
    TopicResource.objects.filter(topic=topic).first().delete()
    long_ago = timezone.now() - timedelta(days=30)
    Topic.objects.filter(pk=topic.pk).update(content_updated_at=long_ago)

    call_command("loaddata", "roadmaps", verbosity=0)

    topic.refresh_from_db()
    assert topic.content_updated_at > long_ago
