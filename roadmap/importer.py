"""Parser for roadmaps written in the seed documents' markdown format.

The format (see ``fixtures/sources/``)::

    Optional opening prose.

    ### 1. **Stage title**
    - Optional intro line, when the topics below are indented under it.
      - Plain topic title.
      - **Topic title**: Topic description.

    ### Resources
    - **Official Django Documentation**: [Django Documentation](https://...)
    - **Books**:
      - "Book title" by Author

    Optional closing prose.

Parsing is pure (no database); ``roadmap.services.roadmap_import`` writes the
result. Every problem is reported as a ``RoadmapSyntaxError`` carrying the
line number, so an editor can fix the file.
"""

import re
from dataclasses import dataclass, field

from django.utils.text import slugify

from roadmap.models import Resource, ResourceKind, Stage, Topic

# Lines end as editors count them; str.splitlines() would also break at form
# feeds, U+2028 and the like, and report line numbers no editor shows.
LINE_BREAK = re.compile(r"\r\n|\r|\n")
HEADING = re.compile(r"^#{1,6}\s+(?P<text>.*?)\s*#*\s*$")
STAGE_HEADING = re.compile(r"^(?P<number>\d+)\.\s+(?:\*\*(?P<bold>.+?)\*\*|(?P<plain>.+?))\s*$")
BULLET = re.compile(r"^(?P<indent>[ \t]*)[-*+]\s+(?P<text>.*?)\s*$")
NAMED = re.compile(r"^\*\*(?P<name>[^*]+?)\s*:?\s*\*\*\s*:?\s*(?P<rest>.*)$")
LINK = re.compile(r"\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)")
BOOK = re.compile(r"^[\"“](?P<title>.+?)[\"”]\s+by\s+(?P<author>.+)$")
# A period in the middle of a sentence ("your development. environment"),
# unless it ends a common abbreviation.
STRAY_PERIOD = re.compile(r"(?<!\betc)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)\.\s+(?=[a-z])")

TITLE_MAX = Topic._meta.get_field("title").max_length
SUMMARY_MAX = Stage._meta.get_field("summary").max_length
SLUG_MAX = Topic._meta.get_field("slug").max_length
URL_MAX = Resource._meta.get_field("url").max_length

KIND_KEYWORDS = [
    (ResourceKind.DOCS, ("doc", "official", "reference")),
    (ResourceKind.BOOK, ("book",)),
    (ResourceKind.COURSE, ("course",)),
    (ResourceKind.VIDEO, ("video", "youtube", "screencast")),
    (ResourceKind.PRACTICE, ("practice", "exercise", "challenge")),
    (ResourceKind.COMMUNITY, ("community", "forum", "chat")),
]


class RoadmapSyntaxError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass
class ParsedResource:
    line: int
    title: str
    url: str
    kind: str
    author: str = ""
    is_free: bool = True

    @property
    def slug(self) -> str:
        return make_slug(self.title)


@dataclass
class ParsedTopic:
    line: int
    title: str
    description: str = ""
    links: list[ParsedResource] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return make_slug(self.title)


@dataclass
class ParsedStage:
    line: int
    title: str
    summary: str = ""
    topics: list[ParsedTopic] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return make_slug(self.title)


@dataclass
class ParsedRoadmap:
    description: str
    stages: list[ParsedStage]
    #: ``None`` when the document has no ``### Resources`` section.
    resources: list[ParsedResource] | None


def make_slug(title: str) -> str:
    return slugify(title)[:SLUG_MAX].strip("-")


def clean_text(text: str) -> str:
    """Collapse whitespace and fix the seeds' obvious typos (doubled and stray periods)."""
    text = " ".join(text.split())
    text = re.sub(r"\.{2,}", ".", text)
    return STRAY_PERIOD.sub(" ", text)


def clean_title(text: str) -> str:
    return clean_text(text).rstrip(" .:").strip()


def strip_links(text: str) -> str:
    return LINK.sub(lambda match: match["label"], text)


def kind_for(label: str) -> str:
    label = label.lower()
    for kind, keywords in KIND_KEYWORDS:
        if any(keyword in label for keyword in keywords):
            return kind
    return ResourceKind.ARTICLE


