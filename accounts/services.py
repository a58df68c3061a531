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
    requests: the row is locked (PostgreSQL), and when two requests create the
    record at once the unique constraint fails the loser's transaction, which
    then runs again and updates the winner's row.
    """
    if status not in STATUS_VALUES:
        raise InvalidStatus(f"Unknown status {status!r}; expected one of {', '.join(sorted(STATUS_VALUES))}.")
    try:
        return _progress_set(user=user, topic=topic, status=status)
    except IntegrityError:
        # Rolled back whole (no savepoint on the common path): the record exists now.
        return _progress_set(user=user, topic=topic, status=status)


def _progress_set(*, user: User, topic: Topic, status: str) -> Progress | None:
    with transaction.atomic():
        progress = Progress.objects.select_for_update().filter(user=user, topic=topic).first()
        if progress is None:
            if status == NOT_STARTED:
                return None  # nothing to reset
            progress = Progress(user=user, topic=topic)
            _apply_status(progress, status, timezone.now())
            _event(progress, status)
            progress.save(force_insert=True)
            return progress
        if progress.status == status:
            return progress  # already in that status
        # Timestamps are taken while holding the row lock, so they follow the order of the changes.
        now = timezone.now()
        if status == NOT_STARTED:
            ProgressEvent.objects.create(user=user, topic=topic, status=status, created_at=now)
            progress.delete()
            return None
        _apply_status(progress, status, now)
        _event(progress, status)
        progress.save(update_fields=["status", "started_at", "completed_at", "updated_at"])
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


def note_set(*, user: User, topic: Topic, text: str) -> Note | None:
    """Save ``user``'s note on ``topic``; blank text deletes it. Returns the note or ``None``."""
    text = text.strip()
    if len(text) > NOTE_MAX_LENGTH:
        raise ValueError(f"A note can be at most {NOTE_MAX_LENGTH:,} characters.")
    if "\x00" in text:
        # PostgreSQL refuses it (SQLite would store it); the note form never sends one.
        raise ValueError("A note cannot contain NUL characters.")
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
