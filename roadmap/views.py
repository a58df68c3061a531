"""Curriculum pages: thin views over ``roadmap.selectors``, with the learner's progress overlaid.

The curriculum part of each page is cached (``roadmap.caching``): whole pages
for anonymous visitors, the part below the header for learners, keyed by the
content version and the learner's state version, so never stale.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors as progress_selectors
from accounts.forms import NoteForm
from roadmap import search as search_selectors
from roadmap import selectors
from roadmap.caching import anonymous_page, cached_fragment, render_fragment, with_csrf_token
from roadmap.forms import SearchForm


def render_cached_page(request: HttpRequest, page: dict, *, status: int = 200) -> HttpResponse:
    """The page around a (cached) curriculum part: header, messages and footer are rendered for this request."""
    context = {"page": page, "content": with_csrf_token(request, page["content"])}
    return render(request, "cached_page.html", context, status=status)


@anonymous_page
def home(request: HttpRequest) -> HttpResponse:
    roadmaps = selectors.roadmap_list(user=request.user)
    summaries = progress_selectors.roadmap_summaries(user=request.user, roadmaps=roadmaps)
    for roadmap in roadmaps:
        roadmap.progress = summaries.get(roadmap.pk)
    return render(request, "roadmap/home.html", {"roadmaps": roadmaps})


@anonymous_page
def roadmap_detail(request: HttpRequest, roadmap: str) -> HttpResponse:
    # "?show=left" hides finished topics for a learner; any other value shows everything.
    only_left = request.user.is_authenticated and request.GET.get("show") == "left"

    def build() -> dict:
        outline = selectors.roadmap_outline(user=request.user, slug=roadmap)
        if request.user.is_authenticated:
            progress_selectors.outline_progress_attach(user=request.user, roadmap=outline)
            if only_left:
                progress_selectors.outline_keep_left(roadmap=outline)
        return {
            "title": outline.title,
            "description": outline.description,
            "breadcrumbs": render_fragment("includes/breadcrumbs.html", {"roadmap": outline}, request),
            "content": render_fragment(
                "roadmap/parts/roadmap_detail.html", {"roadmap": outline, "only_left": only_left}, request
            ),
        }

    page = cached_fragment(request, f"roadmap:{roadmap}:{'left' if only_left else 'all'}", build)
    return render_cached_page(request, page)


@anonymous_page
def stage_detail(request: HttpRequest, roadmap: str, stage: str) -> HttpResponse:
    def build() -> dict:
        detail = selectors.stage_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage)
        progress = None
        if request.user.is_authenticated:
            progress = progress_selectors.topic_progress_attach(user=request.user, topics=detail.stage.topic_list)
        crumbs = {"roadmap": detail.roadmap, "stage": detail.stage}
        return {
            "title": f"Stage {detail.stage.number}: {detail.stage.title} · {detail.roadmap.title}",
            "description": detail.stage.summary or detail.stage.title,
            "breadcrumbs": render_fragment("includes/breadcrumbs.html", crumbs, request),
            "content": render_fragment(
                "roadmap/parts/stage_detail.html", {"detail": detail, "stage_progress": progress}, request
            ),
        }

    return render_cached_page(request, cached_fragment(request, f"stage:{roadmap}:{stage}", build))


def topic_page(
    request: HttpRequest, roadmap: str, stage: str, topic: str, *, note_form: NoteForm | None = None
) -> dict:
    """The topic page's parts; ``note_form`` is a bound form to show again with its errors."""
    detail = selectors.topic_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
    context = {"detail": detail}
    if request.user.is_authenticated:
        progress_selectors.topic_progress_attach(user=request.user, topics=[detail.topic])
        note = progress_selectors.note_get(user=request.user, topic=detail.topic)
        context["note_form"] = note_form or NoteForm(initial={"text": note.text if note else ""})
        context["note"] = note
    crumbs = {"roadmap": detail.roadmap, "stage": detail.stage, "topic": detail.topic}
    return {
        "title": f"{detail.topic.title} · {detail.roadmap.title}",
        "description": detail.topic.description or detail.topic.title,
        "breadcrumbs": render_fragment("includes/breadcrumbs.html", crumbs, request),
        "content": render_fragment("roadmap/parts/topic_detail.html", context, request),
    }


@anonymous_page
def topic_detail(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    page = cached_fragment(
        request, f"topic:{roadmap}:{stage}:{topic}", lambda: topic_page(request, roadmap, stage, topic)
    )
    return render_cached_page(request, page)


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = search_selectors.search(user=request.user, query=form.cleaned_data["q"])
    return render(request, "roadmap/search.html", {"form": form, "results": results})