def _check_title(line: int, title: str, what: str) -> str:
    if not title:
        raise RoadmapSyntaxError(line, f"the {what} has no title.")
    if len(title) > TITLE_MAX:
        raise RoadmapSyntaxError(line, f"the {what} title is longer than {TITLE_MAX} characters.")
    if not make_slug(title):
        raise RoadmapSyntaxError(line, f"the {what} title {title!r} has no letters or digits to make a slug from.")
    return title


def _check_url(line: int, url: str) -> str:
    if not url.lower().startswith(("http://", "https://")):
        raise RoadmapSyntaxError(line, f"link {url!r} is not an http:// or https:// URL.")
    if len(url) > URL_MAX:
        raise RoadmapSyntaxError(line, f"link is longer than {URL_MAX} characters.")
    # Schemes are case-insensitive; the database's "http(s)://" check is not (on PostgreSQL).
    scheme, rest = url.split(":", 1)
    return f"{scheme.lower()}:{rest}"


def _description(prose: list[str]) -> str:
    """Opening and closing prose, without sentences that merely introduce the list ("...:")."""
    sentences = re.split(r"(?<=[.!?:])\s+", clean_text(" ".join(prose)))
    return " ".join(sentence for sentence in sentences if sentence and not sentence.endswith(":"))


@dataclass
class _Bullet:
    line: int
    indent: int
    text: str


def parse_roadmap(text: str) -> ParsedRoadmap:
    """Parse a whole document; raise ``RoadmapSyntaxError`` on the first problem."""
    prose: list[str] = []
    stages: list[ParsedStage] = []
    resources: list[ParsedResource] | None = None
    section: str = "opening"  # opening | stage | resources
    bullets: list[_Bullet] = []
    closing_line: int | None = None  # first prose line after a section's bullets

    def finish_section() -> None:
        nonlocal resources
        if section == "stage":
            _fill_stage(stages[-1], bullets)
        elif section == "resources":
            resources = _parse_resources(bullets)

    for number, raw in enumerate(LINE_BREAK.split(text), start=1):
        line = raw.rstrip()
        if not line.strip():
            continue
        if "\x00" in line:
            raise RoadmapSyntaxError(number, "the line contains a NUL character.")
        heading = HEADING.match(line)
        bullet = None if heading else BULLET.match(line)
        if (heading or bullet) and closing_line is not None:
            raise RoadmapSyntaxError(
                closing_line,
                "expected a '- ' bullet; prose is only allowed before the first stage and at the very end.",
            )
        if heading:
            finish_section()
            bullets = []
            heading_text = heading["text"]
            if heading_text.strip("*").strip().rstrip(":").lower() == "resources":
                if resources is not None:
                    raise RoadmapSyntaxError(number, "a second '### Resources' section.")
                section = "resources"
                resources = []
                continue
            stage_match = STAGE_HEADING.match(heading_text)
            if not stage_match:
                raise RoadmapSyntaxError(
                    number,
                    "expected a numbered stage heading like '### 1. **Stage title**' or '### Resources', "
                    f"got {line.strip()!r}.",
                )
            if section == "resources":
                raise RoadmapSyntaxError(number, "stages must come before the '### Resources' section.")
            expected = len(stages) + 1
            # Length first: int() refuses more than 4,300 digits.
            if len(stage_match["number"]) > 5 or int(stage_match["number"]) != expected:
                raise RoadmapSyntaxError(
                    number, f"stage number {stage_match['number']} is out of sequence; expected {expected}."
                )
            title = _check_title(number, clean_title(stage_match["bold"] or stage_match["plain"]), "stage")
            if any(stage.slug == make_slug(title) for stage in stages):
                raise RoadmapSyntaxError(number, f"another stage is already called {title!r}.")
            stages.append(ParsedStage(line=number, title=title))
            section = "stage"
            continue
        if bullet:
            if section == "opening":
                raise RoadmapSyntaxError(number, "a list item before the first '### 1. **Stage**' heading.")
            indent = len(bullet["indent"].expandtabs(4))
            bullets.append(_Bullet(line=number, indent=indent, text=bullet["text"]))
            continue
        # Prose: the document's opening, or its closing lines.
        if section != "opening" and closing_line is None:
            closing_line = number
        prose.append(line.strip())

    finish_section()
    if not stages:
        raise RoadmapSyntaxError(1, "no stages found; a stage starts with a heading like '### 1. **Stage title**'.")
    return ParsedRoadmap(description=_description(prose), stages=stages, resources=resources)


