"""Curriculum pages: the shared curriculum rendered once per content version, the viewer's progress laid over it.

The roadmap, stage and topic pages are stored whole, in the site's layout
(``roadmap.layout.stored_page``, keyed by content version, kind of viewer and
theme); each request fills their slots from one or two queries for the
learner's progress (``roadmap.progress``, the seam to the learners' app).
Visitors without a login get whole stored responses (``pagecache.public_page``).
How a request gets here, and why, is in ``docs/architecture.md``.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from pagecache import public_page
from roadmap import markup, selectors
from roadmap import search as search_selectors
from roadmap.forms import SearchForm
from roadmap.layout import respond, stored_page
from roadmap.preferences import theme_of
from roadmap.progress import FINISHED, TopicRecord, TopicState, changed_since_done, learner_progress, overlay

public = public_page(version=selectors.content_version, vary=theme_of)


@dataclass(frozen=True, slots=True)
class Ref:
    """What a page's title, breadcrumbs and header need of a roadmap or stage, stored with its fragment."""

    pk: int
    slug: str
    title: str
    url: str
    description: str = ""
    number: int | None = None

    def get_absolute_url(self) -> str:
        return self.url


# (topic id, content_updated_at) for each topic of a stage, in order.
TopicRows = tuple[tuple[int, datetime | None], ...]


@dataclass(frozen=True, slots=True)
class StageRows:
    ref: Ref
    topics: TopicRows


@dataclass(frozen=True, slots=True)
class ControlRow:
    """A topic on the stage page: what its progress buttons need besides the learner's status."""

    pk: int
    content_updated_at: datetime | None
    number: str
    title: str
    progress_url: str


@dataclass(frozen=True, slots=True)
class TopicData:
    roadmap: Ref
    is_published: bool
    stage: Ref
    topic: Ref
    content_updated_at: datetime | None
    progress_url: str


@dataclass(frozen=True, slots=True)
class OutlineData:
    roadmap: Ref
    is_published: bool
    stages: tuple[StageRows, ...]


@public
def home(request: HttpRequest) -> HttpResponse:
    roadmaps = selectors.roadmap_list(user=request.user)
    if request.user.is_authenticated:
        summaries = learner_progress().roadmap_summaries(user=request.user, roadmaps=roadmaps)
        for roadmap in roadmaps:
            roadmap.progress = summaries.get(roadmap.pk)
    return render(request, "roadmap/home.html", {"roadmaps": roadmaps})


@public_page(version=selectors.content_version, vary=theme_of, query={"show": ["left"]})
def roadmap_detail(request: HttpRequest, roadmap: str) -> HttpResponse:
    learner = request.user.is_authenticated

    def build(_slot: Callable[[str], str]) -> tuple[dict, OutlineData]:
        outline = selectors.roadmap_outline(user=request.user, slug=roadmap)
        data = OutlineData(
            roadmap=_ref(outline),
            is_published=outline.is_published,
            stages=tuple(StageRows(_ref(stage), _rows(stage.topic_list)) for stage in outline.stage_list),
        )
        return {"roadmap": outline, "learner": learner}, data

    page = stored_page(request, "roadmap", roadmap, "roadmap/roadmap_detail.html", build)
    data: OutlineData = page.data
    _check_visible(request, data.is_published)
    values = {}
    if learner:
        states = learner_progress().topic_states(user=request.user, roadmap_id=data.roadmap.pk)
        values = _outline_values(request, data, states, only_left=request.GET.get("show") == "left")
    return respond(request, page, values)


@public
def stage_detail(request: HttpRequest, roadmap: str, stage: str) -> HttpResponse:
    learner = request.user.is_authenticated

    def build(_slot: Callable[[str], str]) -> tuple[dict, tuple]:
        detail = selectors.stage_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage)
        number = detail.stage.number
        rows = tuple(
            ControlRow(
                topic.pk,
                topic.content_updated_at,
                f"{number}.{topic.number}",
                topic.title,
                reverse("accounts:progress", args=[roadmap, stage, topic.slug]),
            )
            for topic in detail.stage.topic_list
        )
        data = (_ref(detail.roadmap), detail.roadmap.is_published, _ref(detail.stage), rows)
        return {"detail": detail, "learner": learner, "roadmap": data[0], "stage": data[2]}, data

    page = stored_page(request, "stage", f"{roadmap}/{stage}", "roadmap/stage_detail.html", build)
    roadmap_ref, is_published, stage_ref, rows = page.data
    _check_visible(request, is_published)
    values = {}
    if learner:
        states = learner_progress().topic_states(user=request.user, roadmap_id=roadmap_ref.pk, stage_id=stage_ref.pk)
        values = _stage_values(request, stage_ref, rows, states)
    return respond(request, page, values)


