"""Liveness and readiness probes, answered before anything else runs.

``/healthz``: the process is up and serving (no database, no cache): for
Docker's HEALTHCHECK and a supervisor's liveness probe.

``/readyz``: the database and the cache answer: for a load balancer deciding
whether to route to this instance. 503 with a JSON reason when not.

The middleware sits after SecurityMiddleware (which exempts these paths from
the HTTPS redirect) and before CommonMiddleware, so probes work with the
instance's own address as Host and never touch sessions.
"""

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    # django-redis swallows errors on get/set (IGNORE_EXCEPTIONS), so ask Redis directly.
    client = getattr(cache, "client", None)
    if client is not None and hasattr(client, "get_client"):
        client.get_client(write=True).ping()
        return
    cache.set("readyz", "ok", 5)
    if cache.get("readyz") != "ok":
        raise RuntimeError("the cache did not return what was stored")


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "cache": check_cache}


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", with the reason logged
            logger.error("Readiness check %r failed: %s: %s", name, type(error).__name__, error)
            # The public answer names the failing part, not hosts or credentials.
            results[name] = f"unavailable ({type(error).__name__})"
        else:
            results[name] = "ok"
    ready = all(result == "ok" for result in results.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": results}, status=200 if ready else 503)


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = JsonResponse({"status": "error", "error": "Use GET or HEAD."}, status=405)
            response["Allow"] = "GET, HEAD"
        else:
            response = probe()
        add_never_cache_headers(response)
        return response
