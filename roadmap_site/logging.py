"""Request context for log records: which request, which user.

``RequestLogMiddleware`` puts the current request in a context variable (safe
with threads and async); ``RequestContextFilter`` copies its id and user id onto
every record logged while it is handled, so JSON lines can be joined up.
"""

import logging
import re
from contextvars import ContextVar

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)

# Password reset links carry a secret token in the path: never log it.
_SECRET_PATHS = re.compile(r"^(?P<prefix>/accounts/reset/[^/]+/)(?!set-password/)[^/]+/")


def loggable_path(path: str) -> str:
    return _SECRET_PATHS.sub(r"\g<prefix><token>/", path)


def user_id_of(request: HttpRequest | None, *, load: bool = False) -> int | None:
    """The logged-in user's id, or None. Without ``load``, never runs a query.

    Without ``load`` it is the id the session names, if the request has read
    its session already (every logged-in page does): a log line never costs a
    query, and a session whose user was since deactivated still says whose it was.
    """
    if load:
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None
    session = getattr(request, "session", None)
    if session is None or not session.accessed:
        return None
    user_id = session.get(SESSION_KEY)
    return int(user_id) if isinstance(user_id, str) and user_id.isdigit() else None


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs 4xx/5xx after the middleware has returned, but
        # hands over the request itself.
        request = current_request.get() or getattr(record, "request", None)
        if not isinstance(request, HttpRequest):
            request = None
        if not hasattr(record, "request_id"):
            record.request_id = getattr(request, "id", None)
        if not hasattr(record, "user_id"):
            record.user_id = user_id_of(request)
        return True
