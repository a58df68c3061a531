"""Property-based tests (hypothesis): the importer and the progress service under arbitrary input.

The example-based tests show that chosen inputs work; these show that no
input breaks two promises:

* ``import_roadmap`` either imports a document, leaving a consistent
  curriculum that a second run leaves untouched, or refuses it with a
  ``CommandError`` that names the file and a line of it, leaving the database
  exactly as it was. Nothing else (no traceback, no endless loop, no
  half-written roadmap) whatever the file holds.
* However a learner ticks topics off, resets them and ticks them again, there
  is at most one record per learner and topic, and every page's percentage is
  the one a plain dictionary of statuses gives: 100 only when every topic is
  done or skipped, 0 only when none is.

pytest-django rolls the database back once per test, not per hypothesis
example, so each example runs in a savepoint of its own that is rolled back
(``example_savepoint``), with the caches emptied as ``tests/conftest.py`` does
per test. ``database=None`` keeps no examples (a failure prints the example
and a ``@reproduce_failure`` blob instead), and the caches hypothesis keeps
anyway go to the temporary directory rather than ``.hypothesis`` in the
repository.
"""

import math
import os
import re
import signal
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import NOT_STARTED, NOTE_MAX_LENGTH, Note, Progress, ProgressEvent, Status, User
from accounts.progress import LearnerProgress
from accounts.selectors import dashboard, public_profile, roadmap_summaries, summaries_for_topic
from accounts.services import STATUS_VALUES, InvalidStatus, note_set, progress_set
from roadmap.importer import ParsedRoadmap, RoadmapSyntaxError, make_slug, parse_roadmap
from roadmap.models import ContentVersion, Resource, Roadmap, RoadmapResource, Stage, Topic, TopicResource
from roadmap.progress import ProgressSummary, overlay
from roadmap.selectors import content_version, reading_orders, roadmap_list
from tests.factories import make_roadmap, make_stage, make_topic, make_user
from tests.helpers import page_progress

# Read when hypothesis first stores something (its character and constants caches), after this import.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "roadmap-site-hypothesis"))


def examples(count: int, **options) -> settings:
    """Hypothesis settings for a test whose examples share a function-scoped database."""
    return settings(
        max_examples=count,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **options,
    )


def clear_caches() -> None:
    """What the autouse ``empty_cache`` fixture does per test, for one example."""
    from django.core.cache import cache

    cache.clear()


@contextmanager
def example_savepoint() -> Iterator[None]:
    """Run one hypothesis example in a savepoint that is always rolled back, with empty caches."""
    clear_caches()
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        clear_caches()


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the run) if the block takes longer than ``seconds``."""

    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# The importer ===========================================================================

SLUG = "prop"
# A slug longer than the column (100): links labelled alike need shortened, numbered slugs.
LONG_TITLE = "Everything about Django models and the ORM " * 4
TITLE = "Property roadmap"
FILENAME = "roadmap.md"

# Imported before every example, so that a document also has to update, move
# and delete existing rows, and a refused one has something to leave intact.
BASE = f"""\
The roadmap before each example.

