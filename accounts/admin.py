"""Accounts in the admin: users editable, learner data read-only or private.

Learners' progress is staff-visible (with the view permission) but never
edited by hand: it is the learner's own record, changed only through the site.
Notes are private: only superusers see them, so no group or permission can
open them to content editors by accident.

``ProgressEvent`` is deliberately not registered: it is the dashboard's
activity feed, derived from the same status changes ``Progress`` records, so
another admin page would only add one more place exposing learner activity
without telling staff anything the progress list does not.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Note, Progress, User
from roadmap.models import Roadmap
from roadmap_site.admin_input import ModelAdmin, SafeInputAdminMixin


@admin.register(User)
class UserAdmin(SafeInputAdminMixin, DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:2],
        (_("Profile"), {"fields": ("display_name", "bio", "avatar", "is_profile_public")}),
        *DjangoUserAdmin.fieldsets[2:],
    )
    list_display = (*DjangoUserAdmin.list_display, "display_name", "is_profile_public")
    list_filter = (*DjangoUserAdmin.list_filter, "is_profile_public")
    search_fields = (*DjangoUserAdmin.search_fields, "display_name")

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A learner's progress goes with their account (CASCADE) even though
        # nobody may delete progress records one by one.
        perms_needed.discard(Progress._meta.verbose_name)
        return deleted, model_count, perms_needed, protected


class ReadOnlyAdminMixin:
    """Listed and viewed in the admin, never added, changed or deleted there."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Progress)
class ProgressAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["user", "topic", "roadmap", "status", "updated_at"]
    list_filter = ["topic__stage__roadmap", "status"]
    list_select_related = ["user", "topic__stage__roadmap"]
    search_fields = ["user__username", "user__email"]
    date_hierarchy = "updated_at"
    ordering = ["-updated_at"]
    fields = ["user", "topic", "status", "started_at", "completed_at", "updated_at"]

    @admin.display(description=_("roadmap"), ordering="topic__stage__roadmap__title")
    def roadmap(self, obj: Progress) -> Roadmap:
        return obj.topic.stage.roadmap


@admin.register(Note)
class NoteAdmin(ModelAdmin):
    """Superusers only, whatever permissions or groups a staff member has."""

    list_display = ["user", "topic", "updated_at"]
    list_select_related = ["user", "topic"]
    search_fields = ["user__username", "user__email"]
    ordering = ["-updated_at"]
    fields = ["user", "topic", "text", "created_at", "updated_at"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
