"""The tick-off form's POST, answered before the middleware stack in one statement (PostgreSQL).

Ticking topics off is what learners do most, and through the whole stack a
tick cost two round trips (the session with its user, then the change) and
about as much Python again in the middleware, URL routing and view around
them. ``CachedPageMiddleware`` hands a POST with a session cookie to
``tick_response`` first, which answers what the full stack would answer,
with one statement:

- the URL is resolved as for the full stack, and only ``progress_update``'s
  form POST is taken (not the script's JSON, which asks for the learner's new
  percentages too);
- CSRF: ``CsrfViewMiddleware``'s own ``process_request`` and
  ``process_view``; the status checked against what the view's form
  accepts (``services.STATUS_VALUES``, asserted equal in the tests);
- the session: the row and its user as this process last read them, checked
  as ``auth.get_user()`` checks them (``sessions.signed_in_learner``), and
  then made sure of by the write itself: ``services.progress_set_signed_in``
  changes nothing unless the database still holds exactly those rows and
  the curriculum version the topic was found in. When it does not (logged
  out, a new password, the curriculum changed), the rows are read afresh
  once and the change tried again; if that fails too, or for anything else
  out of the ordinary (staff, pending messages, an unknown session, an
  invalid form or token), the full stack answers, with nothing written;
- the answer: the view's redirect and message (in the messages cookie, as
  the ``FallbackStorage`` puts it), with the headers the skipped middlewares
  add.

The rows kept here are never trusted on their own, so they need no
invalidation: an outdated one costs one statement that changes nothing.
On SQLite (no data-modifying CTEs), or with sessions, users and progress in
different databases, every tick goes down the full stack.
"""

from functools import lru_cache

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import Resolver404, get_script_prefix, get_urlconf, resolve, reverse
from django.utils import timezone

from accounts import backends, services, sessions, views
from accounts.models import Progress, User
from roadmap import selectors as roadmap_selectors
from roadmap import version_feed
from roadmap.caching import private_headers

MAX_ROWS = sessions.MAX_COPIES  # sessions whose rows are kept per process (about 1 KB each)


class _CsrfCheck(CsrfViewMiddleware):
    """``CsrfViewMiddleware``'s checks; a refusal is left to the full stack, which answers and logs it once."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return HttpResponseForbidden()


_CSRF = _CsrfCheck(lambda request: HttpResponse())


# Session key -> the session's and its user's rows as this process last read and verified them.
last_read = sessions.KnownSessions(limit=MAX_ROWS)


def tick_response(request: HttpRequest) -> HttpResponse | None:
    """The full stack's answer to a learner's tick-off form POST, or None to let the full stack answer."""
    if settings.CSRF_USE_SESSIONS or CookieStorage.cookie_name in request.COOKIES or views._wants_json(request):
        return None
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    user_id = sessions.known.get(session_key)
    if user_id is None:
        return None
    kwargs = _progress_kwargs(request.path_info, get_urlconf(settings.ROOT_URLCONF))
    if kwargs is None:
        return None
    alias = router.db_for_write(Progress)
    if (
        connections[alias].vendor != "postgresql"
        or router.db_for_write(Session) != alias
        or router.db_for_write(User) != alias
    ):
        return None
    request.get_host()  # DisallowedHost (a 400), as CommonMiddleware would raise it
    _CSRF.process_request(request)
    if _CSRF.process_view(request, views.progress_update, (), kwargs) is not None:
        return None  # the full stack refuses it
    # What ProgressForm accepts (its ChoiceField takes the last value, as is), without
    # building a form: that cost a tenth of the tick. Anything else: the form's 400.
    status = request.POST.get("status")
    if status not in services.STATUS_VALUES:
        return None
    done = _tick(request, alias, session_key, user_id, kwargs, status)
    if done is None:
        return None
    rows, topic = done
    request.user = rows.user  # for the request's log line, as AuthenticationMiddleware would give it
    message = f"{roadmap_selectors.topic_number(topic)} {topic.title}: {views.STATUS_MESSAGES[status]}."
    fallback = _topic_url(get_script_prefix(), topic.stage.roadmap.slug, topic.stage.slug, topic.slug)
    response = HttpResponseRedirect(views.safe_next(request, fallback=fallback))
    # MessageMiddleware's FallbackStorage keeps a message this short in its cookie.
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, message)
    storage.update(response)
    response["Content-Length"] = "0"  # as CommonMiddleware sets it
    return private_headers(response)


@lru_cache(maxsize=1024)
def _progress_kwargs(path: str, urlconf: str) -> dict[str, str] | None:
    """The slugs in a tick-off URL, or None for any other path (resolved once per path)."""
    if not path.endswith("/progress/"):
        return None  # not even worth resolving
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    return match.kwargs if match.func is views.progress_update else None


@lru_cache(maxsize=1024)
def _topic_url(prefix: str, roadmap: str, stage: str, topic: str) -> str:
    """``Topic.get_absolute_url()``, reversed once per topic."""
    return reverse("roadmap:topic_detail", kwargs={"roadmap": roadmap, "stage": stage, "topic": topic})


def _tick(
    request: HttpRequest, alias: str, session_key: str, user_id: int, kwargs: dict, status: str
) -> tuple[sessions.LearnerCopy, object] | None:
    """Make the change for the signed-in learner: (their rows, the topic), or None with nothing written."""
    rows = last_read.get(session_key)
    for fresh in (rows is None, True):
        if fresh:
            found = backends.session_and_user(alias, Session._meta.db_table, session_key, user_id, timezone.now())
            if found is None or found[1] is None:
                return None
            rows = sessions.LearnerCopy(*found)
        if rows.expire_date > timezone.now() and sessions.signed_in_learner(rows.session_data, rows.user, user_id):
            version = version_feed.feed.current() or rows.user.content_version
            if version is None:
                return None
            try:
                topic = roadmap_selectors.topic_get_numbered(
                    user=rows.user,
                    version=version,
                    roadmap_slug=kwargs["roadmap"],
                    stage_slug=kwargs["stage"],
                    topic_slug=kwargs["topic"],
                )
            except Http404:
                return None  # the full stack's 404 page
            if services.progress_set_signed_in(
                alias,
                session_key=session_key,
                session_data=rows.session_data,
                user=rows.user,
                content_version=version,
                topic=topic,
                status=status,
            ):
                last_read.learn(session_key, rows)
                return rows, topic
        if fresh:
            return None
    return None
