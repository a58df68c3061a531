"""The small pieces of progress markup, built in Python so that one definition serves two callers.

Templates use them as tags (``{% progress_bar %}``, ``{% status_badge %}``, ...
in ``roadmap_tags``); the pages that fill a cached fragment's slots per request
(``roadmap/views.py``) call them directly, without rendering a template.
``static/js/progress.js`` updates them in place: keep its ``data-`` hooks.
"""

from datetime import datetime
from urllib.parse import quote

from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime

from roadmap.progress import DONE, IN_PROGRESS, NOT_STARTED, SKIPPED, ProgressSummary, TopicRecord

STATUSES = (DONE, IN_PROGRESS, SKIPPED, NOT_STARTED)
_BADGES = {
    DONE: ("✓", "Done"),
    IN_PROGRESS: ("◐", "In progress"),
    SKIPPED: ("↷", "Skipped"),
    NOT_STARTED: ("○", "Not started"),
}
# Done / in progress / skip / reset: (status, button class, icon, label).
_CONTROLS = (
    (DONE, "btn-outline-success", "✓", "Done"),
    (IN_PROGRESS, "btn-outline-primary", "◐", "In progress"),
    (SKIPPED, "btn-outline-secondary", "↷", "Skip"),
    (NOT_STARTED, "btn-outline-secondary", "↺", "Reset"),
)
UPDATED_MARK = mark_safe(
    '<span class="updated-mark badge rounded-pill text-bg-light border" title="The description or resources changed'
    ' after you completed this topic"><span aria-hidden="true">✎</span> Updated since you completed it</span>'
)

# Under a stage card whose topics "Only what's left" has all hidden.
STAGE_DONE_NOTE = mark_safe(
    '<li class="stage-done-note"><span aria-hidden="true">✓</span> Every topic of this stage is finished.</li>'
)


def progress_action(url: str, next_path: str, topic_id: int) -> str:
    """A progress button's ``formaction``: the progress URL, returning to ``next_path`` at the topic's row."""
    return f"{url}?next={quote(next_path, safe='/')}%23t{topic_id}"


def status_badge(status: str) -> SafeString:
    """A topic's status as icon and text (never colour alone)."""
    icon, label = _BADGES.get(status, _BADGES[NOT_STARTED])
    return format_html(
        '<span class="status-badge status-{}" data-status-badge><span aria-hidden="true">{}</span> {}</span>',
        status,
        icon,
        label,
    )


def progress_bar(summary: ProgressSummary, scope: str, id: int, name: str, owner: str = "") -> SafeString:
    """A progress bar with visible text; ``scope`` is "roadmap" or "stage".

    Built with an f-string and ``escape`` on the text alone: a roadmap page
    has one per stage, and ``format_html`` escaping every number cost a third
    of a warm learner page (docs/performance.md).
    """
    whose = escape(f"{owner}'s progress" if owner else "Your progress")
    name, label, percent = escape(name), escape(summary.label), int(summary.percent)
    return mark_safe(  # every text above is escaped, the rest are numbers
        f'<div class="progress-block" data-progress="{escape(scope)}-{int(id)}">\n'
        f'  <div class="progress" role="progressbar" aria-label="{whose} in {name}" aria-valuenow="{percent}"'
        f' aria-valuemin="0" aria-valuemax="100" aria-valuetext="{percent}% · {label}">\n'
        f'    <div class="progress-bar bg-success pct-{percent}"></div>\n'
        "  </div>\n"
        f'  <p class="progress-text small mb-0"><strong class="progress-percent">{percent}%</strong> · '
        f'<span class="progress-label">{label}</span></p>\n'
        "</div>"
    )


