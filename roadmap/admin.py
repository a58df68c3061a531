"""Editors maintain the whole curriculum here, without touching fixtures."""

from django.contrib import admin, messages
from django.contrib.admin.utils import NestedObjects, quote
from django.contrib.auth import get_user_model
from django.db import models, router
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from roadmap.models import Resource, Roadmap, RoadmapResource, Stage, Topic, TopicResource
from roadmap.progress import DONE, IN_PROGRESS, SKIPPED
from roadmap_site.admin_input import ModelAdmin, TabularInline


def learner_field(model: type[models.Model]) -> models.Field | None:
    """The foreign key to the user that makes ``model``'s rows learner data (progress, notes, activity)."""
    user_model = get_user_model()
    return next(
        (field for field in model._meta.concrete_fields if field.many_to_one and field.related_model is user_model),
        None,
    )


def learner_count(rows: list[models.Model]) -> int:
    return len({getattr(row, learner_field(row._meta.model).attname) for row in rows})


def _hide(nested: list, hidden: object) -> list:
    """``nested`` (as ``unordered_list`` takes it) without the ``hidden`` entries; their children move up a level."""
    kept: list = []
    after_hidden = False
    for item in nested:
        if isinstance(item, list):
            children = _hide(item, hidden)
            if after_hidden:
                kept.extend(children)
            else:
                kept.append(children)
        elif item is not hidden:
            kept.append(item)
        after_hidden = item is hidden
    return kept


class LearnerDataDeleteSummaryMixin:
    """Delete confirmations that count learners' rows instead of naming them.

    Deleting curriculum reaches learner data: progress and notes protect their
    topic (``PROTECT``) and activity entries go with it (``CASCADE``). Django's
    confirmation page would list every such row by ``str()``, which names the
    learner, to editors who have no business knowing who studies what. This is
    Django's ``get_deleted_objects`` with those rows replaced by summary lines
    (which also saves the query per row that their ``str()`` costs).
    """

    def get_deleted_objects(self, objs, request):
        try:
            first = objs[0]
        except IndexError:
            return [], {}, set(), []
        collector = NestedObjects(using=router.db_for_write(first._meta.model), origin=objs)
        collector.collect(objs)
        perms_needed = set()
        hidden = object()

        def format_callback(obj: models.Model, *, deleted: bool = True):
            opts = obj._meta
            registered = self.admin_site.is_registered(opts.model)
            # Protected rows are never deleted, so deleting them takes no permission:
            # the page then explains the protection rather than a missing permission.
            if (
                deleted
                and registered
                and not self.admin_site.get_model_admin(opts.model).has_delete_permission(request, obj)
            ):
                perms_needed.add(opts.verbose_name)
            if learner_field(opts.model):
                return hidden
            no_edit_link = f"{capfirst(opts.verbose_name)}: {obj}"
            if not registered:
                return no_edit_link
            try:
                url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[quote(obj.pk)])
            except NoReverseMatch:
                return no_edit_link
            return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, obj)

        to_delete = _hide(collector.nested(format_callback), hidden)
        for model, rows in collector.model_objs.items():
            if learner_field(model):
                count = learner_count(rows)
                to_delete.append(
                    ngettext("%(rows)s of %(count)d learner", "%(rows)s of %(count)d learners", count)
                    % {"rows": capfirst(model._meta.verbose_name_plural), "count": count}
                )

        protected = [format_callback(obj, deleted=False) for obj in collector.protected]
        protected = [line for line in protected if line is not hidden]
        if learners_rows := [obj for obj in collector.protected if learner_field(obj._meta.model)]:
            count = learner_count(learners_rows)
            protected.append(
                ngettext(
                    "%(count)d learner's progress records and notes (learner data is never deleted: "
                    "unpublish the topic instead; its progress is kept and comes back when it is published again)",
                    "%(count)d learners' progress records and notes (learner data is never deleted: "
                    "unpublish the topic instead; its progress is kept and comes back when it is published again)",
                    count,
                )
                % {"count": count}
            )

        model_count = {model._meta.verbose_name_plural: len(rows) for model, rows in collector.model_objs.items()}
        return to_delete, model_count, perms_needed, protected


