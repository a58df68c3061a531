"""The learners' side of the seam the curriculum pages read progress through (``roadmap.progress``).

``settings.ROADMAP_LEARNER_PROGRESS`` names ``LearnerProgress``; each method
makes the queries ``roadmap.progress.LearnerProgress`` promises.
"""

from django.http import HttpRequest

from accounts import selectors
from accounts.forms import NoteForm
from accounts.models import Progress, User
from roadmap.models import Roadmap, Topic
from roadmap.progress import NOT_STARTED, ProgressSummary, TopicState, changed_since_done


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

    def topic_context(self, request: HttpRequest, *, topic: Topic, note_form: NoteForm | None = None) -> dict:
        record = Progress.objects.filter(user=request.user, topic=topic).first()
        note = selectors.note_get(user=request.user, topic=topic)
        state = TopicState(record.status, record.completed_at) if record else None
        return {
            "record": record,
            "status": record.status if record else NOT_STARTED,
            "changed_since_done": changed_since_done(state, topic.content_updated_at),
            "note": note,
            "note_form": note_form or NoteForm(initial={"text": note.text if note else ""}),
        }
