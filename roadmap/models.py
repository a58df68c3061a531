"""The curriculum: Roadmap → Stage → Topic, and Resource.

Every model has a natural key made of slugs, so fixtures carry no database ids:
loading them on any database updates rows in place, and learners' progress
(which points at topics by id) survives content reloads.
"""

from django.core.validators import URLValidator
from django.db import models
from django.db.models import Case, Count, Q, Value, When
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

http_url_validator = URLValidator(schemes=["http", "https"], message=_("Enter an http:// or https:// URL."))


class RoadmapQuerySet(models.QuerySet):
    def published(self) -> "RoadmapQuerySet":
        return self.filter(is_published=True)

    def visible_to(self, user) -> "RoadmapQuerySet":
        """Published roadmaps, plus drafts for staff who preview them from the admin."""
        if user.is_authenticated and user.is_staff:
            return self.all()
        return self.published()

    def with_counts(self) -> "RoadmapQuerySet":
        return self.annotate(
            stage_count=Count("stages", distinct=True),
            topic_count=Count("stages__topics", filter=Q(stages__topics__is_published=True), distinct=True),
        )


class RoadmapManager(models.Manager.from_queryset(RoadmapQuerySet)):
    def get_by_natural_key(self, slug: str) -> "Roadmap":
        return self.get(slug=slug)


