"""import_roadmap: parsing, idempotent sync by slug, and clear errors with line numbers."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from roadmap.importer import RoadmapSyntaxError, parse_roadmap
from roadmap.models import Resource, Roadmap, Stage, Topic
from tests.conftest import SOURCES
from tests.roadmap.test_fixtures import db_outline

pytestmark = pytest.mark.django_db

SMALL = """\
A tiny roadmap for tests.

### 1. **First Stage**
- What this stage is about.
  - Alpha topic.
  - Beta topic

### 2. **Second Stage**
   - **Gamma**: The third topic, with `code`.
"""


def run_import(path: Path, *args: str) -> str:
    """stdout, then stderr, of one import_roadmap run."""
    out, err = StringIO(), StringIO()
    call_command("import_roadmap", str(path), *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "small.md"
    path.write_text(SMALL, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("filename", "stages", "topics"), [("django-roadmap.md", 15, 57), ("mastering-django.md", 10, 48)]
)
def test_parser_reads_both_seed_documents(filename, stages, topics):
    document = parse_roadmap((SOURCES / filename).read_text(encoding="utf-8"))
    assert len(document.stages) == stages
    assert sum(len(stage.topics) for stage in document.stages) == topics


@pytest.mark.parametrize("slug", ["django-roadmap", "mastering-django"])
def test_importing_a_seed_into_an_empty_database_yields_the_fixture_content(seeded, slug):
    expected = db_outline(slug)
    expected_summaries = list(Stage.objects.filter(roadmap__slug=slug).values_list("summary", flat=True))
    title = Roadmap.objects.get(slug=slug).title
    Roadmap.objects.all().delete()

    run_import(SOURCES / f"{slug}.md", "--slug", slug, "--title", title)

    assert db_outline(slug) == expected
    assert list(Stage.objects.filter(roadmap__slug=slug).values_list("summary", flat=True)) == expected_summaries


@pytest.mark.parametrize("slug", ["django-roadmap", "mastering-django"])
def test_importing_a_seed_over_the_shipped_fixture_changes_nothing(seeded, slug):
    topic_ids = set(Topic.objects.values_list("pk", flat=True))
    output = run_import(SOURCES / f"{slug}.md", "--slug", slug)
    assert "No changes" in output
    assert set(Topic.objects.values_list("pk", flat=True)) == topic_ids
    assert Topic.objects.filter(resources__isnull=True).count() == 0  # docs links kept


def test_import_creates_stages_topics_and_summaries(small):
    output = run_import(small, "--slug", "tiny", "--title", "Tiny")
    roadmap = Roadmap.objects.get(slug="tiny")
    assert roadmap.title == "Tiny"
    assert roadmap.description == "A tiny roadmap for tests."
    assert db_outline("tiny") == [
        ("First Stage", [("Alpha topic", ""), ("Beta topic", "")]),
        ("Second Stage", [("Gamma", "The third topic, with `code`.")]),
    ]
    assert Stage.objects.get(slug="first-stage").summary == "What this stage is about."
    assert "created topic 1.1 'Alpha topic'" in output
    assert "Imported 'tiny': 2 stages, 3 topics" in output


def test_second_run_changes_nothing_and_says_so(small):
    run_import(small, "--slug", "tiny", "--title", "Tiny")
    ids = list(Topic.objects.values_list("pk", flat=True))
    output = run_import(small, "--slug", "tiny")
    assert "No changes: 'tiny' is up to date (2 stages, 3 topics)." in output
    assert list(Topic.objects.values_list("pk", flat=True)) == ids


def test_reimport_updates_descriptions_and_order_in_place(small):
    run_import(small, "--slug", "tiny", "--title", "Tiny")
    gamma = Topic.objects.get(slug="gamma")
    small.write_text(
        SMALL.replace("The third topic", "A better description").replace(
            "  - Alpha topic.\n  - Beta topic\n", "  - Beta topic\n  - Alpha topic.\n"
        )
    )
    output = run_import(small, "--slug", "tiny")
    gamma.refresh_from_db()
    assert gamma.description == "A better description, with `code`."
    assert [t.slug for t in Stage.objects.get(slug="first-stage").topics.all()] == ["beta-topic", "alpha-topic"]
    assert "updated topic 2.1 'Gamma' (description)" in output


def test_reimport_deletes_topics_and_stages_removed_from_the_file(small):
    run_import(small, "--slug", "tiny", "--title", "Tiny")
    small.write_text(SMALL.split("### 2.")[0].replace("  - Beta topic\n", ""))
    output = run_import(small, "--slug", "tiny")
    assert db_outline("tiny") == [("First Stage", [("Alpha topic", "")])]
    assert "deleted topic 'Beta topic'" in output
    assert "deleted stage 'Second Stage'" in output


def test_dry_run_reports_and_changes_nothing(small):
    output = run_import(small, "--slug", "tiny", "--title", "Tiny", "--dry-run")
    assert "Dry run, nothing saved" in output
    assert "[dry run] would have created topic 1.1 'Alpha topic'" in output
    assert not Roadmap.objects.exists()


def test_resources_section_becomes_roadmap_resources(tmp_path):
    path = tmp_path / "r.md"
    path.write_text(
        SMALL
        + "\n### Resources\n- **Official Docs**: [Docs](https://docs.example.com/)\n"
        + '- **Books**:\n  - "A Book" by Some Author\n'
        + "- **Practice**: Try [One](https://one.example.com/) and [Two](https://two.example.com/).\n"
        + "\nThe end.\n"
    )
    run_import(path, "--slug", "tiny", "--title", "Tiny")
    roadmap = Roadmap.objects.get(slug="tiny")
    assert [(r.title, r.kind, r.url, r.author) for r in roadmap.resources.all()] == [
        ("Docs", "docs", "https://docs.example.com/", ""),
        ("A Book", "book", "", "Some Author"),
        ("One", "practice", "https://one.example.com/", ""),
        ("Two", "practice", "https://two.example.com/", ""),
    ]
    assert roadmap.description == "A tiny roadmap for tests. The end."
    assert "No changes" in run_import(path, "--slug", "tiny")
    assert Resource.objects.count() == 4


def test_links_in_topic_bullets_become_topic_resources(tmp_path):
    path = tmp_path / "links.md"
    path.write_text("### 1. **Stage**\n- **Views**: Read [the guide](https://example.com/views/).\n")
    run_import(path, "--slug", "links", "--title", "Links")
    topic = Topic.objects.get(slug="views")
    assert topic.description == "Read the guide."
    assert [r.url for r in topic.resources.all()] == ["https://example.com/views/"]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "no stages found"),
        ("Just prose.\n", 1, "no stages found"),
        ("- a bullet first\n### 1. **Stage**\n- Topic\n", 1, "before the first"),
        ("### 1. **Stage**\n- Topic\n### 3. **Skipped**\n- Topic\n", 3, "out of sequence; expected 2"),
        ("### 1. **Stage**\n- Topic\n### Stage without number\n- Topic\n", 3, "expected a numbered stage heading"),
        ("### 1. **Empty**\n\n### 2. **Stage**\n- Topic\n", 1, "has no topics"),
        ("### 1. **Stage**\n- Topic\n- Topic.\n", 3, "already has a topic called 'Topic'"),
        ("### 1. **Stage**\n- Topic\n### 2. **Stage**\n- Topic\n", 3, "another stage is already called"),
        ("### 1. **Stage**\n- !!!\n", 2, "no letters or digits"),
        ("### 1. **Stage**\n- " + "x" * 201 + "\n", 2, "longer than 200"),
        ("### 1. **Stage**\n- Topic\nStray prose\n- Another\n", 3, "expected a '- ' bullet"),
        ("### 1. **Stage**\n- [Bad](javascript:alert(1))\n", 2, "not an http:// or https:// URL"),
        ("### 1. **Stage**\n- Topic\n### Resources\n- **Books**:\n", 4, "lists no resources"),
        ("### 1. **Stage**\n- Topic\n### Resources\n- x\n### Resources\n", 5, "a second"),
        ("### 1. **Stage**\n- Topic\n### Resources\n- x\n### 2. **Late**\n- Topic\n", 5, "must come before"),
    ],
)
def test_malformed_input_is_rejected_with_its_line_number(tmp_path, text, line, message):
    path = tmp_path / "bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        run_import(path, "--slug", "bad", "--title", "Bad")
    assert f"bad.md, line {line}: " in str(error.value)
    assert message in str(error.value)
    assert not Roadmap.objects.exists()


def test_parse_error_carries_the_line_number():
    with pytest.raises(RoadmapSyntaxError) as error:
        parse_roadmap("### 1. **Stage**\n- Topic\n\n### 5. **Five**\n- T\n")
    assert error.value.line == 4


def test_invalid_utf8_is_a_clear_error(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes(b"### 1. **Stage**\n- Caf\xe9\n")
    with pytest.raises(CommandError, match=r"latin1.md, line 2: not valid UTF-8"):
        run_import(path, "--slug", "x", "--title", "X")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run_import(tmp_path / "missing.md", "--slug", "x", "--title", "X")


def test_new_roadmap_needs_a_title(small):
    with pytest.raises(CommandError, match=r"does not exist yet: give it a title \(--title\)"):
        run_import(small, "--slug", "tiny")


@pytest.mark.parametrize("slug", ["Not A Slug", "", "ünïcode"])
def test_bad_slug_is_rejected(small, slug):
    with pytest.raises(CommandError, match="not a valid slug"):
        run_import(small, "--slug", slug, "--title", "T")


def test_verbosity_zero_prints_nothing(small):
    assert run_import(small, "--slug", "tiny", "--title", "Tiny", "--verbosity", "0") == ""


def test_reimport_keeps_and_reports_topics_that_other_data_protects(small):
    from tests.testapp.models import TopicReference

    run_import(small, "--slug", "tiny", "--title", "Tiny")
    beta = Topic.objects.get(slug="beta-topic")
    gamma = Topic.objects.get(slug="gamma")
    TopicReference.objects.create(topic=beta)
    TopicReference.objects.create(topic=gamma)
    # Beta disappears from stage 1 and the whole of stage 2 goes.
    small.write_text(SMALL.split("### 2.")[0].replace("  - Beta topic\n", ""))

    output = run_import(small, "--slug", "tiny")

    assert Topic.objects.filter(pk__in=[beta.pk, gamma.pk]).count() == 2
    assert Stage.objects.filter(slug="second-stage").exists()
    assert "kept topic 'Beta topic' in stage 'First Stage': learners' progress points at it (unpublished)" in output
    assert "kept stage 'Second Stage': it still holds topics with learners' progress" in output
    assert "0 deleted, 3 kept" in output
    assert "No changes" not in output


def test_links_in_topic_bullets_go_after_links_editors_added(tmp_path):
    path = tmp_path / "links.md"
    path.write_text("### 1. **Stage**\n- **Views**: Read [the guide](https://example.com/views/).\n")
    run_import(path, "--slug", "links", "--title", "Links")
    topic = Topic.objects.get(slug="views")
    editors = Resource.objects.create(title="Editors' pick", slug="editors-pick", url="https://example.com/pick/")
    topic.resources.add(editors, through_defaults={"position": 7})
    path.write_text(
        "### 1. **Stage**\n"
        "- **Views**: Read [the guide](https://example.com/views/) and [more](https://example.com/more/).\n"
    )

    run_import(path, "--slug", "links")

    positions = dict(topic.resource_links.values_list("resource__url", "position"))
    assert positions == {
        "https://example.com/views/": 1,
        "https://example.com/pick/": 7,
        "https://example.com/more/": 8,
    }
