"""``{% slot "name" [part ...] %}``: a per-viewer hole in a fragment (``pagecache.fragments``);
``{% personal "name" value %}``: ``value`` on an ordinary page, the slot ``name`` in a fragment.

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


@register.simple_tag(takes_context=True)
def personal(context: template.Context, name: str, value: object) -> object:
    """``value`` (escaped) on a page rendered per request; in a fragment, the slot ``name``.

    For a template shared by both, such as the site's layout: whoever fills the
    fragment gives the slot the same value, computed for its own request.
    """
    nonce = context.get(NONCE_VARIABLE)
    if nonce is None:
        return value  # simple_tag escapes it
    return mark_safe(marker(nonce, name))
