"""Authentication backend: Django's ModelBackend with a cheaper per-request user lookup."""

from dataclasses import dataclass
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections, router

from roadmap.models import ContentVersion

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
    """

    def get_user(self, user_id):
        alias = router.db_for_read(User)
        try:
            pk = User._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a malformed id in a session is no user, as in ModelBackend
            return None
        query = _user_query(alias)
        if pk is None or not query.low <= pk <= query.high:
            return None  # the column cannot hold it: no such user (ModelBackend's answer too)
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(query.sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        *values, version = row
        for index, converters, expression in query.converters:
            for converter in converters:
                values[index] = converter(values[index], expression, connection)
        user = User.from_db(alias, query.field_names, values)
        user.content_version = version
        return user if self.user_can_authenticate(user) else None


@dataclass(frozen=True)
class _UserQuery:
    sql: str
    field_names: list[str]
    converters: list[tuple[int, list, object]]  # (column, converters, expression), as SQLCompiler applies them
    low: float
    high: float


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
    return _UserQuery(
        sql=(
            f"SELECT {', '.join(quote(field.column) for field in fields)}, "
            f"(SELECT value FROM {quote(ContentVersion._meta.db_table)} WHERE id = 1) "
            f"FROM {quote(table)} WHERE {quote(User._meta.pk.column)} = %s"
        ),
        field_names=[field.attname for field in fields],
        converters=converters,
        low=float("-inf") if low is None else low,
        high=float("inf") if high is None else high,
    )
