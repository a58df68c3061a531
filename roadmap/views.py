"""Curriculum pages: thin views over ``roadmap.selectors``."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from roadmap import selectors


def home(request: HttpRequest) -> HttpResponse:
    roadmaps = selectors.roadmap_list(user=request.user)
    return render(request, "roadmap/home.html", {"roadmaps": roadmaps})


def roadmap_detail(request: HttpRequest, roadmap: str) -> HttpResponse:
    outline = selectors.roadmap_outline(user=request.user, slug=roadmap)
    return render(request, "roadmap/roadmap_detail.html", {"roadmap": outline})


def stage_detail(request: HttpRequest, roadmap: str, stage: str) -> HttpResponse:
    detail = selectors.stage_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage)
    return render(request, "roadmap/stage_detail.html", {"detail": detail})


def topic_detail(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    detail = selectors.topic_detail(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
    return render(request, "roadmap/topic_detail.html", {"detail": detail})
