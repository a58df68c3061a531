"""Session engine: Django's ``cached_db``, with a logged-in learner's session and user read in one query.

Every logged-in request reads the session (a cache round trip) and then the
user row with the content version (a database round trip,
``accounts/backends.py``). A session key's user never changes: logging in
always gives the session a new key, and logging out deletes it. So once this
process has seen which user a session key belongs to, the next load reads the
session's row and that user's row together, from the database, in one query,
and hands the user to ``UserBackend.get_user()``, which Django's
``auth.get_user()`` calls next with the same checks as ever (backend, session
hash, active user).

The database is the sessions' record (``cached_db`` writes it first), so this
is at least as current as the cached copy. Anything unexpected (a session
missing or expired, its data naming another user, a database other than the
users') falls back to ``cached_db``'s own load.
"""

import threading
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.db import router
from django.utils import timezone

from accounts import backends

MAX_KNOWN = 20_000  # session keys remembered per process (then forgotten all at once, and learnt again)


class KnownSessions:
    """Session key -> user id, as this process has seen them loaded."""

    def __init__(self, limit: int = MAX_KNOWN) -> None:
        self.limit = limit
        self._users: dict[str, int] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> int | None:
        return self._users.get(key)

    def learn(self, key: str, user_id: int) -> None:
        with self._lock:
            if len(self._users) >= self.limit:
                self._users.clear()
            self._users[key] = user_id

    def forget(self, key: str) -> None:
        self._users.pop(key, None)

    def clear(self) -> None:
        self._users.clear()


known = KnownSessions()


# A session row and its user that roadmap.caching.learner_page read in this request and
# could not use: the full stack's load() takes them instead of reading them again.
# CachedPageMiddleware resets it around every request.
preloaded: ContextVar = ContextVar("preloaded_session", default=None)


class SessionStore(cached_db.SessionStore):
    def load(self):
        backends.prefetch(None)
        key = self.session_key
        user_id = known.get(key) if key else None
        if user_id is not None:
            found = preloaded.get()
            preloaded.set(None)
            if found is None or found[0] != key:
                found = self._read_with_user(key, user_id)
            data = self._data_with_user(found[1:], user_id) if found else None
            if data is not None:
                return data
            known.forget(key)
        data = super().load()
        if self.session_key and SESSION_KEY in data:
            user_id = user_id_of(data)
            if user_id is not None:
                known.learn(self.session_key, user_id)
        return data

    def _read_with_user(self, key: str, user_id: int) -> tuple | None:
        """(key, session data, user), or None when the session is missing or expired, in one query."""
        found = read_with_user(key, user_id)
        return (key, *found) if found else None

    def _data_with_user(self, found: tuple, user_id: int) -> dict | None:
        session_data, user = found
        data = self.decode(session_data)
        if user_id_of(data) != user_id:
            return None
        backends.prefetch(user)
        return data

    def delete(self, session_key=None):
        known.forget(session_key or self.session_key or "")
        super().delete(session_key)


def read_with_user(key: str, user_id: int) -> tuple[str, object] | None:
    """The session's encoded data and its user (None if gone), or None; None too if they live apart."""
    model = SessionStore.get_model_class()
    alias = router.db_for_read(model)
    if alias != router.db_for_read(backends.User):
        return None
    return backends.session_and_user(alias, model._meta.db_table, key, user_id, timezone.now())


def user_id_of(data: dict) -> int | None:
    """The user id a session's data names, as Django reads it; None if it names none."""
    try:
        return backends.User._meta.pk.to_python(data[SESSION_KEY])
    except Exception:  # noqa: BLE001 - a malformed id: not ours to judge, auth.get_user() will
        return None
