"""Learner URLs. Django's own auth views (login, logout, password change and
reset) are included un-namespaced under ``accounts/`` by the root URLconf,
because their templates and views reverse names like ``password_reset_done``."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/delete/", views.delete, name="delete"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/export.json", views.export_json, name="export_json"),
    path("dashboard/export.csv", views.export_csv, name="export_csv"),
    path("theme/", views.theme, name="theme"),
    path("u/<str:username>/", views.public_profile, name="public_profile"),
    path("roadmaps/<slug:roadmap>/<slug:stage>/<slug:topic>/progress/", views.progress_update, name="progress"),
    path("roadmaps/<slug:roadmap>/<slug:stage>/<slug:topic>/note/", views.note_update, name="note"),
]
