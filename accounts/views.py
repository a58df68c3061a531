"""Learner views: account (sign up, profile, delete), progress, notes, dashboard, export, public profile.

Log in, log out, password change and reset are Django's own views
(``django.contrib.auth.urls``); their templates are in ``templates/registration/``.
"""

import csv
import json

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import AccountDeleteForm, NoteForm, ProfileForm, ProgressForm, SignupForm
from accounts.models import NOT_STARTED, User
from roadmap import selectors as roadmap_selectors
from roadmap.layout import respond, stored_page
from roadmap.preferences import THEME_COOKIE, THEME_COOKIE_MAX_AGE, THEMES
from roadmap.views import topic_page

STATUS_MESSAGES = {
    "done": "marked as done",
    "in_progress": "marked as in progress",
    "skipped": "skipped",
    NOT_STARTED: "reset to not started",
}


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The page to return to: ``next`` (POST or GET) if it is a path on this site, else ``fallback``.

    Only a path ("/..."), which is what the site's forms send: ``redirect()``
    takes any other word for a URL name to reverse, and "?next=dashboard"
    was a 500 after the change had been saved.
    """
    for candidate in (request.POST.get("next"), request.GET.get("next")):
        if (
            candidate
            and candidate.startswith("/")
            and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            return candidate
    return fallback


def _wants_json(request: HttpRequest) -> bool:
    # Browsers' form submissions accept */*; only our script asks for JSON first.
    return request.META.get("HTTP_ACCEPT", "").startswith("application/json")


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": message}, status=status)
    return render(request, "400.html", {"message": message}, status=status)


@require_POST
def progress_update(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    topic_obj = roadmap_selectors.topic_get(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
    next_url = safe_next(request, fallback=topic_obj.get_absolute_url())
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse({"error": "Log in to track your progress.", "login_url": reverse("login")}, status=401)
        return redirect_to_login(next_url)
    form = ProgressForm(request.POST)
    if not form.is_valid():
        return _error(request, form.errors["status"][0], status=400)
    status = form.cleaned_data["status"]
    progress = services.progress_set(user=request.user, topic=topic_obj, status=status)
    roadmap_id = topic_obj.stage.roadmap_id
    version = roadmap_selectors.content_version(request)
    order = roadmap_selectors.reading_orders([roadmap_id], version=version)[roadmap_id]
    # The curriculum may have changed since the topic was read: then the message goes without its number.
    entry = order.topic(topic_obj.pk)
    message = f"{entry.number + ' ' if entry else ''}{topic_obj.title}: {STATUS_MESSAGES[status]}."
    if _wants_json(request):
        summaries = selectors.summaries_for_topic(user=request.user, topic=topic_obj, order=order)
        return JsonResponse(
            {
                "topic": topic_obj.pk,
                "status": progress.status if progress else NOT_STARTED,
                "message": message,
                "progress": {key: summary.as_dict() for key, summary in summaries.items()},
            }
        )
    messages.success(request, message)
    return redirect(next_url)


@require_POST
def note_update(request: HttpRequest, roadmap: str, stage: str, topic: str) -> HttpResponse:
    topic_obj = roadmap_selectors.topic_get(user=request.user, roadmap_slug=roadmap, stage_slug=stage, topic_slug=topic)
    next_url = safe_next(request, fallback=topic_obj.get_absolute_url())
    if not request.user.is_authenticated:
        return redirect_to_login(next_url)
    form = NoteForm(request.POST)
    if not form.is_valid():
        # Never lose what the learner typed: show the topic page again with the text and the error.
        return topic_page(request, roadmap, stage, topic, note_form=form, status=400)
    note = services.note_set(user=request.user, topic=topic_obj, text=form.cleaned_data["text"])
    messages.success(request, "Your note was saved." if note else "Your note was deleted.")
    return redirect(next_url)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    dashboard = selectors.dashboard(user=request.user, version=roadmap_selectors.content_version(request))
    page = stored_page(request, "dashboard", "", "accounts/dashboard.html", lambda slot: ({}, None))
    context = {"dashboard": dashboard, "user": request.user}
    return respond(request, page, {"content": render_to_string("accounts/dashboard_content.html", context)})


def _export_filename(user, extension: str) -> str:
    return f"roadmap-progress-{user.username}-{timezone.now():%Y-%m-%d}.{extension}"


@login_required
@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    document = {
        "format": "roadmap-site-progress",
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "user": request.user.username,
        "topics": selectors.export_rows(user=request.user),
    }
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n", content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(request.user, "json")}"'
    return response


@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(request.user, "csv")}"'
    writer = csv.DictWriter(response, fieldnames=selectors.EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(selectors.export_rows(user=request.user))
    return response


@require_GET
def public_profile(request: HttpRequest, username: str) -> HttpResponse:
    learner, roadmaps = selectors.public_profile(username=username)
    return render(request, "accounts/public_profile.html", {"learner": learner, "roadmaps": roadmaps})


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    next_url = safe_next(request, fallback="")
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    user = form.save()
            except IntegrityError:
                # Someone signed up with the same username or email since the form checked.
                form.add_error(None, "That username or email address was taken a moment ago; please choose another.")
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome, {user.username}! Your account was created.")
                return redirect(next_url or "accounts:dashboard")
    else:
        form = SignupForm()
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    # The form edits its own copy, so an invalid submission never shows up in
    # ``request.user`` (the page's "current" avatar and public-profile link).
    instance = User.objects.get(pk=request.user.pk)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=instance)
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile was saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(instance=instance)
    return render(request, "accounts/profile.html", {"form": form})


@sensitive_post_parameters("password")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def delete(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AccountDeleteForm(request.POST, user=request.user)
        if form.is_valid():
            services.user_delete(user=request.user)
            logout(request)
            messages.success(request, "Your account and all your data were deleted.")
            return redirect("roadmap:home")
    else:
        form = AccountDeleteForm(user=request.user)
    return render(request, "accounts/delete.html", {"form": form})


# A colour theme is cosmetic and harmless to forge, so the form carries no CSRF
# token: anonymous pages stay free of per-visitor tokens (and cacheable).
@csrf_exempt
@require_POST
def theme(request: HttpRequest) -> HttpResponse:
    choice = request.POST.get("theme", "")
    if choice not in THEMES:
        return _error(request, f"Unknown theme {choice[:20]!r}: choose auto, light or dark.", status=400)
    response = redirect(safe_next(request, fallback=reverse("roadmap:home")))
    response.set_cookie(
        THEME_COOKIE,
        choice,
        max_age=THEME_COOKIE_MAX_AGE,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


def locked_out(request: HttpRequest, response: HttpResponse | None, credentials: dict | None) -> HttpResponse:
    """django-axes lockout page (``AXES_LOCKOUT_CALLABLE``): 429 with the wait and the way out.

    Used for the learner login and the admin login alike. ``Retry-After`` tells
    clients and scripts how long the lock lasts.
    """
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = max(1, round(cooloff.total_seconds() / 60))
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(int(cooloff.total_seconds()))
    return response


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username django-axes records a login attempt under (``AXES_USERNAME_CALLABLE``), cut to fit its tables.

    Django's login form limits the username's length only in the browser
    (``maxlength``), so a longer one reaches authentication; axes would then
    store it in a 255-character column, which PostgreSQL refuses (a 500).
    Otherwise axes' own choice: the credentials' username, else the form's.
    """
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return username[: AccessAttempt._meta.get_field("username").max_length] if username else username
