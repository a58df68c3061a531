"""The learners' side of the seam the curriculum pages read progress through (``roadmap.progress``).

``settings.ROADMAP_LEARNER_PROGRESS`` names ``LearnerProgress``; each method
makes the queries ``roadmap.progress.LearnerProgress`` promises.
"""

from accounts import selectors
from accounts.forms import NoteForm
from accounts.models import Note, Progress, User
from roadmap.models import Roadmap
from roadmap.progress import NOT_STARTED, ProgressSummary, TopicRecord, TopicState


class LearnerProgress:
    def topic_states(
        self,
        *,
        user: User,
        roadmap_id: int | None = None,
        stage_id: int | None = None,
        topic_ids: list[int] | None = None,
    ) -> dict[int, TopicState]:
        records = Progress.objects.filter(user=user, topic__is_published=True)
        if roadmap_id is not None:
            records = records.filter(topic__stage__roadmap_id=roadmap_id)
        if stage_id is not None:
            records = records.filter(topic__stage_id=stage_id)
        if topic_ids is not None:
            records = records.filter(topic_id__in=topic_ids)
        return {
            topic_id: TopicState(status, completed_at)
            for topic_id, status, completed_at in records.values_list("topic_id", "status", "completed_at")
        }

    def roadmap_summaries(self, *, user: User, roadmaps: list[Roadmap]) -> dict[int, ProgressSummary]:
        return selectors.roadmap_summaries(user=user, roadmaps=roadmaps)

    def topic_record(self, *, user: User, topic_id: int) -> TopicRecord:
        record = (
            Progress.objects.filter(user=user, topic_id=topic_id)
            .values_list("status", "started_at", "completed_at", "updated_at")
            .first()
        )
        note = Note.objects.filter(user=user, topic_id=topic_id).values_list("text", "updated_at").first()
        status, started_at, completed_at, updated_at = record or (NOT_STARTED, None, None, None)
        text, note_updated_at = note or ("", None)
        return TopicRecord(status, started_at, completed_at, updated_at, text, note_updated_at)

    def note_form(self, *, text: str = "") -> NoteForm:
        return NoteForm(initial={"text": text})