def progress_controls(*, topic_id: int, number: str, title: str, action: str, status: str) -> SafeString:
    """Done / in progress / skip / reset buttons for one topic, submitting the page's ``progress-form``.

    ``action`` is the progress URL with its ``next``; ``number`` is "4.2".
    """
    buttons = format_html_join(
        "\n",
        '  <button type="submit" form="progress-form" formaction="{}" name="status" value="{}" class="btn {}{}"'
        '{} aria-label="{}: {} {}"><span aria-hidden="true">{}</span> {}</button>',
        (
            (
                action,
                value,
                css,
                " active" if value == status and value != NOT_STARTED else "",
                "" if value == NOT_STARTED else format_html(' aria-pressed="{}"', str(value == status).lower()),
                label,
                number,
                title,
                icon,
                label,
            )
            for value, css, icon, label in _CONTROLS
        ),
    )
    return format_html(
        '<div class="progress-controls btn-group btn-group-sm flex-wrap" role="group" aria-label="Progress on {} {}"'
        ' data-topic="{}">\n{}\n</div>',
        number,
        title,
        topic_id,
        buttons,
    )


def tick_state(status: str) -> SafeString:
    """The roadmap page's checkbox attributes for a topic: what a press sets, and whether it is checked."""
    if status == DONE:
        return mark_safe('value="not_started" aria-checked="true"')
    return mark_safe('value="done" aria-checked="false"')


def toc_count(summary: ProgressSummary, stage_id: int) -> SafeString:
    """A stage's count in the roadmap page's table of contents ("3/5 finished", or a tick when complete)."""
    if summary.is_complete:
        return mark_safe(
            f' <span class="toc-count is-complete" data-progress-count="stage-{int(stage_id)}">'
            '<span aria-hidden="true">✓</span><span class="visually-hidden">, finished</span></span>'
        )
    return mark_safe(
        f' <span class="toc-count" data-progress-count="stage-{int(stage_id)}">{int(summary.finished)}/'
        f'{int(summary.total)}<span class="visually-hidden"> finished</span></span>'
    )


def roadmap_filter(path: str, left: int, roadmap_id: int, *, only_left: bool) -> SafeString:
    """The roadmap page's "All topics / Only what's left" switch, with the number of topics left."""
    current = ' aria-current="page"'
    return format_html(
        '<nav class="roadmap-filter d-flex flex-wrap align-items-center gap-2 mb-3" aria-label="Filter topics">\n'
        '  <span class="text-body-secondary small" aria-hidden="true">Show</span>\n'
        '  <div class="btn-group btn-group-sm">\n'
        '    <a class="btn btn-outline-secondary{}" href="{}"{}>All topics</a>\n'
        '    <a class="btn btn-outline-secondary{}" href="{}?show=left"{}>Only what\'s left <span class="badge'
        ' text-bg-secondary rounded-pill" data-progress-left="roadmap-{}">{}<span class="visually-hidden">'
        " topics</span></span></a>\n"
        "  </div>\n"
        "</nav>",
        "" if only_left else " active",
        path,
        mark_safe("" if only_left else current),
        " active" if only_left else "",
        path,
        mark_safe(current if only_left else ""),
        roadmap_id,
        left,
    )


def _date(value: datetime, fmt: str) -> str:
    """``value|date:fmt`` as a template writes it (in the current time zone)."""
    return date_format(template_localtime(value), fmt)


def record_dates(record: TopicRecord) -> SafeString:
    """The topic page's "Started … Completed … Last changed …" line; nothing without a record."""
    if record.updated_at is None:
        return mark_safe("")
    started = f"Started {_date(record.started_at, 'j M Y')}. " if record.started_at else ""
    completed = f"Completed {_date(record.completed_at, 'j M Y')}. " if record.completed_at else ""
    return format_html(
        '<p class="small text-body-secondary">{}{}Last changed {}.</p>',
        started,
        completed,
        _date(record.updated_at, "j M Y, H:i"),
    )


def note_saved(record: TopicRecord) -> SafeString:
    """When the learner's note was last saved; nothing without a note."""
    if record.note_updated_at is None:
        return mark_safe("")
    return format_html(
        '<p class="small text-body-secondary">Last saved {}.</p>', _date(record.note_updated_at, "j M Y, H:i")
    )
