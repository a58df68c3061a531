"""Writes for learners: progress, notes and accounts. Views call these, never the ORM directly."""

from functools import cache

from django.contrib.sessions.models import Session
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone

from accounts.models import NOT_STARTED, NOTE_MAX_LENGTH, Note, Progress, ProgressEvent, Status, User
from accounts.signals import new_state_version
from roadmap.models import ContentVersion, Topic
from roadmap_site.db import prepared_cursor

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
    alias = router.db_for_write(Progress)
    if connections[alias].vendor == "postgresql":
        return _progress_set_postgresql(alias, user=user, topic=topic, status=status)
    try:
        return _progress_set(user=user, topic=topic, status=status)
    except IntegrityError:
        # Rolled back whole (no savepoint on the common path): the record exists now.
        return _progress_set(user=user, topic=topic, status=status)


def _progress_set(*, user: User, topic: Topic, status: str) -> Progress | None:
    # The activity event is written before the record: saving or deleting the record
    # gives the learner a new state version (accounts/signals.py), an UPDATE of their
    # user row, and that row stays locked until the commit, so it should come last.
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


# PostgreSQL: the same change as _progress_set() in one statement, so one round trip
# (data-modifying CTEs; atomic on its own, in autocommit). The record is upserted or
# deleted first (its row locked), the event and the learner's new state version only
# if it changed. Timestamps are read from the clock once the row is locked, so they
# follow the order of the changes, as in _progress_set(). The status is cast: its
# parameter is typed once for the whole (prepared) statement.
#
# {signed_in} and {if_signed_in} are empty, or (progress_set_signed_in) a condition on
# the learner's session that the change waits for: the statement then changes nothing
# unless it holds, in the same snapshot as the change.
_SET_SQL = """
WITH {signed_in}changed AS (
    INSERT INTO {progress} AS p (user_id, topic_id, status, started_at, completed_at, updated_at)
    SELECT %(user)s, %(topic)s, %(status)s::varchar,
           CASE WHEN %(status)s::varchar IN ('in_progress', 'done') THEN now.at END,
           CASE WHEN %(status)s::varchar = 'done' THEN now.at END,
           now.at
    FROM (SELECT clock_timestamp() AS at) AS now
    WHERE {if_signed_in}
    ON CONFLICT (user_id, topic_id) DO UPDATE SET (status, updated_at, started_at, completed_at) = (
        SELECT EXCLUDED.status, now.at,
               CASE WHEN EXCLUDED.status = 'skipped' THEN p.started_at ELSE COALESCE(p.started_at, now.at) END,
               CASE WHEN EXCLUDED.status = 'done' THEN now.at END
        FROM (SELECT clock_timestamp() AS at) AS now
    )
    WHERE p.status <> EXCLUDED.status
    RETURNING p.id, p.status, p.started_at, p.completed_at, p.updated_at
), event AS (
    INSERT INTO {event} (user_id, topic_id, status, created_at)
    SELECT %(user)s, %(topic)s, status, updated_at FROM changed
), bump AS (
    UPDATE {user} SET state_version = %(version)s WHERE id = %(user)s AND EXISTS (SELECT 1 FROM changed)
)
{result}
"""
_RESET_SQL = """
WITH {signed_in}changed AS (
    DELETE FROM {progress} WHERE user_id = %(user)s AND topic_id = %(topic)s AND {if_signed_in} RETURNING id
), event AS (
    INSERT INTO {event} (user_id, topic_id, status, created_at)
    SELECT %(user)s, %(topic)s, %(status)s::varchar, clock_timestamp() FROM changed
), bump AS (
    UPDATE {user} SET state_version = %(version)s WHERE id = %(user)s AND EXISTS (SELECT 1 FROM changed)
)
{result}
"""
# The session as the caller verified it (accounts.sessions.signed_in_learner) is still
# the database's: same data, unexpired, for this user with the same password hash,
# active and not staff, and the curriculum at the version the topic was looked up in.
_SIGNED_IN = """signed_in AS (
    SELECT 1 FROM {session} AS s JOIN {user} AS u ON u.id = %(user)s
    WHERE s.session_key = %(session_key)s AND s.session_data = %(session_data)s AND s.expire_date > %(now)s
      AND u.password = %(password)s AND u.is_active AND NOT u.is_staff
      AND (SELECT value FROM {content} WHERE id = 1) = %(content_version)s
), """
_SET_RESULT = "SELECT id, status, started_at, completed_at, updated_at FROM changed"
_RESET_RESULT = "SELECT id FROM changed"
_SIGNED_IN_RESULT = "SELECT EXISTS (SELECT 1 FROM signed_in)"


@cache
def _statement(alias: str, template: str, *, signed_in: bool = False) -> str:
    """A statement above with this database's quoted table names (built once, not per tick)."""
    quote = connections[alias].ops.quote_name
    names = {
        "progress": quote(Progress._meta.db_table),
        "event": quote(ProgressEvent._meta.db_table),
        "user": quote(User._meta.db_table),
        "session": quote(Session._meta.db_table),
        "content": quote(ContentVersion._meta.db_table),
    }
    if signed_in:
        return template.format(
            signed_in=_SIGNED_IN.format(**names),
            if_signed_in="EXISTS (SELECT 1 FROM signed_in)",
            result=_SIGNED_IN_RESULT,
            **names,
        )
    result = _RESET_RESULT if template is _RESET_SQL else _SET_RESULT
    return template.format(signed_in="", if_signed_in="true", result=result, **names)


def _progress_set_postgresql(alias: str, *, user: User, topic: Topic, status: str) -> Progress | None:
    params = {"user": user.pk, "topic": topic.pk, "status": status, "version": new_state_version()}
    with prepared_cursor(connections[alias]) as cursor:
        cursor.execute(_statement(alias, _RESET_SQL if status == NOT_STARTED else _SET_SQL), params)
        row = cursor.fetchone()
    if status == NOT_STARTED:
        return None
    if row is None:  # already in that status: nothing changed
        return Progress.objects.using(alias).filter(user=user, topic=topic).first()
    fields = ["id", "user_id", "topic_id", "status", "started_at", "completed_at", "updated_at"]
    progress = Progress.from_db(alias, fields, [row[0], user.pk, topic.pk, *row[1:]])
    progress.user, progress.topic = user, topic  # the caller's instances, as the ORM path keeps them
    return progress


def progress_set_signed_in(
    alias: str, *, session_key: str, session_data: str, user: User, content_version: str, topic: Topic, status: str
) -> bool:
    """``progress_set()`` for the learner of a session, on PostgreSQL, in one statement; whether it ran.

    The caller read ``session_data`` and ``user`` (with ``content_version``,
    the curriculum's version it found ``topic`` in) and found them a signed-in
    learner (``accounts.sessions.signed_in_learner``). The change is made only
    if the database still holds exactly that, in the same statement: False
    means nothing was written (logged out, password changed, session expired
    or renewed, curriculum changed), and the caller must look again.
    """
    if status not in STATUS_VALUES:
        raise InvalidStatus(f"Unknown status {status!r}; expected one of {', '.join(sorted(STATUS_VALUES))}.")
    params = {
        "user": user.pk,
        "topic": topic.pk,
        "status": status,
        "version": new_state_version(),
        "session_key": session_key,
        "session_data": session_data,
        "now": timezone.now(),
        "password": user.password,
        "content_version": content_version,
    }
    with prepared_cursor(connections[alias]) as cursor:
        cursor.execute(_statement(alias, _RESET_SQL if status == NOT_STARTED else _SET_SQL, signed_in=True), params)
        return cursor.fetchone()[0]


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
