"""The shared part of a page, rendered once per version, with slots filled for each request.

A fragment template marks what differs between viewers with ``{% slot "name" %}``
(``{% load pagecache %}``); ``{% csrf_token %}`` in it becomes the ``csrf`` slot.
``fragment()`` renders the template on a cache miss and stores the HTML split at
its slots, together with whatever plain data the caller needs to fill them
(topic ids, timestamps), so a warm request neither queries the curriculum nor
renders a template: ``Fragment.fill()`` is one ``str.join``.

Slot markers carry a random nonce per rendering, so text from the database can
never pose as a slot.
"""

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from pagecache.keys import TIMEOUT

CSRF_SLOT = "csrf"
# The context variable the {% slot %} tag reads its nonce from.
NONCE_VARIABLE = "pagecache_nonce"
_OPEN, _CLOSE = "\ue000", "\ue001"  # Unicode private-use characters


def slot(nonce: str, name: str) -> str:
    """The marker that ``{% slot name %}`` writes into a fragment being rendered."""
    return f"{_OPEN}{nonce}:{name}{_CLOSE}"


@dataclass(frozen=True, slots=True)
class Fragment:
    """Rendered HTML split at its slots (``parts[1::2]`` are slot names), and the data it was rendered with."""

    parts: tuple[str, ...]
    data: Any = None

    def fill(self, request: HttpRequest, values: Mapping[str, str]) -> SafeString:
        """The HTML with each slot replaced by ``values[name]`` ("" when absent), and this request's CSRF token.

        Values are inserted as they are: build them with ``format_html``.
        """
        parts = list(self.parts)
        names = parts[1::2]
        if CSRF_SLOT in names:
            # {% csrf_token %} wrote the slot as its input's value.
            values = {**values, CSRF_SLOT: get_token(request)}
        parts[1::2] = [values.get(name, "") for name in names]
        return mark_safe("".join(parts))


def fragment(
    key: str | None,
    template_name: str,
    build: Callable[[Callable[[str], str]], tuple[dict, Any]],
    *,
    request: HttpRequest | None = None,
) -> Fragment:
    """The fragment stored under ``key`` (which must carry the content's version), rendered on a miss.

    ``build(slot)`` returns the template's context and the data to store with the
    HTML; it runs only on a miss, so it is where the queries go. ``slot(name)``
    is the marker of a slot, for values the template does not write itself (a
    form field's initial value). With no key (no version known) the fragment is
    rendered and not stored. With ``request``, the template is rendered with the
    context processors (a whole page in the site's layout): whatever it shows of
    that request's viewer must be a slot (``{% personal %}``), and ``key`` must
    name whatever else of the request it depends on (path, theme).
    """
    stored = cache.get(key) if key is not None else None
    if stored is not None:
        return Fragment(*stored)
    nonce = secrets.token_hex(8)
    context, data = build(partial(slot, nonce))
    context = {**context, NONCE_VARIABLE: nonce, "csrf_token": slot(nonce, CSRF_SLOT)}
    html = render_to_string(template_name, context, request=request)
    parts = tuple(re.split(f"{_OPEN}{nonce}:([^{_CLOSE}]*){_CLOSE}", html))
    if key is not None:
        cache.set(key, (parts, data), TIMEOUT)
    return Fragment(parts, data)
