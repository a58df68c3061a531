"""The client's address, as seen through the configured number of proxies."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """Return the address of whoever connected to the outermost trusted proxy.

    nginx appends the address it saw to ``X-Forwarded-For``; with
    ``TRUSTED_PROXY_COUNT = 1`` that last entry is the client. Entries further
    left were written by the client itself and are never trusted. Without
    proxies (development) the socket's ``REMOTE_ADDR`` is the client.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
