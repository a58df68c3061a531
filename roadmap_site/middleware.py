"""Request ids and one structured log line per request."""

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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
