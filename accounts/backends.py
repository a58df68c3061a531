"""Authentication backend: Django's ModelBackend with a cheaper per-request user lookup."""

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
    (``roadmap/caching.py``): one query instead of two, and raw SQL because
    compiling the ORM query took longer than the database took to answer it.
    Everything else (passwords, permissions, inactive users) is ModelBackend's.
    """

    def get_user(self, user_id):
        alias = router.db_for_read(User)
        try:
            pk = User._meta.pk.to_python(user_id)
        except Exception:  # noqa: BLE001 - a malformed id in a session is no user, as in ModelBackend
            return None
        low, high = connections[alias].ops.integer_field_range(User._meta.pk.get_internal_type())
        if pk is None or (low is not None and pk < low) or (high is not None and pk > high):
            return None  # the column cannot hold it: no such user (ModelBackend's answer too)
        users = list(User._default_manager.db_manager(alias).raw(_user_query(alias), [pk]))
        if not users or not self.user_can_authenticate(users[0]):
            return None
        return users[0]


@cache
def _user_query(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    columns = ", ".join(quote(field.column) for field in User._meta.concrete_fields)
    return (
        f"SELECT {columns}, "
        f"(SELECT value FROM {quote(ContentVersion._meta.db_table)} WHERE id = 1) AS content_version "
        f"FROM {quote(User._meta.db_table)} WHERE {quote(User._meta.pk.column)} = %s"
    )
