"""Each process's copy of the content version, kept current by PostgreSQL's LISTEN/NOTIFY.

Anonymous page views are answered from the page cache before sessions and
URL routing run (``roadmap/caching.py``); asking the database for the content
version was the only round trip they still made, and it cost them about
40 % of their throughput. Here a thread per process holds a connection of its
own that LISTENs on ``CHANNEL``. Every content change sends a NOTIFY in the
transaction that changes the version (``roadmap.caching.content_changed``);
PostgreSQL delivers it when, and only when, that transaction commits, and
the thread then reads the committed value.

When is the copy trusted? Only while it is *confirmed*: read on a connection
that proved alive less than ``LEASE`` seconds ago. The thread re-reads the
value every ``RECHECK`` seconds even when nothing was notified, which also
catches changes made without a NOTIFY (a restored backup, SQL by hand). If the
connection breaks or hangs, the copy lapses within ``LEASE`` seconds at the
latest, and callers read the database per request again, as before, until
the thread has reconnected. So:

- normally, a change is seen by every process as soon as PostgreSQL has
  delivered its notification (well under a millisecond on one host or LAN),
  plus, for learners' changes only, ``BATCH`` (2 ms: the thread lets the
  notifications right behind a first one arrive, so that a stream of ticks
  wakes every process's thread a few times rather than once per tick, which
  cost a tick a tenth of its throughput), the same order of delay as a streaming read replica's, which
  anonymous page views may already use (``roadmap_site/routers.py``);
- whatever fails, the copy is never older than ``LEASE`` seconds;
- editors never use it, and learners only for a page that was stored for
  them, while their own copy stands: anything they change (a tick, a note,
  their profile) changes their user row, and so drops their copy in every
  process and makes a new page; a form that changes something answers with
  a message, which sends the next page down the full stack anyway.

The same connection LISTENs on ``LEARNERS_CHANNEL``, where triggers notify
every change to a user or session row, and keeps the process's copies of
learners' sessions and users (``accounts.sessions.learners``) by them: a
learner's cached page is then served with no query at all, under the same
lease (``roadmap.caching.learner_page``).

Only ``CachedPageMiddleware``'s lookups use these copies. A page
is always rendered and stored under the version read from the database it is
rendered from, so a copy that is ahead of a lagging replica, or behind the
primary for a moment, can only cause a cache miss, never store a page under
the wrong version.

Off on SQLite (its version read is in-process and costs microseconds), when
``settings.CONTENT_VERSION_FEED`` is false (behind a transaction-pooling
PgBouncer, which does not relay LISTEN), and in the test suite, whose
transactions never commit; dedicated tests turn it on.
"""

import logging
import os
import threading
import time

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

CHANNEL = "roadmap_content_version"
# Changes to user and session rows, NOTIFYed by triggers (accounts/migrations/0005): the
# payload names what changed, for accounts.sessions.learners (learners' pages, no query).
LEARNERS_CHANNEL = "roadmap_learners"
APPLICATION_NAME = "roadmap-version-feed"  # as pg_stat_activity shows the listening connections
RECHECK = 1.0  # seconds between reads of the value without a notification
BATCH = 0.002  # seconds a notification waits for those right behind it
LEASE = 2.0  # seconds a confirmed value stays trusted without a new confirmation
RETRY = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds before reconnecting, after 1, 2, 3... failures in a row


class VersionFeed:
    """The content version as last confirmed by this process's listening connection."""

    def __init__(self, alias: str = "default") -> None:
        self.alias = alias
        self._value: str | None = None
        self._confirmed_at = float("-inf")
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> str | None:
        """The confirmed version, or None when the caller must read the database (feed down or off)."""
        if self._pid != os.getpid():
            self._start()  # first use in this process (gunicorn forks workers after import)
            return None
        if time.monotonic() - self._confirmed_at >= LEASE:
            return None
        return self._value

    @staticmethod
    def enabled(alias: str = "default") -> bool:
        return bool(getattr(settings, "CONTENT_VERSION_FEED", False)) and connections[alias].vendor == "postgresql"

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._value, self._confirmed_at = None, float("-inf")
            if not self.enabled(self.alias):
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="content-version-feed", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (tests); the next ``current()`` starts it again."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._lock:
            self._thread, self._pid = None, None
            self._value, self._confirmed_at = None, float("-inf")

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self._listen()
                failures = 0
            except Exception:  # any failure: distrust the copies, log, reconnect
                self._confirmed_at = float("-inf")
                self._learners().clear()
                delay = RETRY[min(failures, len(RETRY) - 1)]
                failures += 1
                logger.warning("Content version feed lost its connection; retrying in %s s", delay, exc_info=True)
                self._stop.wait(delay)

    def _listen(self) -> None:
        import psycopg

        from roadmap.models import ContentVersion

        wrapper = connections[self.alias]
        params = wrapper.get_connection_params()
        params.pop("cursor_factory", None)
        params.setdefault("connect_timeout", 5)
        params.setdefault("application_name", APPLICATION_NAME)
        # A dead peer is noticed by the lease anyway; keepalives close the socket sooner.
        params.setdefault("keepalives", 1)
        params.setdefault("keepalives_idle", 5)
        params.setdefault("keepalives_interval", 2)
        params.setdefault("keepalives_count", 2)
        table = wrapper.ops.quote_name(ContentVersion._meta.db_table)
        learners = self._learners()
        with psycopg.connect(**params, autocommit=True) as connection:
            connection.execute("SET statement_timeout = 1000")
            connection.execute(f"LISTEN {CHANNEL}")
            connection.execute(f"LISTEN {LEARNERS_CHANNEL}")
            learners.clear()  # whatever changed while nobody listened

            def confirm() -> None:
                # LISTEN came first: a change committed after this read is notified, so nothing slips between.
                while True:
                    started = time.monotonic()
                    row = connection.execute(f"SELECT value FROM {table} WHERE id = 1").fetchone()
                    # What was notified before the answer is applied before the lease is renewed (after
                    # a hang, a whole backlog); a content change among it means reading again.
                    content_changed = False
                    for notification in connection.notifies(timeout=0):
                        if notification.channel == LEARNERS_CHANNEL:
                            learners.changed(notification.payload)
                        else:
                            content_changed = True
                    if not content_changed:
                        break
                self._value = row[0] if row else None
                self._confirmed_at = started  # the value was current at least as of when the read was sent

            confirm()
            while not self._stop.is_set():
                notifications = list(connection.notifies(timeout=RECHECK, stop_after=1))
                if notifications and all(notification.channel == LEARNERS_CHANNEL for notification in notifications):
                    # A stream of learners' changes (ticks) is taken in batches: each wake-up costs every
                    # process's thread more than the notifications it brings. A content change is not
                    # kept waiting: the next request anywhere must show it (the cluster smoke test).
                    time.sleep(BATCH)
                    notifications += connection.notifies(timeout=0)
                content_changed = False
                for notification in notifications:
                    if notification.channel == LEARNERS_CHANNEL:
                        learners.changed(notification.payload)
                    else:
                        content_changed = True
                if content_changed or time.monotonic() - self._confirmed_at >= RECHECK:
                    confirm()

    @staticmethod
    def _learners():
        from accounts.sessions import learners

        return learners


feed = VersionFeed()