@public
def topic_detail(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    return topic_page(request, roadmap, stage, topic)


def topic_page(
    request: HttpRequest, roadmap: str, stage: str, topic: str, *, note_form: Form | None = None, status: int = 200
) -> HttpResponse:
    """The topic page; ``note_form`` is a submitted note shown again with its errors (its page is not stored)."""
    learner = request.user.is_authenticated
    seam = learner_progress()

    def build(slot: Callable[[str], str]) -> tuple[dict, TopicData]:
        detail = selectors.topic_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
        data = TopicData(
            roadmap=_ref(detail.roadmap),
            is_published=detail.roadmap.is_published,
            stage=_ref(detail.stage),
            topic=_ref(detail.topic),
            content_updated_at=detail.topic.content_updated_at,
            progress_url=reverse("accounts:progress", args=[roadmap, stage, topic]),
        )
        context = {"detail": detail, "learner": learner, "roadmap": data.roadmap, "stage": data.stage}
        context["topic"] = data.topic
        if learner:
            # The textarea holds a slot: the learner's note is filled in per request.
            context["note_form"] = note_form or seam.note_form(text=slot("note"))
        return context, data

    name = f"{roadmap}/{stage}/{topic}"
    page = stored_page(request, "topic", name, "roadmap/topic_detail.html", build, store=note_form is None)
    data: TopicData = page.data
    _check_visible(request, data.is_published)
    values = {}
    if learner:
        values = _topic_values(request, data, seam.topic_record(user=request.user, topic_id=data.topic.pk))
    return respond(request, page, values, status=status)


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = search_selectors.search(user=request.user, query=form.cleaned_data["q"])
    return render(request, "roadmap/search.html", {"form": form, "results": results})


# Fragments and their slots ------------------------------------------------------------------------------------

# Per status: the topic row's attributes, the checkbox's state and the badge, built once.
_ROW = {status: format_html(' data-status="{}"', status) for status in markup.STATUSES}
_BADGE = {status: markup.status_badge(status) for status in markup.STATUSES}
_TICK = {status: markup.tick_state(status) for status in markup.STATUSES}


def _check_visible(request: HttpRequest, is_published: bool) -> None:
    # Drafts are for staff previewing them from the admin; the fragment may have been stored for one.
    if not (is_published or (request.user.is_authenticated and request.user.is_staff)):
        raise Http404("No such roadmap.")


def _ref(item) -> Ref:
    description = getattr(item, "description", "") or getattr(item, "summary", "")
    return Ref(item.pk, item.slug, item.title, item.get_absolute_url(), description, getattr(item, "number", None))


def _rows(topics) -> TopicRows:
    return tuple((topic.pk, topic.content_updated_at) for topic in topics)


def _outline_values(
    request: HttpRequest, data: OutlineData, states: dict[int, TopicState], *, only_left: bool
) -> dict[str, SafeString | str]:
    """The roadmap page's slots for this learner (no query)."""
    progress = overlay(((stage.ref.pk, [topic_id for topic_id, _ in stage.topics]) for stage in data.stages), states)
    values: dict[str, SafeString | str] = {}  # "next" (the path to come back to) is the layout's
    for stage in data.stages:
        for topic_id, content_updated_at in stage.topics:
            status = progress.statuses[topic_id]
            values[f"row:{topic_id}"] = _ROW[status] + " hidden" if only_left and status in FINISHED else _ROW[status]
            values[f"tick:{topic_id}"] = _TICK[status]
            values[f"badge:{topic_id}"] = _BADGE[status]
            if changed_since_done(states.get(topic_id), content_updated_at):
                values[f"updated:{topic_id}"] = markup.UPDATED_MARK
        stage_id, summary = stage.ref.pk, progress.stages[stage.ref.pk]
        values[f"toc:{stage_id}"] = markup.toc_count(summary, stage_id)
        values[f"stage-progress:{stage_id}"] = markup.progress_bar(summary, "stage", stage_id, stage.ref.title)
        if summary.is_complete:
            values[f"stage-class:{stage_id}"] = " is-complete"
            if only_left:
                values[f"stage-done:{stage_id}"] = markup.STAGE_DONE_NOTE
    total = progress.total
    values["roadmap-progress"] = markup.progress_bar(total, "roadmap", data.roadmap.pk, data.roadmap.title)
    values["filter"] = markup.roadmap_filter(request.path, total.left, data.roadmap.pk, only_left=only_left)
    return values


def _stage_values(
    request: HttpRequest, stage: Ref, rows: tuple[ControlRow, ...], states: dict[int, TopicState]
) -> dict[str, SafeString | str]:
    """The stage page's slots for this learner (no query)."""
    progress = overlay([(stage.pk, [row.pk for row in rows])], states)
    values: dict[str, SafeString | str] = {}
    next_path = request.get_full_path()
    for row in rows:
        status = progress.statuses[row.pk]
        values[f"card:{row.pk}"] = _ROW[status]
        values[f"badge:{row.pk}"] = _BADGE[status]
        values[f"controls:{row.pk}"] = markup.progress_controls(
            topic_id=row.pk,
            number=row.number,
            title=row.title,
            action=markup.progress_action(row.progress_url, next_path, row.pk),
            status=status,
        )
        if changed_since_done(states.get(row.pk), row.content_updated_at):
            values[f"updated:{row.pk}"] = markup.UPDATED_MARK
    values["stage-progress"] = markup.progress_bar(progress.stages[stage.pk], "stage", stage.pk, stage.title)
    return values


def _topic_values(request: HttpRequest, data: TopicData, record: TopicRecord) -> dict[str, SafeString | str]:
    """The topic page's slots for this learner (no query)."""
    status = record.status
    number = f"{data.stage.number}.{data.topic.number}"
    action = markup.progress_action(data.progress_url, request.get_full_path(), data.topic.pk)
    values = {
        "card": _ROW[status],
        "badge": _BADGE[status],
        "record": markup.record_dates(record),
        "controls": markup.progress_controls(
            topic_id=data.topic.pk, number=number, title=data.topic.title, action=action, status=status
        ),
        "note-saved": markup.note_saved(record),
        "note": escape(record.note),
    }
    if changed_since_done(record.state, data.content_updated_at):
        values["updated"] = markup.UPDATED_MARK
    return values