class Roadmap(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True, help_text=_("A short introduction."))
    position = models.PositiveSmallIntegerField(
        _("position"), default=1, help_text=_("Roadmaps are listed by position.")
    )
    is_published = models.BooleanField(
        _("published"), default=True, help_text=_("Unpublished roadmaps are visible to staff only.")
    )
    resources = models.ManyToManyField(
        "Resource",
        through="RoadmapResource",
        verbose_name=_("roadmap-wide resources"),
        related_name="roadmaps",
        blank=True,
        help_text=_("Books, courses and practice sites for the whole roadmap."),
    )

    objects = RoadmapManager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("roadmap")
        verbose_name_plural = _("roadmaps")
        constraints = [
            models.CheckConstraint(condition=~Q(slug=""), name="roadmap_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="roadmap_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("roadmap:roadmap_detail", kwargs={"roadmap": self.slug})

    def natural_key(self) -> tuple[str]:
        return (self.slug,)

    def is_visible_to(self, user) -> bool:
        return self.is_published or (user.is_authenticated and user.is_staff)


class StageManager(models.Manager):
    def get_by_natural_key(self, roadmap_slug: str, slug: str) -> "Stage":
        return self.get(roadmap__slug=roadmap_slug, slug=slug)


class Stage(models.Model):
    roadmap = models.ForeignKey(Roadmap, verbose_name=_("roadmap"), on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("Stages are numbered in position order; gaps are fine.")
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, help_text=_("Unique within its roadmap."))
    summary = models.CharField(_("summary"), max_length=300, blank=True, help_text=_("One line."))

    objects = StageManager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["roadmap", "slug"], name="stage_slug_unique_per_roadmap"),
            models.CheckConstraint(condition=~Q(slug=""), name="stage_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="stage_title_not_empty"),
        ]
        indexes = [models.Index(fields=["roadmap", "position"], name="stage_roadmap_position")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("roadmap:stage_detail", kwargs={"roadmap": self.roadmap.slug, "stage": self.slug})

    def natural_key(self) -> tuple[str, str]:
        return (*self.roadmap.natural_key(), self.slug)

    natural_key.dependencies = ["roadmap.roadmap"]


class TopicQuerySet(models.QuerySet):
    def published(self) -> "TopicQuerySet":
        """Topics the site shows. An unpublished topic keeps its learners' progress and notes; they count again
        (and show again) when it is published again."""
        return self.filter(is_published=True)


class TopicManager(models.Manager.from_queryset(TopicQuerySet)):
    def get_by_natural_key(self, roadmap_slug: str, stage_slug: str, slug: str) -> "Topic":
        return self.get(stage__roadmap__slug=roadmap_slug, stage__slug=stage_slug, slug=slug)


class Topic(models.Model):
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="topics")
    position = models.PositiveSmallIntegerField(
        _("position"), help_text=_("Topics are numbered in position order; gaps are fine.")
    )
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, help_text=_("Unique within its stage."))
    description = models.TextField(_("description"), blank=True)
    is_published = models.BooleanField(
        _("published"),
        default=True,
        help_text=_(
            "Unpublished topics disappear from the site (pages, numbering, percentages, search); learners' progress "
            "and notes on them are kept and count again once the topic is published again."
        ),
    )
    resources = models.ManyToManyField(
        "Resource", through="TopicResource", verbose_name=_("resources"), related_name="topics", blank=True
    )
    content_updated_at = models.DateTimeField(
        _("content last changed"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Set whenever the description or the resources change (roadmap/signals.py)."),
    )

    objects = TopicManager()

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(fields=["stage", "slug"], name="topic_slug_unique_per_stage"),
            models.CheckConstraint(condition=~Q(slug=""), name="topic_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="topic_title_not_empty"),
        ]
        indexes = [models.Index(fields=["stage", "position"], name="topic_stage_position")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse(
            "roadmap:topic_detail",
            kwargs={"roadmap": self.stage.roadmap.slug, "stage": self.stage.slug, "topic": self.slug},
        )

    def natural_key(self) -> tuple[str, str, str]:
        return (*self.stage.natural_key(), self.slug)

    natural_key.dependencies = ["roadmap.stage"]


class ResourceKind(models.TextChoices):
    # Declaration order is display order: official documentation first.
    DOCS = "docs", _("Official docs")
    ARTICLE = "article", _("Article")
    BOOK = "book", _("Book")
    COURSE = "course", _("Course")
    VIDEO = "video", _("Video")
    PRACTICE = "practice", _("Practice")
    COMMUNITY = "community", _("Community")


KIND_RANK = Case(
    *(When(kind=value, then=Value(rank)) for rank, value in enumerate(ResourceKind.values)),
    default=Value(len(ResourceKind.values)),
)


class ResourceManager(models.Manager):
    def get_by_natural_key(self, slug: str) -> "Resource":
        return self.get(slug=slug)


class Resource(models.Model):
    """A link (or, for a book without a site, a citation) that can serve many topics."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    url = models.URLField(
        _("URL"),
        max_length=500,
        blank=True,
        validators=[http_url_validator],
        help_text=_("Leave empty only for a book or other resource without a web page."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices, default=ResourceKind.DOCS)
    author = models.CharField(_("author"), max_length=200, blank=True)
    is_free = models.BooleanField(_("free"), default=True)

    objects = ResourceManager()

    class Meta:
        ordering = [KIND_RANK, "title"]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        constraints = [
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="resource_url_unique"),
            models.CheckConstraint(condition=~Q(slug=""), name="resource_slug_not_empty"),
            models.CheckConstraint(condition=~Q(title=""), name="resource_title_not_empty"),
            models.CheckConstraint(
                condition=Q(url="") | Q(url__startswith="http://") | Q(url__startswith="https://"),
                name="resource_url_http",
            ),
            models.CheckConstraint(condition=Q(kind__in=ResourceKind.values), name="resource_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str]:
        return (self.slug,)


def kind_rank(kind: str) -> int:
    """Display rank of a resource kind (official docs first), as KIND_RANK computes it in SQL."""
    values = ResourceKind.values
    return values.index(kind) if kind in values else len(values)


class ResourceLink(models.Model):
    """An ordered link from a roadmap or topic to a shared resource.

    Explicit link rows (rather than a bare many-to-many) give each link its own
    position, and let ``loaddata`` update shipped links without deleting the
    ones editors added: a bare many-to-many would be replaced wholesale.
    """

    resource = models.ForeignKey(Resource, verbose_name=_("resource"), on_delete=models.CASCADE)
    position = models.PositiveSmallIntegerField(
        _("position"), default=1, help_text=_("Order within the same kind; official docs always come first.")
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return str(self.resource)

    @staticmethod
    def ordered_resources(links) -> list[Resource]:
        """The linked resources, official docs first, then by position."""
        ordered = sorted(links, key=lambda link: (kind_rank(link.resource.kind), link.position))
        return [link.resource for link in ordered]


class RoadmapResourceManager(models.Manager):
    def get_by_natural_key(self, roadmap_slug: str, resource_slug: str) -> "RoadmapResource":
        return self.get(roadmap__slug=roadmap_slug, resource__slug=resource_slug)


class RoadmapResource(ResourceLink):
    roadmap = models.ForeignKey(
        Roadmap, verbose_name=_("roadmap"), on_delete=models.CASCADE, related_name="resource_links"
    )

    objects = RoadmapResourceManager()

    class Meta(ResourceLink.Meta):
        verbose_name = _("roadmap resource")
        verbose_name_plural = _("roadmap resources")
        constraints = [models.UniqueConstraint(fields=["roadmap", "resource"], name="roadmap_resource_unique")]

    def natural_key(self) -> tuple[str, str]:
        return (*self.roadmap.natural_key(), *self.resource.natural_key())

    natural_key.dependencies = ["roadmap.roadmap", "roadmap.resource"]


class TopicResourceManager(models.Manager):
    def get_by_natural_key(
        self, roadmap_slug: str, stage_slug: str, topic_slug: str, resource_slug: str
    ) -> "TopicResource":
        return self.get(
            topic__stage__roadmap__slug=roadmap_slug,
            topic__stage__slug=stage_slug,
            topic__slug=topic_slug,
            resource__slug=resource_slug,
        )


class TopicResource(ResourceLink):
    topic = models.ForeignKey(Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="resource_links")

    objects = TopicResourceManager()

    class Meta(ResourceLink.Meta):
        verbose_name = _("topic resource")
        verbose_name_plural = _("topic resources")
        constraints = [models.UniqueConstraint(fields=["topic", "resource"], name="topic_resource_unique")]

    def natural_key(self) -> tuple[str, str, str, str]:
        return (*self.topic.natural_key(), *self.resource.natural_key())

    natural_key.dependencies = ["roadmap.topic", "roadmap.resource"]


class ContentVersion(models.Model):
    """One row whose value changes with every change to the curriculum.

    Pages and fragments rendered from the curriculum are cached under this
    value (``roadmap.selectors.content_version``, ``pagecache``). Database
    triggers give it a new random value in the transaction of any change to a
    curriculum table, whatever makes it (``migrations/0006``), so a cached page
    is never stale, whichever app server or process made the change.
    """

    value = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("content version")
        # Bookkeeping, not content: nobody edits it, so no permissions (and no admin).
        default_permissions = ()

    def __str__(self) -> str:
        return self.value
