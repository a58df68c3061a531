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

import hashlib
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.messages.storage.session import SessionStorage
from django.contrib.sessions.backends import cached_db
from django.db import router
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts import backends

MAX_KNOWN = 20_000  # session keys remembered per process (then forgotten all at once, and learnt again)
# Copies of sessions with their users kept per process (about 1 KB each, so a few MB at most).
MAX_COPIES = 4_096
_USER_BACKEND = "accounts.backends.UserBackend"


class KnownSessions:
    """Session key -> what this process has learnt of it (``known``: its user id), bounded."""

    def __init__(self, limit: int = MAX_KNOWN) -> None:
        self.limit = limit
        self._users: dict[str, object] = {}
        self._lock = threading.Lock()

    def get(self, key: str):
        return self._users.get(key)

    def learn(self, key: str, value: object) -> None:
        with self._lock:
            if len(self._users) >= self.limit:
                self._users.clear()  # forget them all, and learn them again
            self._users[key] = value

    def forget(self, key: str) -> None:
        self._users.pop(key, None)

    def clear(self) -> None:
        self._users.clear()


known = KnownSessions()


@dataclass(frozen=True, slots=True)
class LearnerCopy:
    """A session row and its user's row as read together (``read_with_user``)."""

    session_data: str
    user: object
    expire_date: object


class LearnerCopies:
    """This process's copies of learners' sessions and users, each dropped when PostgreSQL notifies its change.

    On PostgreSQL, triggers NOTIFY every change to a user row or a session
    row, at the commit of the transaction that makes it (migration
    ``accounts/0005``); the process's listening thread
    (``roadmap/version_feed.py``) calls ``changed()``, or ``clear()`` when it
    (re)connects or loses its connection. ``roadmap.caching.learner_page``
    uses a copy only while that thread's lease is current, so a copy is
    never older than the notifications the thread has been delivered.

    A read from the database is kept (``put``) only if no change was notified
    between just before the read and the keeping (``epoch``): a change
    committed after the read is then always notified after the copy is in
    place, and drops it.
    """

    def __init__(self, limit: int = MAX_COPIES) -> None:
        self.limit = limit
        self.epoch = 0
        self._copies: dict[str, LearnerCopy] = {}  # by the session key's SHA-256, as notified
        self._sessions_of: dict[object, set[str]] = {}  # user pk -> those hashes
        self._lock = threading.Lock()

    @staticmethod
    def digest(session_key: str) -> str:
        return hashlib.sha256(session_key.encode()).hexdigest()

    def get(self, session_key: str) -> LearnerCopy | None:
        return self._copies.get(self.digest(session_key))

    def put(self, session_key: str, copy: LearnerCopy, epoch: int) -> None:
        digest = self.digest(session_key)
        with self._lock:
            if epoch != self.epoch:
                return  # something changed meanwhile: this read may be older than it
            if len(self._copies) >= self.limit:
                self._clear()
            self._copies[digest] = copy
            self._sessions_of.setdefault(str(copy.user.pk), set()).add(digest)

    def changed(self, payload: str) -> None:
        """A notification: ``user:<pk>``, ``session:<sha256 of the key>``, or ``*`` (everything)."""
        kind, _, name = payload.partition(":")
        with self._lock:
            self.epoch += 1
            if kind == "user":
                for digest in self._sessions_of.pop(name, ()):
                    self._copies.pop(digest, None)
            elif kind == "session":
                copy = self._copies.pop(name, None)
                if copy is not None:
                    self._sessions_of.get(str(copy.user.pk), set()).discard(name)
            else:
                self._clear()

    def forget(self, session_key: str) -> None:
        self.changed(f"session:{self.digest(session_key)}")

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self._clear()

    def _clear(self) -> None:
        self._copies.clear()
        self._sessions_of.clear()

    def __len__(self) -> int:
        return len(self._copies)


learners = LearnerCopies()


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
        session_data, user, _ = found
        data = self.decode(session_data)
        if user_id_of(data) != user_id:
            return None
        backends.prefetch(user)
        return data

    def delete(self, session_key=None):
        key = session_key or self.session_key or ""
        known.forget(key)
        learners.forget(key)
        super().delete(session_key)


def read_with_user(key: str, user_id: int) -> tuple[str, object, object] | None:
    """The session's encoded data, its user (None if gone) and expiry, or None; None too if they live apart."""
    alias = read_alias()
    if alias is None:
        return None
    table = SessionStore.get_model_class()._meta.db_table
    return backends.session_and_user(alias, table, key, user_id, timezone.now())


def read_alias() -> str | None:
    """The database ``read_with_user`` reads sessions and users from; None if they live apart."""
    alias = router.db_for_read(SessionStore.get_model_class())
    return alias if alias == router.db_for_read(backends.User) else None


def user_id_of(data: dict) -> int | None:
    """The user id a session's data names, as Django reads it; None if it names none."""
    try:
        return backends.User._meta.pk.to_python(data[SESSION_KEY])
    except Exception:  # noqa: BLE001 - a malformed id: not ours to judge, auth.get_user() will
        return None


def signed_in_learner(session_data: str, user, user_id: int) -> bool:
    """Whether this session row, with this user row, is a logged-in learner as ``auth.get_user()`` would find.

    Every check Django's ``get_user()`` and ``UserBackend`` make: the data's
    signature, the user id and backend it names, the session hash against the
    user's password hash, an active user. Staff are never learners here (they
    see drafts), nor is a session holding messages. The answer depends only on
    the two rows and the settings, so it is remembered per row.
    """
    data = _decoded_session(session_data, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    session_hash = data.get(HASH_SESSION_KEY)
    return bool(
        user_id_of(data) == user_id == user.pk
        and data.get(BACKEND_SESSION_KEY) == _USER_BACKEND
        and _USER_BACKEND in settings.AUTHENTICATION_BACKENDS
        and session_hash
        and constant_time_compare(session_hash, _session_auth_hash(type(user), user.password, settings.SECRET_KEY))
        and user.is_active
        and not user.is_staff
        and SessionStorage.session_key not in data
    )


@lru_cache(maxsize=4096)
def _session_auth_hash(user_class: type, password: str, secret_key: str) -> str:
    """``user.get_session_auth_hash()``: an HMAC of the password hash (under this secret key), once per password."""
    return user_class(password=password).get_session_auth_hash()


@lru_cache(maxsize=4096)
def _decoded_session(session_data: str, secret_key: str, fallbacks: tuple[str, ...]) -> MappingProxyType:
    """A session's data as its store decodes it under these keys (signature checked); read-only, as it is shared."""
    return MappingProxyType(SessionStore().decode(session_data))
