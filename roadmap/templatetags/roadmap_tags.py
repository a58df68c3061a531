import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from roadmap import markup

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


# Progress markup (roadmap/markup.py): one definition for templates and for fragments' slots.


@register.simple_tag(name="progress_bar")
def progress_bar_tag(summary, scope: str, id: int, name: str, owner: str = "") -> SafeString:
    return markup.progress_bar(summary, scope, id, name, owner)


@register.simple_tag(name="status_badge")
def status_badge_tag(status: str) -> SafeString:
    return markup.status_badge(status)


@register.simple_tag(name="updated_mark")
def updated_mark_tag() -> SafeString:
    return markup.UPDATED_MARK


@register.simple_tag(takes_context=True, name="progress_controls")
def progress_controls_tag(context, topic, stage_number: int, url: str, status: str) -> SafeString:
    """Done / in progress / skip / reset for ``topic``, returning to this page."""
    return markup.progress_controls(
        topic_id=topic.pk,
        number=f"{stage_number}.{topic.number}",
        title=topic.title,
        action=markup.progress_action(url, context["request"].get_full_path(), topic.pk),
        status=status,
    )