### 1. **Basics**
- What comes first.
  - **Setup**: Install [Python](https://www.python.org/).
  - **Models**: [{LONG_TITLE}](https://docs.djangoproject.com/en/stable/topics/db/models/)

### 2. **Views**
- **Caching**: See [the docs](https://docs.djangoproject.com/en/stable/topics/cache/).

### Resources
- **Official Docs**: [Django](https://docs.djangoproject.com/)
- **Books**:
  - "Two Scoops of Django" by Daniel and Audrey Feldroy
"""

CONTENT_MODELS = (Roadmap, Stage, Topic, Resource, RoadmapResource, TopicResource, ContentVersion)
SLUG_SHAPE = re.compile(r"[-a-z0-9_]{1,100}")

WORDS = ["Basics", "Setup", "Models", "Views", "Caching", "Forms", "Testing", "Deployment", "Security", "Async"]
ODD_TITLES = [
    "Déjà vu",
    "naïve café",
    "日本語のタイトル",
    "Ωmega and ΣIGMA",
    "party 🎉 time",
    "zero\u200bwidth",
    "right-to-left \u202e text",
    "combining e\u0301",
    "tab\tinside",
    "line\u2028separator",
    "form\x0cfeed",
    "vertical\x0btab",
    "next\x85line",
    "**bold**",
    "[not a link]",
    "snake_case",
    "-dashes-",
    "!!!",
    "   ",
    "`code` span",
    "Views.",
    "views",
    "trailing colon:",
    "a" * 99 + " b",
    "x" * 200,
    "y" * 201,
    "Z" * 150,
]
GOOD_URLS = [
    "https://www.python.org/",
    "https://docs.djangoproject.com/",
    "https://docs.djangoproject.com/en/stable/topics/cache/",
    "https://example.com/a/",
    "http://example.org/b",
    "HTTPS://EXAMPLE.NET/UPPER",
]
# Pass the parser's scheme check; the database layer's validation refuses them
# (so the import fails half-way through, after stages were written).
SUBTLY_BROKEN_URLS = ["https://exa%20mple.com/", "http://[::1", "https://-bad-.example/"]
BROKEN_URLS = [
    *SUBTLY_BROKEN_URLS,
    "https://" + "a" * 600,
    "javascript:alert(1)",
    "ftp://example.com/file",
    "mailto:someone@example.com",
    "//example.com/protocol-relative",
    "https://",
    "https://例え.テスト/",
    "https://example.com/\x00nul",
]
ODD_LINES = [
    "",
    "   ",
    "\t",
    "#",
    "# ",
    "####### seven hashes",
    "### ",
    "### 1.",
    "### 0. **Zero**",
    "### 99999999999999999999. **Huge**",
    "### " + "9" * 5000 + ". **Enormous number**",
    "### Resources",
    "## **Resources**:",
    "- ",
    "-",
    "* star bullet",
    "+ plus bullet",
    "  - indented bullet",
    "\t- tab bullet",
    "- **Named**:",
    "- **:**",
    "- [](https://example.com/)",
    "- [label](https://example.com/",
    "- [label] (https://example.com/)",
    "- \x00",
    "prose with \x00 a NUL",
    "\ufeffbyte order mark",
    "\u2028",
    "\x0c",
    "\x1c\x1d\x1e",
    "\u00a0non-breaking",
    "x" * 20_000,
    "- " + "long bullet " * 2_000,
]


CLEAN_TITLES = st.builds("{} {}".format, st.sampled_from(WORDS), st.integers(1, 3)) | st.sampled_from(
    [*WORDS, LONG_TITLE]
)
MESSY_TITLES = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(ODD_TITLES),
    st.text(max_size=30),
    st.text(alphabet="ab *_[]()#:.-!", max_size=20),
)
TITLES = {True: CLEAN_TITLES, False: MESSY_TITLES}
# Link labels repeat in real documents ("the docs"): different URLs under one title need distinct slugs.
LABELS = {True: st.sampled_from(["the docs", "Django", "Python", "here", LONG_TITLE]), False: MESSY_TITLES}
URLS = {True: st.sampled_from(GOOD_URLS), False: st.sampled_from(GOOD_URLS + BROKEN_URLS)}
LINK_SHAPES = st.sampled_from(["[{}]({})", "[{}]({})", "[{}]({}", "[{}] ({})", "[]({1})", "[{}]()"])
TOPIC_SHAPES = st.sampled_from(["plain", "named", "linked", "named-linked"])
TITLE_ENDINGS = st.sampled_from(["", ".", ":"])
DESCRIPTIONS = st.sampled_from(["", "Why it matters.", "Read this.. then that. and more", "`code` here"])
SUMMARIES = st.sampled_from(["What this stage covers.", "An overview:"])
PROSE = st.lists(st.sampled_from(["An introduction.", "Follow the stages in order:", "Ça va? Très bien."]), max_size=2)
HEADING_LEVELS = st.sampled_from(["#", "##", "###", "######"])
NUMBER_SHIFTS = st.sampled_from([0, 0, 0, 0, 0, 0, 1, -1, None])  # None: number 0
INDENTS = st.sampled_from(["", "  ", "    ", "\t"])
RESOURCE_HEADINGS = st.sampled_from(["### Resources", "### **Resources**", "## Resources:"])
GROUPS = st.sampled_from(["Official Docs", "Books", "Courses", "Practice", "Community", "Misc", ""])
AUTHORS = st.sampled_from(["Ann", "", "Bob and Eve"])
ODDITIES = st.sampled_from(ODD_LINES) | st.text(max_size=40)
ONE_IN_FOUR = st.sampled_from([False, False, False, True])
NEWLINES = st.sampled_from(["\n", "\n", "\r\n", "\r"])
CLEAN_STAGE_TITLES = st.lists(CLEAN_TITLES, min_size=1, max_size=4, unique_by=make_slug)
MESSY_STAGE_TITLES = st.lists(MESSY_TITLES, max_size=4)
# The Resources section lists each resource once (by URL, or by title for a book without one), mostly.
CLEAN_RESOURCE_URLS = st.lists(st.sampled_from(GOOD_URLS), unique=True, max_size=3)
CLEAN_BOOKS = st.lists(st.sampled_from(WORDS), unique=True, max_size=2)


def topic_slug(line: str) -> str | None:
    """The slug a topic line gets (None if it is no valid topic): clean stages have valid, distinct topics."""
    try:
        return parse_roadmap(f"### 1. **Stage**\n- {line}\n").stages[0].topics[0].slug
    except RoadmapSyntaxError:
        return None


# The helpers below take hypothesis's ``draw``: building strategies per example would cost more than the tests.


def draw_link(draw, clean: bool) -> str:
    label, url = draw(LABELS[clean]), draw(URLS[clean])
    return f"[{label}]({url})" if clean else draw(LINK_SHAPES).format(label, url)


def draw_topic_line(draw, clean: bool) -> str:
    title = draw(TITLES[clean])
    shape = draw(TOPIC_SHAPES)
    if shape == "plain":
        return title + draw(TITLE_ENDINGS)
    if shape == "linked":
        return f"{title} {draw_link(draw, clean)}"
    description = draw(DESCRIPTIONS)
    if shape == "named-linked":
        description += f" Read {draw_link(draw, clean)} and {draw_link(draw, clean)}."
    return f"**{title}**: {description}"


def draw_stage(draw, number: int, title: str, clean: bool, broken_link: bool) -> list[str]:
    if not clean:
        shift = draw(NUMBER_SHIFTS)
        number = 0 if shift is None else number + shift
    level = "###" if clean else draw(HEADING_LEVELS)
    heading = f"{level} {number}. **{title}**" if draw(st.booleans()) else f"{level} {number}. {title}"
    topics: list[str] = []
    for _ in range(draw(st.integers(1 if clean else 0, 4))):
        line = draw_topic_line(draw, clean)
        if not clean or (topic_slug(line) and topic_slug(line) not in map(topic_slug, topics)):
            topics.append(line)
    if clean and not topics:
        topics.append("Models")
    if broken_link:
        # A link that only the database layer refuses: the import fails after earlier rows were written.
        topics.append(f"**Half way**: [broken]({draw(st.sampled_from(SUBTLY_BROKEN_URLS))})")
    indent = draw(INDENTS)
    if topics and draw(st.booleans()):
        body = [f"- {draw(SUMMARIES)}", *(f"{indent or '  '}- {line}" for line in topics)]
    else:
        body = [f"{indent}- {line}" for line in topics]
    return [heading, *body, ""]


def draw_resources(draw, clean: bool) -> list[str]:
    lines = [draw(RESOURCE_HEADINGS)]
    if clean:
        for url in draw(CLEAN_RESOURCE_URLS):
            lines.append(f"- **{draw(GROUPS) or 'Docs'}**: [{draw(LABELS[True])}]({url})")
        if books := draw(CLEAN_BOOKS):
            lines += ["- **Books**:", *(f'  - "{book} Explained" by Some Author' for book in books)]
        if len(lines) > 1 and draw(ONE_IN_FOUR):
            lines.append(draw(st.sampled_from(lines[1:])))  # listed twice: refused
        return [*lines, ""]
    for _ in range(draw(st.integers(0, 4))):
        group = draw(GROUPS)
        head = f"**{group}**:" if group else ""
        entries = []
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.integers(0, 2))
            if kind == 0:
                entries.append(draw_link(draw, False))
            elif kind == 1:
                entries.append(f'"{draw(MESSY_TITLES)}" by {draw(AUTHORS)}')
            else:
                entries.append(draw(MESSY_TITLES))
        if draw(st.booleans()):
            lines.append(f"- {head} {' '.join(entries)}".rstrip())
        else:
            lines.append(f"{draw(INDENTS)}- {head}".rstrip())
            lines += [f"{draw(INDENTS)}- {entry}" for entry in entries]
    return [*lines, ""]


@st.composite
def documents(draw) -> str:
    """Roadmap documents: well-formed ones (``clean``), or ones with the mistakes editors (and attackers) make."""
    clean = draw(st.booleans())
    lines = [*draw(PROSE), ""]
    stage_titles = draw(CLEAN_STAGE_TITLES if clean else MESSY_STAGE_TITLES)
    broken_stage = draw(st.integers(1, len(stage_titles))) if clean and draw(ONE_IN_FOUR) else 0
    for number, title in enumerate(stage_titles, start=1):
        lines += draw_stage(draw, number, title, clean, broken_link=number == broken_stage)
    if draw(st.booleans()):
        lines += draw_resources(draw, clean)
    lines += draw(PROSE)
    if not clean:
        for _ in range(draw(st.integers(0, 3))):
            odd, position = draw(ODDITIES), draw(st.integers(0, len(lines)))
            if position == 0 or draw(st.booleans()):
                lines.insert(position, odd)
            else:
                lines[position - 1] += odd  # mid-line, e.g. a NUL byte in a bullet
        if draw(st.booleans()):
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(lines)))  # a duplicate line
    return draw(NEWLINES).join(lines)


def snapshot() -> dict[str, list[tuple]]:
    """Every curriculum row with all its columns (ContentVersion included: a no-op must not bump it)."""
    return {model.__name__: list(model.objects.order_by("pk").values_list()) for model in CONTENT_MODELS}


def run_import(path: Path) -> str:
    out = StringIO()
    call_command("import_roadmap", str(path), "--slug", SLUG, "--title", TITLE, stdout=out, stderr=out)
    return out.getvalue()


def editor_line_count(data: bytes) -> int:
    """How many lines an editor shows for the file (any of \\r\\n, \\r, \\n ends a line)."""
    return len(re.split(rb"\r\n|\r|\n", data))


def assert_matches_document(document: ParsedRoadmap) -> None:
    """The database holds exactly the document: numbered stages and topics, valid slugs, its links."""
    roadmap = Roadmap.objects.get(slug=SLUG)
    stages = list(roadmap.stages.order_by("position"))
    assert [stage.position for stage in stages] == list(range(1, len(document.stages) + 1))
    assert [(s.slug, s.title, s.summary) for s in stages] == [(p.slug, p.title, p.summary) for p in document.stages]
    for stage, parsed_stage in zip(stages, document.stages, strict=True):
        topics = list(stage.topics.order_by("position").prefetch_related("resource_links__resource"))
        assert [topic.position for topic in topics] == list(range(1, len(parsed_stage.topics) + 1))
        assert [(t.slug, t.title, t.description) for t in topics] == [
            (p.slug, p.title, p.description) for p in parsed_stage.topics
        ]
        for topic, parsed_topic in zip(topics, parsed_stage.topics, strict=True):
            links = list(topic.resource_links.all())
            assert len({link.position for link in links}) == len(links)
            assert {p.url for p in parsed_topic.links} <= {link.resource.url for link in links}
    # Nothing of the base roadmap survives outside the document; every topic sits in one of its stages.
    assert Stage.objects.count() == len(document.stages)
    assert Topic.objects.exclude(stage__in=stages).count() == 0
    assert Topic.objects.count() == sum(len(stage.topics) for stage in document.stages)
    for model in (Roadmap, Stage, Topic, Resource):
        for slug in model.objects.values_list("slug", flat=True):
            assert SLUG_SHAPE.fullmatch(slug), f"{model.__name__} slug {slug!r}"
    if document.resources is not None:
        links = list(roadmap.resource_links.order_by("position").select_related("resource"))
        assert [link.position for link in links] == list(range(1, len(document.resources) + 1))
        assert [(r.title, r.url, r.kind, r.author, r.is_free) for r in (link.resource for link in links)] == [
            (p.title, p.url, p.kind, p.author, p.is_free) for p in document.resources
        ]


def assert_imports_or_refuses_cleanly(path: Path, data: bytes) -> None:
    """Import ``data``: a consistent, idempotent result, or a located ``CommandError`` and no change."""
    path.write_bytes(data)
    before = snapshot()
    try:
        with time_limit(30):  # an import takes well under a second
            run_import(path)
    except CommandError as error:
        message = str(error)
        event(f"refused: {re.sub(r'.*line [0-9]+: ', '', message)[:40]}")
        located = re.match(re.escape(str(path)) + r"(?:, |: )line (?P<line>[0-9]+): \S", message)
        assert located, f"the error names neither the file nor a line: {message[:300]!r}"
        assert 1 <= int(located["line"]) <= editor_line_count(data), message[:300]
        assert snapshot() == before, "a refused import changed the database"
        return
    event("imported")
    assert_matches_document(parse_roadmap(path.read_text(encoding="utf-8")))
    after = snapshot()
    with time_limit(30):
        assert "No changes" in run_import(path)
    assert snapshot() == after, "importing the same document again changed the database"


@pytest.fixture
def document_path(db, tmp_path) -> Path:
    """Where each example writes its document, with the base roadmap imported."""
    base = tmp_path / "base.md"
    base.write_text(BASE, encoding="utf-8")
    run_import(base)
    return tmp_path / FILENAME


@examples(200)
@given(text=st.text() | st.text(alphabet='#*-+ \t\n\r.:1234567890[]()abc"\x00\u2028', max_size=200) | documents())
# Failures found while writing these tests, kept as examples: a line number counted at a record separator (U+001E), an
# IndexError for a first resource indented deeper than the next, a ValueError for a 5,000-digit stage number.
@example(text="\x1e\x00")
@example(
    text="### 1. **Stage**\n- Topic\n### Resources\n  - [A](https://a.example.com/)\n- [B](https://b.example.com/)\n"
)
@example(text="### " + "9" * 5000 + ". **Stage**\n- Topic\n")
def test_parser_returns_a_roadmap_or_raises_a_located_syntax_error(text):
    """No input makes the parser fail with anything but ``RoadmapSyntaxError`` pointing at a line of it."""
    try:
        document = parse_roadmap(text)
    except RoadmapSyntaxError as error:
        assert 1 <= error.line <= max(1, len(re.split(r"\r\n|\r|\n", text)))
        assert error.message
        return
    assert document.stages
    assert all(stage.topics for stage in document.stages)


def splice(text: str, position: int, insert: str) -> str:
    return text[:position] + insert + text[position:]


@examples(40)
@given(
    text=st.text()
    | st.text(alphabet="#*-+ \t\n.:123[]()ab\x00", max_size=300)
    # A valid document with anything inserted anywhere (the base roadmap: unchanged, it imports as a no-op).
    | st.builds(splice, st.just(BASE), st.integers(0, len(BASE)), st.text(max_size=20))
)
def test_arbitrary_text_is_imported_or_refused_without_a_trace(document_path, text):
    """Any text at all, valid UTF-8: imported consistently, or refused with a located error and no change."""
    with example_savepoint():
        assert_imports_or_refuses_cleanly(document_path, text.encode("utf-8"))


@examples(30)
@given(data=st.binary(max_size=200) | documents().map(lambda text: text.encode("utf-8") + b"\n\xff\xfe bad bytes"))
def test_arbitrary_bytes_are_imported_or_refused_without_a_trace(document_path, data):
    """Files that are not UTF-8 are refused with the line of the first bad byte."""
    with example_savepoint():
        assert_imports_or_refuses_cleanly(document_path, data)


@examples(60)
@given(text=documents())
# Failures found while writing these tests, kept as examples: a resource listed twice (IntegrityError),
# links labelled alike with a slug at the column's length (an endless loop), an upper-case scheme (refused
# on PostgreSQL only).
@example(
    text="### 1. **Stage**\n- Topic\n### Resources\n- [A](https://a.example.com/)\n- [B](https://a.example.com/)\n"
)
@example(
    text=f"### 1. **Stage**\n- **Topic**: [{LONG_TITLE}](https://a.example.com/) [{LONG_TITLE}](https://b.example.com/)\n"
)
@example(text="### 1. **Stage**\n- **Topic**: [Docs](HTTPS://EXAMPLE.COM/)\n")
def test_plausible_documents_are_imported_consistently_or_refused_without_a_trace(document_path, text):
    """Roadmap-shaped documents, right or subtly wrong, over an existing roadmap: all or nothing, and idempotent."""
    with example_savepoint():
        assert_imports_or_refuses_cleanly(document_path, text.encode("utf-8"))


# Progress ================================================================================

# Topics per stage, per roadmap: 7 topics give percentages with remainders
# (6 of 7 is 85 %), 2 show that one roadmap's records do not count in another.
SHAPE = {"alpha": (3, 1, 3), "beta": (2,)}
LEARNERS = st.integers(0, 1)
TOPICS = st.integers(0, sum(map(sum, SHAPE.values())) - 1)
ROADMAPS = st.sampled_from(sorted(SHAPE))
NOTE_TEXTS = st.sampled_from(["", "   ", "Read it again.", "  padded  ", "nul \x00 byte", "x" * (NOTE_MAX_LENGTH + 1)])
NOTE_TEXTS |= st.text(max_size=20)
FINISHED = [Status.DONE, Status.SKIPPED]
NOT_STATUSES = st.sampled_from(["DONE", "done ", "finished", "", "None", "not-started"]) | st.text(max_size=12)


@dataclass
class Curriculum:
    roadmaps: list[Roadmap]
    topics: list[Topic]  # in reading order, roadmap by roadmap
    roadmap_of: list[str]  # the slug of each topic's roadmap
    stage_of: list[int]  # each topic's stage pk
    learners: list[User]


@pytest.fixture
def curriculum(db) -> Curriculum:
    roadmaps, topics, roadmap_of, stage_of = [], [], [], []
    for position, (slug, stages) in enumerate(SHAPE.items(), start=1):
        roadmap = make_roadmap(slug=slug, title=slug.title(), position=position)
        roadmaps.append(roadmap)
        for stage_position, size in enumerate(stages, start=1):
            stage = make_stage(roadmap, position=stage_position)
            for topic_position in range(1, size + 1):
                topics.append(make_topic(stage, position=topic_position))
                roadmap_of.append(slug)
                stage_of.append(stage.pk)
    learners = [make_user(is_profile_public=True), make_user()]
    return Curriculum(roadmaps, topics, roadmap_of, stage_of, learners)


def numbers(summary: ProgressSummary) -> tuple[int, int, int, int, int]:
    return (summary.total, summary.done, summary.in_progress, summary.skipped, summary.percent)


class ProgressRules(RuleBasedStateMachine):
    """Status changes and notes by two learners, against a dictionary of what each learner last chose.

    The model is the obvious one: a topic's status is the last one set, "not
    started" means no record, and the percentage is finished (done + skipped)
    over all topics, rounded down, computed here with exact fractions.
    """

    world: Curriculum  # set by the test

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = example_savepoint()
        self.savepoint.__enter__()
        self.status: dict[tuple[int, int], str] = {}  # (learner, topic index) -> status; no key: not started
        self.notes: dict[tuple[int, int], str] = {}
        self.events = Counter()  # learner -> acknowledged changes
        self.last_change: tuple[int, int, str] | None = None
        self.unseen: set[int] = set()  # learners whose pages changed since they were last checked

    def teardown(self) -> None:
        self.savepoint.__exit__(None, None, None)

    # Rules ---------------------------------------------------------------------------------

    def _set(self, learner: int, topic: int, status: str) -> None:
        previous = self.status.get((learner, topic), NOT_STARTED)
        record = progress_set(user=self.world.learners[learner], topic=self.world.topics[topic], status=status)
        if status == NOT_STARTED:
            assert record is None
            self.status.pop((learner, topic), None)
        else:
            assert record is not None and record.status == status
            self.status[(learner, topic)] = status
        if status != previous:
            self.events[learner] += 1
            self.unseen.add(learner)
        self.last_change = (learner, topic, status)

    # Four rules change one status (hypothesis picks among rules, so changes make up most of a run).

    @rule(learner=LEARNERS, topic=TOPICS, status=st.sampled_from(sorted(STATUS_VALUES)))
    def set_any_status(self, learner: int, topic: int, status: str) -> None:
        self._change(learner, topic, status)

    @rule(learner=LEARNERS, topic=TOPICS, status=st.sampled_from(FINISHED))
    def tick_off(self, learner: int, topic: int, status: str) -> None:
        self._change(learner, topic, status)

    @rule(learner=LEARNERS, topic=TOPICS)
    def start(self, learner: int, topic: int) -> None:
        self._change(learner, topic, Status.IN_PROGRESS)

    @rule(learner=LEARNERS, topic=TOPICS)
    def reset(self, learner: int, topic: int) -> None:
        self._change(learner, topic, NOT_STARTED)

    def _change(self, learner: int, topic: int, status: str) -> None:
        self._set(learner, topic, status)
        self.check_change_summaries(learner, topic)

    @precondition(lambda self: self.last_change is not None)
    @rule()
    def repeat_the_last_change(self) -> None:
        """Setting the status a topic already has changes nothing, not even the time of the last change."""
        learner, topic, status = self.last_change
        user, topic_obj = self.world.learners[learner], self.world.topics[topic]
        before = list(Progress.objects.filter(user=user, topic=topic_obj).values_list())
        self._set(learner, topic, status)
        assert list(Progress.objects.filter(user=user, topic=topic_obj).values_list()) == before

    @rule(learner=LEARNERS, roadmap=ROADMAPS, finished=st.lists(st.sampled_from(FINISHED), max_size=9))
    def finish_a_roadmap(self, learner: int, roadmap: str, finished: list[str]) -> None:
        """Every topic done or skipped: the state where a wrong rounding would show 99 %."""
        for n, topic in enumerate(self._topics_of(roadmap)):
            self._set(learner, topic, finished[n] if n < len(finished) else Status.DONE)
        self.check_pages(learner)

    @rule(learner=LEARNERS, roadmap=ROADMAPS)
    def reset_a_roadmap(self, learner: int, roadmap: str) -> None:
        """Every topic back to "not started": the state that must show 0 %, not a leftover record's share."""
        topics = self._topics_of(roadmap)
        for topic in topics:
            self._set(learner, topic, NOT_STARTED)
        self.check_change_summaries(learner, topics[-1])

    @precondition(lambda self: self.unseen)
    @rule()
    def look_at_every_page(self) -> None:
        """A rule rather than an invariant (the pages cost some 30 queries), for the learners whose pages changed."""
        for learner in sorted(self.unseen):
            self.check_pages(learner)

    @rule(learner=LEARNERS, topic=TOPICS, status=NOT_STATUSES.filter(lambda status: status not in STATUS_VALUES))
    def unknown_status_is_refused(self, learner: int, topic: int, status: str) -> None:
        with pytest.raises(InvalidStatus):
            progress_set(user=self.world.learners[learner], topic=self.world.topics[topic], status=status)

    @rule(learner=LEARNERS, topic=TOPICS, text=NOTE_TEXTS)
    def write_a_note(self, learner: int, topic: int, text: str) -> None:
        user, topic_obj = self.world.learners[learner], self.world.topics[topic]
        if len(text.strip()) > NOTE_MAX_LENGTH or "\x00" in text:
            with pytest.raises(ValueError, match=r"at most|NUL"):
                note_set(user=user, topic=topic_obj, text=text)
            return
        note = note_set(user=user, topic=topic_obj, text=text)
        if text.strip():
            assert note is not None and note.text == text.strip()
            self.notes[(learner, topic)] = text.strip()
        else:
            assert note is None
            self.notes.pop((learner, topic), None)
        self.unseen.add(learner)  # the dashboard lists notes

    # The model ------------------------------------------------------------------------------

    def _topics_of(self, roadmap: str) -> list[int]:
        return [n for n, slug in enumerate(self.world.roadmap_of) if slug == roadmap]

    def _topics_in_stage(self, stage_pk: int) -> list[int]:
        return [n for n, pk in enumerate(self.world.stage_of) if pk == stage_pk]

    def expected(self, learner: int, topics: list[int]) -> tuple[int, int, int, int, int]:
        counts = Counter(self.status.get((learner, topic), NOT_STARTED) for topic in topics)
        finished = counts[Status.DONE] + counts[Status.SKIPPED]
        percent = math.floor(Fraction(finished, len(topics)) * 100)
        # Small roadmaps (at most 100 topics): any progress shows, and only all of it shows as 100.
        assert (percent == 100) == (finished == len(topics))
        assert (percent == 0) == (finished == 0)
        return (len(topics), counts[Status.DONE], counts[Status.IN_PROGRESS], counts[Status.SKIPPED], percent)

    def check_change_summaries(self, learner: int, topic: int) -> None:
        """What the tick-off endpoint answers with (JSON) after a change."""
        topic_obj = self.world.topics[topic]
        roadmap_id, stage_id = topic_obj.stage.roadmap_id, topic_obj.stage_id
        order = reading_orders([roadmap_id], version=content_version())[roadmap_id]
        summaries = summaries_for_topic(user=self.world.learners[learner], topic=topic_obj, order=order)
        assert numbers(summaries[f"roadmap-{roadmap_id}"]) == self.expected(
            learner, self._topics_of(self.world.roadmap_of[topic])
        )
        assert numbers(summaries[f"stage-{stage_id}"]) == self.expected(learner, self._topics_in_stage(stage_id))

    # Invariants ---------------------------------------------------------------------------

    @invariant()
    def one_record_per_touched_topic(self) -> None:
        pks = {learner.pk: n for n, learner in enumerate(self.world.learners)}
        topic_index = {topic.pk: n for n, topic in enumerate(self.world.topics)}
        rows = Progress.objects.values_list("user_id", "topic_id", "status", "started_at", "completed_at")
        records = sorted((pks[user], topic_index[topic], status) for user, topic, status, *_ in rows)
        assert records == sorted((learner, topic, status) for (learner, topic), status in self.status.items())
        for *_, status, started_at, completed_at in rows:
            assert (completed_at is not None) == (status == Status.DONE)
            assert started_at is not None or status == Status.SKIPPED
        notes = sorted(
            (pks[user], topic_index[topic], text)
            for user, topic, text in Note.objects.values_list("user_id", "topic_id", "text")
        )
        assert notes == sorted((learner, topic, text) for (learner, topic), text in self.notes.items())
        events = Counter(pks[user] for user in ProgressEvent.objects.values_list("user_id", flat=True))
        assert events == self.events

    def check_pages(self, learner: int) -> None:
        """Home, roadmap, "what's left", stage, dashboard and public profile pages agree with the model."""
        self.unseen.discard(learner)
        user, topics = self.world.learners[learner], self.world.topics
        index = {topic.pk: n for n, topic in enumerate(topics)}
        status_of = {topic.pk: self.status.get((learner, n), NOT_STARTED) for n, topic in enumerate(topics)}

        # Home page.
        roadmaps = [roadmap for roadmap in roadmap_list(user=user) if roadmap.slug in SHAPE]
        home = roadmap_summaries(user=user, roadmaps=roadmaps)
        for roadmap in roadmaps:
            assert numbers(home[roadmap.pk]) == self.expected(learner, self._topics_of(roadmap.slug))

        # Roadmap page and its "only what's left" view; stage pages.
        for roadmap in self.world.roadmaps:
            outline, progress = page_progress(user, roadmap.slug)
            expected = self.expected(learner, self._topics_of(roadmap.slug))
            assert numbers(progress.total) == expected
            for stage in outline.stage_list:
                in_stage = self._topics_in_stage(stage.pk)
                assert numbers(progress.stages[stage.pk]) == self.expected(learner, in_stage)
                assert [progress.statuses[t.pk] for t in stage.topic_list] == [
                    status_of[t.pk] for t in stage.topic_list
                ]
                # The stage page asks for the stage's states only.
                states = LearnerProgress().topic_states(user=user, roadmap_id=roadmap.pk, stage_id=stage.pk)
                alone = overlay([(stage.pk, [t.pk for t in stage.topic_list])], states)
                assert numbers(alone.total) == numbers(progress.stages[stage.pk])
            finished = expected[1] + expected[3]
            assert progress.total.left == progress.total.total - finished

        # Dashboard: started roadmaps in order, each with its percentage and the first unfinished topic.
        board = dashboard(user=user, version=content_version())
        started = [r for r in self.world.roadmaps if any((learner, t) in self.status for t in self._topics_of(r.slug))]
        assert [item.roadmap.pk for item in board.roadmaps] == [roadmap.pk for roadmap in started]
        for item in board.roadmaps:
            assert numbers(item.progress) == self.expected(learner, self._topics_of(item.roadmap.slug))
            unfinished = [
                topics[n].pk
                for n in self._topics_of(item.roadmap.slug)
                if self.status.get((learner, n)) not in FINISHED
            ]
            assert (item.next_topic and item.next_topic.pk) == (unfinished[0] if unfinished else None)
        in_progress = sorted(ref.pk for _, ref, _ in board.in_progress)
        assert in_progress == sorted(pk for pk, status in status_of.items() if status == Status.IN_PROGRESS)
        assert sorted(index[ref.pk] for _, ref, _ in board.notes) == sorted(
            topic for (owner, topic) in self.notes if owner == learner
        )

        # Public profile (the first learner opted in).
        if user.is_profile_public:
            _, shown = public_profile(username=user.username)
            assert [(roadmap.pk, numbers(summary)) for roadmap, summary in shown] == [
                (roadmap.pk, self.expected(learner, self._topics_of(roadmap.slug))) for roadmap in started
            ]


def test_progress_and_percentages_follow_any_sequence_of_changes(curriculum):
    """Arbitrary status changes, resets, repeats and notes keep records and every percentage right."""

    class Rules(ProgressRules):
        world = curriculum

    run_state_machine_as_test(Rules, settings=examples(20, stateful_step_count=15))


def test_a_note_with_a_nul_character_is_refused_on_every_database(curriculum):
    """PostgreSQL cannot store NUL (SQLite can): the service refuses it everywhere. The machine above
    draws such a note only now and then, so the case that failed on PostgreSQL is kept here."""
    with pytest.raises(ValueError, match="NUL"):
        note_set(user=curriculum.learners[0], topic=curriculum.topics[0], text="before \x00 after")
    assert not Note.objects.exists()
