"""Reads of learners' progress, each with a fixed number of queries.

``roadmap.progress.ProgressSummary`` is the only place a percentage is
computed, so every page shows the same figure. Progress rows always point at
existing topics (``on_delete=PROTECT``), so the totals cannot drift from the
curriculum. Topics and totals are the published topics only: progress on an
unpublished topic is kept but counts nowhere until the topic is published again.
"""

from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.db.models import Count, F
from django.http import Http404

from accounts.models import Note, Progress, ProgressEvent, Status, User
from roadmap.models import Roadmap, Topic
from roadmap.progress import FINISHED, ProgressSummary, TopicState, overlay
from roadmap.selectors import ReadingOrder, StageEntry, TopicEntry, reading_orders


def summaries_for_topic(*, user: User, topic: Topic, order: ReadingOrder) -> dict[str, ProgressSummary]:
    """The summaries of the roadmap (read in ``order``) and of the stage of ``topic`` after a change (1 query)."""
    states = {
        topic_id: TopicState(status)
        for topic_id, status in Progress.objects.filter(
            user=user, topic__stage__roadmap_id=order.pk, topic__is_published=True
        ).values_list("topic_id", "status")
    }
    progress = overlay(((stage.pk, [entry.pk for entry in stage.topics]) for stage in order.stages), states)
    return {
        f"roadmap-{order.pk}": progress.total,
        f"stage-{topic.stage_id}": progress.stages[topic.stage_id],
    }


def roadmap_summaries(*, user: User, roadmaps: list[Roadmap]) -> dict[int, ProgressSummary]:
    """Per-roadmap summaries for roadmaps annotated ``with_counts()`` (1 query)."""
    if not user.is_authenticated:
        return {}
    counts: dict[int, list[str]] = defaultdict(list)
    rows = (
        Progress.objects.filter(user=user, topic__stage__roadmap__in=roadmaps, topic__is_published=True)
        .values("status", roadmap_id=F("topic__stage__roadmap_id"))
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["roadmap_id"]] += [row["status"]] * row["n"]
    return {roadmap.pk: ProgressSummary.from_statuses(roadmap.topic_count, counts[roadmap.pk]) for roadmap in roadmaps}


# The dashboard ---------------------------------------------------------------


@dataclass(frozen=True)
class RoadmapProgress:
    """A started roadmap: its summary, each stage with its summary, and the first unfinished topic."""

    roadmap: ReadingOrder
    progress: ProgressSummary
    stages: list[tuple[StageEntry, ProgressSummary]]
    next_topic: TopicEntry | None


@dataclass(frozen=True)
class Dashboard:
    """The learner's started roadmaps; and (record, topic, roadmap) for recent activity, topics in progress, notes."""

    roadmaps: list[RoadmapProgress]
    recent: list[tuple[ProgressEvent, TopicEntry, ReadingOrder]]
    in_progress: list[tuple[Any, TopicEntry, ReadingOrder]]  # a row with started_at
    notes: list[tuple[Note, TopicEntry, ReadingOrder]]


