"""Pages stored whole, in the site's layout, with a slot for whatever they show of the viewer.

``base.html`` marks what it shows of the viewer with ``{% personal %}`` (the
name, the paths to come back to) and a messages slot; ``layout_values`` fills
them for the request at hand, the page's own view fills the rest. Why and how
much it saves: ``docs/architecture.md`` and ``docs/performance.md``.
"""

from collections.abc import Callable
from urllib.parse import quote as urlquote

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString

from pagecache import Fragment, fragment, make_key
from roadmap.preferences import theme_of
from roadmap.selectors import content_version


def stored_page(
    request: HttpRequest, kind: str, name: str, template: str, build: Callable, *, store: bool = True
) -> Fragment:
    """The whole page ``template``, stored for this content version, kind of viewer and theme.

    Kinds of viewer: visitors, learners and staff (whose menu also lists draft
    roadmaps). ``build(slot)`` gives the context and the data kept with the
    page (``pagecache.fragment``); with ``store=False`` the page is rendered
    for this request only.
    """
    user = request.user
    viewer = ("staff" if user.is_staff else "learner") if user.is_authenticated else "visitor"
    version = content_version(request) if store else None
    key = None if version is None else make_key(kind, version, name, viewer, theme_of(request))
    return fragment(key, template, build, request=request)


def respond(request: HttpRequest, page: Fragment, values: dict, *, status: int = 200) -> HttpResponse:
    """The page with the layout's slots and ``values`` filled for this request."""
    return HttpResponse(page.fill(request, {**layout_values(request), **values}), status=status)


def layout_values(request: HttpRequest) -> dict[str, SafeString | str]:
    """The slots of the layout (``base.html``'s ``{% personal %}`` and messages) for this request (no query)."""
    path = request.get_full_path()
    values: dict[str, SafeString | str] = {"full-path": escape(path), "next": urlquote(path, safe="/")}
    if request.user.is_authenticated:
        values["public-name"] = escape(request.user.public_name)
    pending = messages.get_messages(request)
    if pending:
        values["messages"] = render_to_string("includes/message_list.html", {"messages": pending})
    return values
