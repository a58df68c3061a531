"""Editors maintain the whole curriculum here, without touching fixtures."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from roadmap.models import Resource, Roadmap, RoadmapResource, Stage, Topic, TopicResource


class StageInline(admin.TabularInline):
    model = Stage
    fields = ["position", "title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    extra = 0
    show_change_link = True


class TopicInline(admin.TabularInline):
    model = Topic
    fields = ["position", "title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    extra = 0
    show_change_link = True


class ResourceLinkInline(admin.TabularInline):
    fields = ["position", "resource"]
    autocomplete_fields = ["resource"]
    extra = 1
    verbose_name_plural = _("resources (official docs are listed first, then by position)")


class RoadmapResourceInline(ResourceLinkInline):
    model = RoadmapResource
    verbose_name_plural = _("roadmap-wide resources (official docs are listed first, then by position)")


class TopicResourceInline(ResourceLinkInline):
    model = TopicResource


@admin.register(Roadmap)
class RoadmapAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "position", "is_published", "stage_count", "topic_count"]
    list_editable = ["position", "is_published"]
    list_filter = ["is_published"]
    ordering = ["position", "title"]
    search_fields = ["title", "slug", "description"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [StageInline, RoadmapResourceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_counts()

    @admin.display(description=_("stages"), ordering="stage_count")
    def stage_count(self, obj: Roadmap) -> int:
        return obj.stage_count

    @admin.display(description=_("topics"), ordering="topic_count")
    def topic_count(self, obj: Roadmap) -> int:
        return obj.topic_count


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["title", "roadmap", "position", "topic_count"]
    list_editable = ["position"]
    list_filter = ["roadmap"]
    list_select_related = ["roadmap"]
    search_fields = ["title", "slug", "summary", "roadmap__title"]
    ordering = ["roadmap__position", "roadmap__title", "position", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["roadmap"]
    inlines = [TopicInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(topic_count=Count("topics"))

    @admin.display(description=_("topics"), ordering="topic_count")
    def topic_count(self, obj: Stage) -> int:
        return obj.topic_count


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "stage", "roadmap", "position", "resource_count"]
    list_editable = ["position"]
    list_filter = ["stage__roadmap", "resources__kind"]
    list_select_related = ["stage__roadmap"]
    search_fields = ["title", "slug", "description", "stage__title"]
    ordering = ["stage__roadmap__position", "stage__roadmap__title", "stage__position", "position", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["stage"]
    fields = ["stage", "position", "title", "slug", "description"]
    inlines = [TopicResourceInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(resource_count=Count("resources", distinct=True))

    @admin.display(description=_("roadmap"), ordering="stage__roadmap__title")
    def roadmap(self, obj: Topic) -> Roadmap:
        return obj.stage.roadmap

    @admin.display(description=_("resources"), ordering="resource_count")
    def resource_count(self, obj: Topic) -> int:
        return obj.resource_count


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "url", "author", "is_free", "topic_count"]
    list_filter = ["kind", "is_free"]
    search_fields = ["title", "url", "author"]
    ordering = ["title"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "kind", "url", "author", "is_free"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(topic_count=Count("topics", distinct=True))

    @admin.display(description=_("topics"), ordering="topic_count")
    def topic_count(self, obj: Resource) -> int:
        return obj.topic_count

    def view_on_site(self, obj: Resource) -> str | None:
        return obj.url or None