def dashboard(*, user: User, version: str | None) -> Dashboard:
    """Everything the dashboard shows, in 3 queries whatever the amount of progress.

    The roadmaps' reading order (numbers, titles, links) is the curriculum's,
    shared by every learner and cached per content ``version``
    (``roadmap.selectors.reading_orders``); only the learner's rows are queried.
    """
    in_roadmap = F("topic__stage__roadmap_id")
    # Plain rows, not models: a learner may have hundreds of records.
    records = list(
        Progress.objects.filter(user=user)
        .annotate(roadmap_id=in_roadmap)
        .order_by("-updated_at")
        .values_list("topic_id", "status", "started_at", "completed_at", "roadmap_id", named=True)
    )
    recent = list(
        ProgressEvent.objects.filter(user=user).annotate(roadmap_id=in_roadmap).order_by("-created_at", "-id")[:10]
    )
    notes = list(Note.objects.filter(user=user).annotate(roadmap_id=in_roadmap).order_by("-updated_at"))
    touched = {row.roadmap_id for rows in (records, recent, notes) for row in rows}
    orders = sorted(
        (order for order in reading_orders(touched, version=version).values() if order.is_visible_to(user)),
        key=lambda order: (order.position, order.title),
    )
    states = {r.topic_id: TopicState(r.status, r.completed_at) for r in records}
    entries: dict[int, tuple[TopicEntry, ReadingOrder]] = {}
    started = []
    for order in orders:
        entries.update((topic.pk, (topic, order)) for _, topic in order.topics())
        progress = overlay(((stage.pk, [topic.pk for topic in stage.topics]) for stage in order.stages), states)
        if progress.total.is_started:
            unfinished = (topic for _, topic in order.topics() if progress.statuses[topic.pk] not in FINISHED)
            started.append(
                RoadmapProgress(
                    roadmap=order,
                    progress=progress.total,
                    stages=[(stage, progress.stages[stage.pk]) for stage in order.stages],
                    next_topic=next(unfinished, None),
                )
            )

    def listed(rows):  # rows on topics still published in a roadmap the learner may see
        return [(row, *entries[row.topic_id]) for row in rows if row.topic_id in entries]

    return Dashboard(
        roadmaps=started,
        recent=listed(recent),
        in_progress=listed(r for r in records if r.status == Status.IN_PROGRESS),
        notes=listed(notes),
    )


def public_profile(*, username: str) -> tuple[User, list[tuple[Roadmap, ProgressSummary]]]:
    """A learner who opted in, with their progress per published roadmap (2 queries); else 404."""
    user = User.objects.filter(username=username, is_active=True, is_profile_public=True).first()
    if user is None:
        raise Http404("No such profile.")
    roadmaps = list(Roadmap.objects.published().with_counts())
    summaries = roadmap_summaries(user=user, roadmaps=roadmaps)
    return user, [(r, summaries[r.pk]) for r in roadmaps if summaries[r.pk].is_started]


# Export ------------------------------------------------------------------------

EXPORT_FIELDS = [
    "roadmap",
    "stage",
    "topic",
    "topic_title",
    "status",
    "started_at",
    "completed_at",
    "updated_at",
    "note",
    "note_updated_at",
]


def _iso(value) -> str:
    return value.isoformat() if value else ""


def export_rows(*, user: User) -> list[dict]:
    """All of a learner's progress and notes, one row per topic, keyed by slugs (2 queries).

    Slugs (roadmap/stage/topic) are the curriculum's natural keys: they survive
    reloads and exist on any installation, so an export can be matched again.
    """
    rows: dict[int, dict] = {}

    def row_for(topic: Topic) -> dict:
        if topic.pk not in rows:
            rows[topic.pk] = dict.fromkeys(EXPORT_FIELDS, "") | {
                "roadmap": topic.stage.roadmap.slug,
                "stage": topic.stage.slug,
                "topic": topic.slug,
                "topic_title": topic.title,
                "status": "not_started",
                "_order": (
                    *(topic.stage.roadmap.position, topic.stage.roadmap.slug),
                    *(topic.stage.position, topic.stage.slug, topic.position, topic.slug),
                ),
            }
        return rows[topic.pk]

    for progress in Progress.objects.filter(user=user).select_related("topic__stage__roadmap"):
        row_for(progress.topic).update(
            status=progress.status,
            started_at=_iso(progress.started_at),
            completed_at=_iso(progress.completed_at),
            updated_at=_iso(progress.updated_at),
        )
    for note in Note.objects.filter(user=user).select_related("topic__stage__roadmap"):
        row_for(note.topic).update(note=note.text, note_updated_at=_iso(note.updated_at))
    ordered = sorted(rows.values(), key=itemgetter("_order"))
    for row in ordered:
        del row["_order"]
    return ordered
