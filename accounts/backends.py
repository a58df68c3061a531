"""Authentication backend: Django's ModelBackend with a cheaper per-request user lookup."""

from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

from roadmap.models import ContentVersion
from roadmap_site.db import prepared_cursor

User = get_user_model()


class UserBackend(ModelBackend):
    """Loads the logged-in user with the curriculum's content version, in one raw query.

    AuthenticationMiddleware asks for the user on nearly every logged-in
    request, and cached pages need the content version too
    (``roadmap/caching.py``): one query instead of two. The query is built
    once per database and the row becomes a user through ``Model.from_db``
    with the fields' own converters (what the ORM does, without compiling the
    query each time: that took longer than the database took to answer).
    Everything else (passwords, permissions, inactive users) is ModelBackend's.

    When the session store has just read the user with the session
    (``accounts/sessions.py``), that row is used instead of a second query.
    """

    def get_user(self, user_id):
        alias = router.db_for_read(User)
        try:
            pk = User._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a malformed id in a session is no user, as in ModelBackend
            return None
        prefetched = _prefetched.get()
        if prefetched is not None:
            _prefetched.set(None)
            if prefetched.pk == pk and prefetched._state.db == alias:
                return prefetched if self.user_can_authenticate(prefetched) else None
        query = _user_query(alias)
        if pk is None or not query.low <= pk <= query.high:
            return None  # the column cannot hold it: no such user (ModelBackend's answer too)
        with prepared_cursor(connections[alias]) as cursor:
            cursor.execute(query.sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        user = _user_from_row(alias, query, row)
        return user if self.user_can_authenticate(user) else None


# The user a session store loaded with the session (accounts/sessions.py), for the
# get_user() call that follows in the same request; each load() replaces it.
_prefetched: ContextVar = ContextVar("prefetched_user", default=None)


def prefetch(user) -> None:
    _prefetched.set(user)


def session_and_user(
    alias: str, session_table: str, session_key: str, user_id, now
) -> tuple[str, object, object] | None:
    """The session's encoded data, its user (with ``content_version``) and its expiry, in one query.

    None when the session is missing or expired; the user is None when the
    row is gone. Used by ``accounts.sessions.SessionStore`` for sessions whose
    user id it has seen before.
    """
    query = _user_query(alias)
    if not isinstance(user_id, int) or not query.low <= user_id <= query.high:
        return None
    with prepared_cursor(connections[alias]) as cursor:
        cursor.execute(_session_sql(alias, session_table), [user_id, session_key, now])
        row = cursor.fetchone()
    if row is None:
        return None
    *row, session_data, expire_date = row
    user = _user_from_row(alias, query, row) if row[query.pk_index] is not None else None
    return session_data, user, _expiry(alias, session_table, expire_date)


def _user_from_row(alias: str, query: "_UserQuery", row) -> User:
    *values, version = row
    connection = connections[alias]
    for index, converters, expression in query.converters:
        for converter in converters:
            values[index] = converter(values[index], expression, connection)
    user = User.from_db(alias, query.field_names, values)
    user.content_version = version
    return user


@dataclass(frozen=True)
class _UserQuery:
    sql: str
    field_names: list[str]
    converters: list[tuple[int, list, object]]  # (column, converters, expression), as SQLCompiler applies them
    low: float
    high: float
    columns: str  # the user's columns and the content version, as sql selects them
    pk_index: int


@cache
def _user_query(alias: str) -> _UserQuery:
    connection = connections[alias]
    quote = connection.ops.quote_name
    fields = User._meta.concrete_fields
    table = User._meta.db_table
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(table)
        found = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        if found:
            converters.append((index, found, expression))
    low, high = connection.ops.integer_field_range(User._meta.pk.get_internal_type())
    columns = (
        f"{', '.join(f'{quote(table)}.{quote(field.column)}' for field in fields)}, "
        f"(SELECT value FROM {quote(ContentVersion._meta.db_table)} WHERE id = 1)"
    )
    return _UserQuery(
        sql=f"SELECT {columns} FROM {quote(table)} WHERE {quote(User._meta.pk.column)} = %s",
        field_names=[field.attname for field in fields],
        converters=converters,
        low=float("-inf") if low is None else low,
        high=float("inf") if high is None else high,
        columns=columns,
        pk_index=[field.attname for field in fields].index(User._meta.pk.attname),
    )


def _expiry(alias: str, session_table: str, value):
    """The session's ``expire_date`` as the ORM returns it (SQLite's driver returns text)."""
    converters, expression = _expiry_converters(alias, session_table)
    connection = connections[alias]
    for converter in converters:
        value = converter(value, expression, connection)
    return value


@cache
def _expiry_converters(alias: str, session_table: str) -> tuple[list, object]:
    from django.contrib.sessions.models import Session

    connection = connections[alias]
    expression = Session._meta.get_field("expire_date").get_col(session_table)
    return connection.ops.get_db_converters(expression) + expression.get_db_converters(connection), expression


@cache
def _session_sql(alias: str, session_table: str) -> str:
    """The user (LEFT JOINed: a session may outlive its user) with the session's data, by session key."""
    query = _user_query(alias)
    quote = connections[alias].ops.quote_name
    user_table, pk = quote(User._meta.db_table), quote(User._meta.pk.column)
    session = quote(session_table)
    return (
        f"SELECT {query.columns}, {session}.{quote('session_data')}, {session}.{quote('expire_date')} FROM {session} "
        f"LEFT JOIN {user_table} ON {user_table}.{pk} = %s "
        f"WHERE {session}.{quote('session_key')} = %s AND {session}.{quote('expire_date')} > %s"
    )
