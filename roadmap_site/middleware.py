"""Request ids and one structured log line per request; input no page of the site produces, refused early."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.admin.views.main import TO_FIELD_VAR
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from roadmap_site.logging import current_request, loggable_path, user_id_of

logger = logging.getLogger("roadmap_site.request")

# nginx passes its $request_id (32 hex digits); accept any short token-like id
# from the proxy, and make one up otherwise.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_QUIET_PATHS = ("/healthz", "/readyz")


class RequestLogMiddleware:
    """Give each request an id (``request.id``, ``X-Request-ID``) and log it once.

    The log line carries method, path (secrets redacted, no query string),
    status, duration in milliseconds, request id and user id. Health checks and
    static files are left to the access log.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request.id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = current_request.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.id
            if not request.path.startswith(_QUIET_PATHS) and not request.path.startswith(settings.STATIC_URL):
                self.log(request, response, started)
            return response
        finally:
            current_request.reset(token)

    @staticmethod
    def log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        path = loggable_path(request.path)
        level = logging.WARNING if response.status_code >= 500 else logging.INFO
        logger.log(
            level,
            "%s %s %s",
            request.method,
            path,
            response.status_code,
            extra={
                "method": request.method,
                "path": path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "request_id": request.id,
                "user_id": user_id_of(request, load=True),
            },
        )


class CrossOriginResourcePolicyMiddleware:
    """``Cross-Origin-Resource-Policy`` on every response (Django has no setting for it).

    ``same-origin``: no other site may embed our pages, images or scripts, which
    also keeps them out of reach of Spectre-style side channels.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", settings.SECURE_CROSS_ORIGIN_RESOURCE_POLICY)
        return response


NUL_REFUSED = "The address contains a NUL character (%00), which no page of this site uses. Nothing was changed."


class MalformedInputMiddleware:
    """Refuse (or ignore) input that no page of the site produces, before a view trips over it.

    * A NUL character in the path, or in the admin's query string, is a 400.
      PostgreSQL cannot hold one in text, so a lookup with it fails with a
      DataError (a 500): the public profile's username, the admin's search,
      filters and autocomplete. The site's own query parameters go through
      forms, which refuse NUL next to the field (``ProhibitNullCharactersValidator``,
      as the search box shows); URL parts and the admin's parameters have no
      form in front of them.
    * An empty ``_to_field`` in the admin is a 400: Django's change and delete
      views take "" for a field name and raise FieldDoesNotExist.
    * A session cookie with a NUL character (a quoted cookie may spell it
      ``\\000``) is no session, rather than a lookup that fails the same way
      on every page.

    Sits before the page cache and sessions; its 400 page is rendered for an
    anonymous visitor, as Django's own 400 pages are.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.admin_prefix = f"/{settings.ADMIN_URL}"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""):
            del request.COOKIES[settings.SESSION_COOKIE_NAME]
        message = self.refusal(request)
        if message:
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> str:
        if "\x00" in request.path_info:
            return NUL_REFUSED
        if request.path_info.startswith(self.admin_prefix):
            query = request.GET
            if any("\x00" in key or any("\x00" in value for value in values) for key, values in query.lists()):
                return NUL_REFUSED
            data = request.POST if request.method == "POST" else query
            if data.get(TO_FIELD_VAR, query.get(TO_FIELD_VAR)) == "":
                return "The address names an object by an empty field (_to_field=). Nothing was changed."
        return ""
