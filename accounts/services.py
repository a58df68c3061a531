"""Writes for learners: progress, notes and accounts. Views call these, never the ORM directly."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import NOT_STARTED, NOTE_MAX_LENGTH, Note, Progress, ProgressEvent, Status, User
from roadmap.models import Topic

STATUS_VALUES = frozenset([*Status.values, NOT_STARTED])


class InvalidStatus(ValueError):
    """Raised for a status that is not one of ``STATUS_VALUES``."""


def progress_set(*, user: User, topic: Topic, status: str) -> Progress | None:
    """Set ``user``'s status on ``topic``; return the record, or ``None`` for "not started".

    Idempotent: setting the current status again changes nothing (not even the
    "last changed" time) and records no activity. Safe under concurrent
    requests: the row is locked (PostgreSQL) and the unique constraint turns a
    lost creation race into an update of the winner's row.
    """
    if status not in STATUS_VALUES:
        raise InvalidStatus(f"Unknown status {status!r}; expected one of {', '.join(sorted(STATUS_VALUES))}.")
    with transaction.atomic():
        progress = Progress.objects.select_for_update().filter(user=user, topic=topic).first()
        if progress is None and status != NOT_STARTED:
            progress, created = _progress_create(user=user, topic=topic, status=status)
            if created:
                _event(progress, status)
                return progress
        if progress is None or progress.status == status:
            return progress  # nothing to change: no record to reset, or already in that status
        # Timestamps are taken while holding the row lock, so they follow the order of the changes.
        now = timezone.now()
        if status == NOT_STARTED:
            progress.delete()
            ProgressEvent.objects.create(user=user, topic=topic, status=status, created_at=now)
            return None
        _apply_status(progress, status, now)
        progress.save(update_fields=["status", "started_at", "completed_at", "updated_at"])
        _event(progress, status)
        return progress


def _event(progress: Progress, status: str) -> None:
    ProgressEvent.objects.create(
        user_id=progress.user_id, topic_id=progress.topic_id, status=status, created_at=progress.updated_at
    )


def _apply_status(progress: Progress, status: str, now) -> None:
    progress.status = status
    progress.updated_at = now
    if status == Status.IN_PROGRESS:
        progress.started_at = progress.started_at or now
        progress.completed_at = None
    elif status == Status.DONE:
        progress.started_at = progress.started_at or now
        progress.completed_at = now
    else:  # skipped: neither started nor completed by the learner
        progress.completed_at = None


def _progress_create(*, user: User, topic: Topic, status: str) -> tuple[Progress, bool]:
    """Insert the record; if a concurrent request inserted it first, return that row, locked."""
    progress = Progress(user=user, topic=topic)
    _apply_status(progress, status, timezone.now())
    try:
        with transaction.atomic():  # a savepoint, so the outer transaction survives the IntegrityError
            progress.save(force_insert=True)
    except IntegrityError:
        return Progress.objects.select_for_update().get(user=user, topic=topic), False
    return progress, True


def note_set(*, user: User, topic: Topic, text: str) -> Note | None:
    """Save ``user``'s note on ``topic``; blank text deletes it. Returns the note or ``None``."""
    text = text.strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValueError(f"A note can be at most {NOTE_MAX_LENGTH:,} characters.")
    if not text:
        Note.objects.filter(user=user, topic=topic).delete()
        return None
    note, _ = Note.objects.update_or_create(user=user, topic=topic, defaults={"text": text})
    return note


def user_delete(*, user: User) -> None:
    """Delete the account with its progress, activity and notes (cascades), avatar file included."""
    avatar = user.avatar.name if user.avatar else None
    storage = user.avatar.storage if user.avatar else None
    with transaction.atomic():
        user.delete()
        if avatar:
            transaction.on_commit(lambda: storage.delete(avatar))
