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

from django.db.models import Count, F
from django.http import Http404

from accounts.models import NOT_STARTED, Note, Progress, ProgressEvent, Status, User
from roadmap.models import Roadmap, Stage, Topic
from roadmap.progress import FINISHED, ProgressSummary, changed_since_done
from roadmap.selectors import numbered


def _overlay(topic: Topic, record: Progress | None) -> None:
    topic.record = record
    topic.status = record.status if record else NOT_STARTED
    topic.changed_since_done = changed_since_done(record, topic.content_updated_at)


def _outline_overlay(roadmap: Roadmap, records: dict[int, Progress]) -> None:
    """The summaries of a roadmap with ``stage_list``/``topic_list``, from records by topic id (no query)."""
    statuses = []
    for stage in roadmap.stage_list:
        stage_statuses = []
        for topic in stage.topic_list:
            _overlay(topic, records.get(topic.pk))
            if topic.record:
                stage_statuses.append(topic.record.status)
        stage.progress = ProgressSummary.from_statuses(len(stage.topic_list), stage_statuses)
        statuses += stage_statuses
    roadmap.progress = ProgressSummary.from_statuses(roadmap.topic_count, statuses)


def note_get(*, user: User, topic: Topic) -> Note | None:
    return Note.objects.filter(user=user, topic=topic).first()


def summaries_for_topic(*, user: User, topic: Topic) -> dict[str, ProgressSummary]:
    """The roadmap's and the stage's summaries after a change on ``topic`` (2 queries)."""
    stage, roadmap_id = topic.stage, topic.stage.roadmap_id
    totals = Topic.objects.published().filter(stage__roadmap_id=roadmap_id).values("stage_id").annotate(n=Count("id"))
    totals = {row["stage_id"]: row["n"] for row in totals}
    rows = Progress.objects.filter(
        user=user, topic__stage__roadmap_id=roadmap_id, topic__is_published=True
    ).values_list("topic__stage_id", "status")
    rows = list(rows)
    return {
        f"roadmap-{roadmap_id}": ProgressSummary.from_statuses(sum(totals.values()), (s for _, s in rows)),
        f"stage-{stage.pk}": ProgressSummary.from_statuses(
            totals.get(stage.pk, 0), (s for stage_id, s in rows if stage_id == stage.pk)
        ),
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


@dataclass
class TopicRef:
    """A topic as the dashboard lists it: numbered, titled and linked."""

    id: int
    number: str
    title: str
    url: str
    roadmap_title: str


@dataclass
class RoadmapProgress:
    """A started roadmap (with ``progress`` and numbered ``stage_list``) and where to continue."""

    roadmap: Roadmap
    next_topic: TopicRef | None


@dataclass
class Dashboard:
    roadmaps: list[RoadmapProgress]
    recent: list[tuple[ProgressEvent, TopicRef]]
    in_progress: list[tuple[Progress, TopicRef]]
    notes: list[tuple[Note, TopicRef]]


def _reading_order(roadmaps: list[Roadmap]) -> None:
    """Give each roadmap ``stage_list``/``topic_list``/``topic_count``, numbered as on its page (2 queries)."""
    by_id = {roadmap.pk: roadmap for roadmap in roadmaps}
    for roadmap in roadmaps:
        roadmap.stage_list = []
    stages = {}
    for stage in Stage.objects.filter(roadmap__in=roadmaps):  # in position order
        stage.roadmap = by_id[stage.roadmap_id]
        stage.topic_list = []
        stage.roadmap.stage_list.append(stage)
        stages[stage.pk] = stage
    topics = (
        Topic.objects.published()
        .filter(stage_id__in=list(stages))
        .only("id", "stage_id", "position", "slug", "title", "content_updated_at")
    )
    for topic in topics:
        topic.stage = stages[topic.stage_id]
        topic.stage.topic_list.append(topic)
    for roadmap in roadmaps:
        for stage in numbered(roadmap.stage_list):
            numbered(stage.topic_list)
        roadmap.topic_count = sum(len(stage.topic_list) for stage in roadmap.stage_list)


def _ref(topic: Topic) -> TopicRef:
    stage, roadmap = topic.stage, topic.stage.roadmap
    return TopicRef(
        id=topic.pk,
        number=f"{stage.number}.{topic.number}",
        title=topic.title,
        url=topic.get_absolute_url(),
        roadmap_title=roadmap.title,
    )


def dashboard(*, user: User) -> Dashboard:
    """Everything the dashboard shows, in 6 queries whatever the amount of progress."""
    records = list(Progress.objects.filter(user=user).order_by("-updated_at"))
    recent = list(ProgressEvent.objects.filter(user=user).order_by("-created_at", "-id")[:10])
    notes = list(Note.objects.filter(user=user).order_by("-updated_at"))
    touched = {r.topic_id for r in records} | {e.topic_id for e in recent} | {n.topic_id for n in notes}
    roadmaps = list(
        Roadmap.objects.visible_to(user).filter(stages__topics__in=touched).distinct().order_by("position", "title")
    )
    _reading_order(roadmaps)
    records_by_topic = {r.topic_id: r for r in records}
    refs, started = {}, []
    for roadmap in roadmaps:
        _outline_overlay(roadmap, records_by_topic)
        topics = [topic for stage in roadmap.stage_list for topic in stage.topic_list]
        refs.update((topic.pk, _ref(topic)) for topic in topics)
        if roadmap.progress.is_started:
            unfinished = (t for t in topics if t.status not in FINISHED)
            next_topic = next(unfinished, None)
            started.append(RoadmapProgress(roadmap=roadmap, next_topic=next_topic and refs[next_topic.pk]))

    return Dashboard(
        roadmaps=started,
        recent=[(event, refs[event.topic_id]) for event in recent if event.topic_id in refs],
        in_progress=[(r, refs[r.topic_id]) for r in records if r.status == Status.IN_PROGRESS and r.topic_id in refs],
        notes=[(note, refs[note.topic_id]) for note in notes if note.topic_id in refs],
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
