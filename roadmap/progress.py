"""The one seam through which curriculum pages show a learner's progress.

The curriculum app stores nothing about learners and imports nothing from the
app that does (``make lint`` checks it). Its pages ask the object named by
``settings.ROADMAP_LEARNER_PROGRESS`` (``accounts.progress.LearnerProgress``)
for what they overlay on the shared curriculum, through the methods of
``LearnerProgress`` below. The statuses' vocabulary and ``ProgressSummary``,
the only place a percentage is computed, live here, so every page shows the
same figure.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.forms import Form
from django.utils.module_loading import import_string

DONE, IN_PROGRESS, SKIPPED, NOT_STARTED = "done", "in_progress", "skipped", "not_started"
FINISHED = frozenset({DONE, SKIPPED})


@dataclass(frozen=True, slots=True)
class TopicState:
    """A learner's record on one topic, as the pages show it."""

    status: str
    completed_at: datetime | None = None


@dataclass(frozen=True)
class ProgressSummary:
    """Counts over some topics: percent = (done + skipped) / topics, rounded down, so 100 % means every topic is
    finished and a finished roadmap is never "99 %"."""

    total: int
    done: int = 0
    in_progress: int = 0
    skipped: int = 0

    @classmethod
    def from_statuses(cls, total: int, statuses: Iterable[str]) -> "ProgressSummary":
        counts = Counter(statuses)
        return cls(total=total, done=counts[DONE], in_progress=counts[IN_PROGRESS], skipped=counts[SKIPPED])

    @property
    def finished(self) -> int:
        return self.done + self.skipped

    @property
    def left(self) -> int:
        return self.total - self.finished

    @property
    def percent(self) -> int:
        return self.finished * 100 // self.total if self.total else 0

    @property
    def is_complete(self) -> bool:
        return self.total > 0 and self.finished == self.total

    @property
    def is_started(self) -> bool:
        return bool(self.done or self.in_progress or self.skipped)

    @property
    def label(self) -> str:
        parts = [f"{self.done} of {self.total} done"]
        if self.in_progress:
            parts.append(f"{self.in_progress} in progress")
        if self.skipped:
            parts.append(f"{self.skipped} skipped")
        return " · ".join(parts)

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "done": self.done,
            "in_progress": self.in_progress,
            "skipped": self.skipped,
            "finished": self.finished,
            "left": self.left,
            "is_complete": self.is_complete,
            "percent": self.percent,
            "label": self.label,
        }


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """A learner's record and note on one topic; the times are None where there is nothing."""

    status: str = NOT_STARTED
    started_at: datetime | None = None
    completed_at: datetime | None = None
    updated_at: datetime | None = None
    note: str = ""
    note_updated_at: datetime | None = None

    @property
    def state(self) -> TopicState | None:
        return None if self.updated_at is None else TopicState(self.status, self.completed_at)


class LearnerProgress(Protocol):
    """What the curriculum pages ask of the learners' app; each method makes at most the queries it states."""

    def topic_states(
        self, *, user, roadmap_id: int | None = None, stage_id: int | None = None, topic_ids: list[int] | None = None
    ) -> dict[int, TopicState]:
        """The learner's states on published topics (of a roadmap, a stage or a list), by topic id (1 query)."""

    def roadmap_summaries(self, *, user, roadmaps: list) -> dict[int, ProgressSummary]:
        """Summaries for roadmaps annotated with ``topic_count`` (1 query)."""

    def topic_record(self, *, user, topic_id: int) -> "TopicRecord":
        """What the topic page shows of the learner's record and note on one topic (2 queries)."""

    def note_form(self, *, text: str = "") -> Form:
        """An unbound note form showing ``text`` (no query)."""


@dataclass(frozen=True)
class Overlay:
    """A learner's progress laid over a roadmap or stage: each topic's status, each stage's summary, the total."""

    statuses: dict[int, str]
    stages: dict[int, ProgressSummary]
    total: ProgressSummary


def overlay(stages: Iterable[tuple[int, Iterable[int]]], states: Mapping[int, TopicState]) -> Overlay:
    """The overlay of ``states`` on ``(stage id, topic ids)`` in page order (no query)."""
    statuses: dict[int, str] = {}
    summaries: dict[int, ProgressSummary] = {}
    for stage_id, topic_ids in stages:
        stage_statuses = [states[topic_id].status if topic_id in states else NOT_STARTED for topic_id in topic_ids]
        statuses.update(zip(topic_ids, stage_statuses, strict=True))
        summaries[stage_id] = ProgressSummary.from_statuses(len(stage_statuses), stage_statuses)
    return Overlay(statuses, summaries, ProgressSummary.from_statuses(len(statuses), statuses.values()))


@cache
def learner_progress() -> LearnerProgress:
    return import_string(settings.ROADMAP_LEARNER_PROGRESS)()


def changed_since_done(state: TopicState | None, content_updated_at: datetime | None) -> bool:
    """ "Updated since you completed it": the description or resources changed after completion."""
    return bool(
        state
        and state.status == DONE
        and state.completed_at
        and content_updated_at
        and content_updated_at > state.completed_at
    )
