"""``{% slot "name" [part ...] %}``: a per-viewer hole in a fragment (``pagecache.fragments``).

Registered as the ``pagecache`` template library in the ``TEMPLATES`` setting.
"""

from django import template
from django.utils.safestring import SafeString, mark_safe

from pagecache.fragments import NONCE_VARIABLE
from pagecache.fragments import slot as marker

register = template.Library()


@register.simple_tag(takes_context=True, name="slot")
def slot_tag(context: template.Context, name: str, *parts: object) -> SafeString:
    """The slot ``name:part:...``; outside a fragment rendering (no nonce), nothing."""
    nonce = context.get(NONCE_VARIABLE)
    if nonce is None:
        return mark_safe("")
    return mark_safe(marker(nonce, ":".join([name, *map(str, parts)])))
