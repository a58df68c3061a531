"""PostgreSQL backend: Django's, with health checks that skip a connection proven moments ago.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query
of every request that reuses a persistent connection: a whole round trip on
pages that otherwise make one or two. A connection that served a request
without a database error less than ``HEALTH_CHECK_GRACE`` seconds ago is
taken as healthy instead. Under load every request is such a case; after an
idle spell, and after any database error, the check runs as before. The cost:
a database restarted within that second can fail one request per worker, the
same one the check would otherwise have caught, and the connection is then
replaced at the end of that request (Django checks it after an error).
"""

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_GRACE = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proven_at = float("-inf")

    def close_if_health_check_failed(self) -> None:
        if self.connection is not None and time.monotonic() - self.proven_at < HEALTH_CHECK_GRACE:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as a request starts and ends: a connection that was used (its check done)
        # without errors since the last call has just proven itself.
        proven = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if proven and self.connection is not None:
            self.proven_at = time.monotonic()

    def close(self) -> None:
        super().close()
        self.proven_at = float("-inf")
