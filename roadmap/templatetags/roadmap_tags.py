import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_INLINE_CODE = re.compile(r"`([^`\n]+)`")

KIND_BADGE_CLASSES = {
    "docs": "text-bg-primary",
    "article": "text-bg-secondary",
    "book": "text-bg-success",
    "course": "text-bg-info",
    "video": "text-bg-danger",
    "practice": "text-bg-warning",
    "community": "text-bg-dark",
}


@register.filter
def inline_code(text: str) -> SafeString:
    """Escape ``text`` and show the seeds' `backticked` names as <code>."""
    return mark_safe(_INLINE_CODE.sub(r"<code>\1</code>", escape(text)))  # escaped first


@register.filter
def kind_badge_class(kind: str) -> str:
    return KIND_BADGE_CLASSES.get(kind, "text-bg-secondary")