def _fill_stage(stage: ParsedStage, bullets: list[_Bullet]) -> None:
    if not bullets:
        raise RoadmapSyntaxError(stage.line, f"stage {stage.title!r} has no topics.")
    first = bullets[0]
    if len(bullets) > 1 and bullets[1].indent > first.indent and not NAMED.match(first.text):
        summary = clean_text(strip_links(first.text))
        if len(summary) > SUMMARY_MAX:
            raise RoadmapSyntaxError(first.line, f"the stage summary is longer than {SUMMARY_MAX} characters.")
        stage.summary = summary
        bullets = bullets[1:]
    for bullet in bullets:
        topic = _parse_topic(bullet)
        if any(other.slug == topic.slug for other in stage.topics):
            raise RoadmapSyntaxError(bullet.line, f"stage {stage.title!r} already has a topic called {topic.title!r}.")
        stage.topics.append(topic)


def _parse_topic(bullet: _Bullet) -> ParsedTopic:
    if named := NAMED.match(bullet.text):
        title, description = named["name"], named["rest"]
    else:
        title, description = bullet.text, ""
    links = [
        ParsedResource(
            line=bullet.line,
            title=clean_title(match["label"]),
            url=_check_url(bullet.line, match["url"]),
            kind=ResourceKind.ARTICLE,
        )
        for match in LINK.finditer(bullet.text)
    ]
    return ParsedTopic(
        line=bullet.line,
        title=_check_title(bullet.line, clean_title(strip_links(title)), "topic"),
        description=clean_text(strip_links(description)),
        links=links,
    )


def _parse_resources(bullets: list[_Bullet]) -> list[ParsedResource]:
    """Top-level bullets are groups (``**Books**:``); nested bullets are their entries.

    The first bullet sets the top level; a later one indented less starts a group too.
    """
    if not bullets:
        return []
    top = bullets[0].indent
    groups: list[tuple[_Bullet, list[_Bullet]]] = []
    for bullet in bullets:
        if bullet.indent <= top:
            groups.append((bullet, []))
        else:
            groups[-1][1].append(bullet)
    parsed: list[ParsedResource] = []
    for head, children in groups:
        named = NAMED.match(head.text)
        label, rest = (named["name"], named["rest"]) if named else ("", head.text)
        kind = kind_for(label)
        entries = ([(head.line, rest)] if rest.strip() else []) + [(child.line, child.text) for child in children]
        if not entries:
            raise RoadmapSyntaxError(head.line, f"resource group {label!r} lists no resources.")
        for line, text in entries:
            parsed.extend(_parse_resource_entry(line, text, kind))
    # The importer finds a resource by its URL (by its title's slug without one): listing it twice would link it twice.
    first_seen: dict[tuple[str, str], int] = {}
    for resource in parsed:
        key = (resource.url, "" if resource.url else resource.slug)
        if key in first_seen:
            raise RoadmapSyntaxError(
                resource.line, f"resource {resource.title!r} is already listed (line {first_seen[key]})."
            )
        first_seen[key] = resource.line
    return parsed


def _parse_resource_entry(line: int, text: str, kind: str) -> list[ParsedResource]:
    is_free = kind not in (ResourceKind.BOOK, ResourceKind.COURSE)
    links = list(LINK.finditer(text))
    if len(links) > 1:
        return [
            ParsedResource(
                line=line,
                title=_check_title(line, clean_title(match["label"]), "resource"),
                url=_check_url(line, match["url"]),
                kind=kind,
                is_free=is_free,
            )
            for match in links
        ]
    if links:
        title = _check_title(line, clean_title(strip_links(text)), "resource")
        return [
            ParsedResource(line=line, title=title, url=_check_url(line, links[0]["url"]), kind=kind, is_free=is_free)
        ]
    plain = clean_text(text)
    if book := BOOK.match(plain):
        title, author = clean_title(book["title"]), clean_title(book["author"])
    else:
        title, author = clean_title(plain), ""
    return [
        ParsedResource(
            line=line, title=_check_title(line, title, "resource"), url="", kind=kind, author=author, is_free=is_free
        )
    ]
