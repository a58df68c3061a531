from django.urls import path
from django.views.generic import RedirectView

from roadmap import views

app_name = "roadmap"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("roadmaps/", RedirectView.as_view(pattern_name="roadmap:home"), name="roadmap_list"),
    path("roadmaps/<slug:roadmap>/", views.roadmap_detail, name="roadmap_detail"),
    path("roadmaps/<slug:roadmap>/<slug:stage>/", views.stage_detail, name="stage_detail"),
    path("roadmaps/<slug:roadmap>/<slug:stage>/<slug:topic>/", views.topic_detail, name="topic_detail"),
]
