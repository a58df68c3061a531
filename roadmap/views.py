"""Curriculum pages: thin views over ``roadmap.selectors``, with the learner's progress overlaid.

Each page is cached for its viewer under the content version (``roadmap.caching``): never stale.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts import selectors as progress_selectors
from accounts.forms import NoteForm
from roadmap import search as search_selectors
from roadmap import selectors
from roadmap.caching import cached_page
from roadmap.forms import SearchForm


@cached_page()
def home(request: HttpRequest) -> HttpResponse:
    roadmaps = selectors.roadmap_list(user=request.user)
    summaries = progress_selectors.roadmap_summaries(user=request.user, roadmaps=roadmaps)
    for roadmap in roadmaps:
        roadmap.progress = summaries.get(roadmap.pk)
    return render(request, "roadmap/home.html", {"roadmaps": roadmaps})


@cached_page(query={"show": ["left"]})
def roadmap_detail(request: HttpRequest, roadmap: str) -> HttpResponse:
    outline = selectors.roadmap_outline(user=request.user, slug=roadmap)
    # "?show=left" hides finished topics for a learner; any other value shows everything.
    only_left = False
    if request.user.is_authenticated:
        progress_selectors.outline_progress_attach(user=request.user, roadmap=outline)
        if request.GET.get("show") == "left":
            only_left = True
            progress_selectors.outline_keep_left(roadmap=outline)
    return render(request, "roadmap/roadmap_detail.html", {"roadmap": outline, "only_left": only_left})


@cached_page()
def stage_detail(request: HttpRequest, roadmap: str, stage: str) -> HttpResponse:
    detail = selectors.stage_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage)
    progress = None
    if request.user.is_authenticated:
        progress = progress_selectors.topic_progress_attach(user=request.user, topics=detail.stage.topic_list)
    return render(request, "roadmap/stage_detail.html", {"detail": detail, "stage_progress": progress})


@cached_page()
def topic_detail(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    detail = selectors.topic_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
    context = {"detail": detail}
    if request.user.is_authenticated:
        progress_selectors.topic_progress_attach(user=request.user, topics=[detail.topic])
        note = progress_selectors.note_get(user=request.user, topic=detail.topic)
        context["note_form"] = NoteForm(initial={"text": note.text if note else ""})
        context["note"] = note
    return render(request, "roadmap/topic_detail.html", context)


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = search_selectors.search(user=request.user, query=form.cleaned_data["q"])
    return render(request, "roadmap/search.html", {"form": form, "results": results})
