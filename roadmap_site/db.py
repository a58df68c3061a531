"""Database helpers shared by the apps."""

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper


def prepared_cursor(connection: BaseDatabaseWrapper) -> CursorWrapper:
    """A cursor for a statement nearly every request runs: prepared where the backend can.

    On PostgreSQL (``roadmap_site.postgresql``) its statements are parsed and
    planned once per connection; elsewhere it is ``connection.cursor()``
    (Python's sqlite3 keeps its own cache of compiled statements).
    """
    prepared = getattr(connection, "prepared_cursor", None)
    return prepared() if prepared is not None else connection.cursor()