class StageInline(TabularInline):
    model = Stage
    fields = ["position", "title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    extra = 0
    show_change_link = True


class TopicInline(TabularInline):
    model = Topic
    fields = ["position", "title", "slug", "is_published"]
    prepopulated_fields = {"slug": ["title"]}
    extra = 0
    show_change_link = True


class ResourceLinkInline(TabularInline):
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
class RoadmapAdmin(LearnerDataDeleteSummaryMixin, ModelAdmin):
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
class StageAdmin(LearnerDataDeleteSummaryMixin, ModelAdmin):
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
class TopicAdmin(LearnerDataDeleteSummaryMixin, ModelAdmin):
    list_display = [
        "title",
        "stage",
        "roadmap",
        "position",
        "is_published",
        "resource_count",
        "done_count",
        "in_progress_count",
        "skipped_count",
    ]
    list_editable = ["position", "is_published"]
    list_filter = ["stage__roadmap", "is_published", "resources__kind"]
    list_select_related = ["stage__roadmap"]
    search_fields = ["title", "slug", "description", "stage__title"]
    ordering = ["stage__roadmap__position", "stage__roadmap__title", "stage__position", "position", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["stage"]
    fields = ["stage", "position", "title", "slug", "is_published", "description"]
    inlines = [TopicResourceInline]
    actions = ["publish", "unpublish"]

    @admin.action(description=_("Publish the selected topics"), permissions=["change"])
    def publish(self, request, queryset):
        self._set_published(request, queryset, True)

    @admin.action(description=_("Unpublish the selected topics (learners' progress is kept)"), permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_published(request, queryset, False)

    def _set_published(self, request, queryset, published: bool) -> None:
        # One save per topic rather than queryset.update(): the save signals give the
        # content a new version (no cached page outlives the change) and the history logs it.
        changed = [topic for topic in queryset if topic.is_published != published]
        for topic in changed:
            topic.is_published = published
            topic.save(update_fields=["is_published"])
            self.log_change(request, topic, [{"changed": {"fields": ["published"]}}])
        message = (
            ngettext("%(count)d topic published.", "%(count)d topics published.", len(changed))
            if published
            else ngettext(
                "%(count)d topic unpublished; its learners' progress and notes are kept.",
                "%(count)d topics unpublished; their learners' progress and notes are kept.",
                len(changed),
            )
        )
        self.message_user(request, message % {"count": len(changed)}, messages.SUCCESS)

    def get_queryset(self, request):
        # distinct=True throughout: the resources join (and a filter by resource
        # kind) multiplies the progress rows, and the other way round.
        return (
            super()
            .get_queryset(request)
            .annotate(
                resource_count=Count("resources", distinct=True),
                done_count=Count("progress", filter=Q(progress__status=DONE), distinct=True),
                in_progress_count=Count("progress", filter=Q(progress__status=IN_PROGRESS), distinct=True),
                skipped_count=Count("progress", filter=Q(progress__status=SKIPPED), distinct=True),
            )
        )

    @admin.display(description=_("roadmap"), ordering="stage__roadmap__title")
    def roadmap(self, obj: Topic) -> Roadmap:
        return obj.stage.roadmap

    @admin.display(description=_("resources"), ordering="resource_count")
    def resource_count(self, obj: Topic) -> int:
        return obj.resource_count

    @admin.display(description=_("learners done"), ordering="done_count")
    def done_count(self, obj: Topic) -> int:
        return obj.done_count

    @admin.display(description=_("learners in progress"), ordering="in_progress_count")
    def in_progress_count(self, obj: Topic) -> int:
        return obj.in_progress_count

    @admin.display(description=_("learners skipped"), ordering="skipped_count")
    def skipped_count(self, obj: Topic) -> int:
        return obj.skipped_count


@admin.register(Resource)
class ResourceAdmin(ModelAdmin):
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
