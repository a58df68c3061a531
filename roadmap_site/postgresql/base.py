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

It also gives ``prepared_cursor()``, for the few statements nearly every
request runs (``roadmap_site/db.py``).
"""

import sys
import time

from django.conf import settings
from django.db.backends.postgresql import base, operations

HEALTH_CHECK_GRACE = 1.0  # seconds


class PreparedCursor(base.ServerBindingCursor):
    """Server-side binding, and every statement prepared: parsed and planned once per connection."""

    def execute(self, query, params=None, *, prepare=True, binary=None):
        return super().execute(query, params, prepare=prepare, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, PreparedCursor):
            # What Django logs for server-side binding: the statement with its values in.
            return self.compose_sql(sql, params)
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.proven_at = float("-inf")

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if connection.prepare_threshold is None:
            # Django turns psycopg's automatic preparing off (for connection poolers), which
            # also ignores prepare=True. Statements are still prepared only when asked:
            # Django's own cursors bind on the client side, which never prepares.
            connection.prepare_threshold = sys.maxsize
        return connection

    def prepared_cursor(self):
        """A cursor (wrapped as ``cursor()``'s, so queries are logged and counted) whose statements are prepared.

        PostgreSQL then skips parsing and planning them on every later run on
        this connection: about half its work for a one-row lookup. The
        statement's text must be the same each time (parameters, not values,
        in it). ``DATABASE_PREPARED_STATEMENTS = False`` (for a pooler in
        transaction mode that does not keep prepared statements) makes it a
        plain ``cursor()``.
        """
        if not settings.DATABASE_PREPARED_STATEMENTS:
            return self.cursor()
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(PreparedCursor(self.connection))

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
