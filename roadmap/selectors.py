"""Reads for the curriculum pages, each with a fixed number of queries.

Stage and topic numbers ("stage 4, topic 2") are computed here from the
position order, never stored, so reordering in the admin renumbers every page
consistently.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connections, router
from django.db.models import Prefetch
from django.http import Http404, HttpRequest

from pagecache import make_key
from pagecache.keys import TIMEOUT
from roadmap.models import ContentVersion, Resource, ResourceLink, Roadmap, Stage, Topic, TopicResource

CONTENT_VERSION_SQL = f"SELECT value FROM {ContentVersion._meta.db_table} WHERE id = 1"


def content_version(request: HttpRequest | None = None) -> str | None:
    """The curriculum's current version (1 query, once per request); None if its row is missing.

    Database triggers give it a new value with every change to the curriculum,
    whatever makes the change (``roadmap/migrations/0006_content_version_triggers.py``),
    so cached fragments and pages keyed by it are never stale.
    """
    if request is not None and hasattr(request, "content_version"):
        return request.content_version
    # One primary-key read on every page: plain SQL, which costs a third of the ORM's query building.
    with connections[router.db_for_read(ContentVersion)].cursor() as cursor:
        cursor.execute(CONTENT_VERSION_SQL)
        row = cursor.fetchone()
    version = row[0] if row else None
    if request is not None:
        request.content_version = version
    return version


@dataclass(frozen=True)
class StageDetail:
    roadmap: Roadmap
    stage: Stage
    previous: Stage | None
    next: Stage | None


@dataclass(frozen=True)
class TopicDetail:
    roadmap: Roadmap
    stage: Stage
    topic: Topic
    previous: Topic | None
    next: Topic | None
    resources_by_kind: list[tuple[str, list[Resource]]]


@dataclass(frozen=True, slots=True)
class TopicEntry:
    """A published topic as other pages list it: numbered ("4.2"), titled and linked."""

    pk: int
    slug: str
    number: str
    title: str
    url: str
    content_updated_at: datetime | None

    def get_absolute_url(self) -> str:
        return self.url


@dataclass(frozen=True, slots=True)
class StageEntry:
    pk: int
    slug: str
    number: int
    title: str
    url: str
    topics: tuple[TopicEntry, ...]

    def get_absolute_url(self) -> str:
        return self.url


@dataclass(frozen=True, slots=True)
class ReadingOrder:
    """A roadmap's stages and published topics in reading order, numbered as every page numbers them.

    Plain data, the same for every viewer: stored in the cache per content version.
    """

    pk: int
    slug: str
    title: str
    url: str
    position: int
    is_published: bool
    stages: tuple[StageEntry, ...]

    def get_absolute_url(self) -> str:
        return self.url

    def is_visible_to(self, user) -> bool:
        return self.is_published or (user.is_authenticated and user.is_staff)

    def topics(self) -> Iterable[tuple[StageEntry, TopicEntry]]:
        return ((stage, topic) for stage in self.stages for topic in stage.topics)

    def topic(self, topic_id: int) -> TopicEntry | None:
        return next((topic for _, topic in self.topics() if topic.pk == topic_id), None)


def reading_orders(roadmap_ids: Iterable[int], *, version: str | None) -> dict[int, ReadingOrder]:
    """The reading order of each existing roadmap among ``roadmap_ids``, by id, drafts included.

    One cache round trip; 3 queries for the roadmaps not yet stored for this
    content ``version`` (and nothing stored when the version is unknown).
    """
    wanted = set(roadmap_ids)
    keys = {roadmap_id: make_key("reading-order", version, roadmap_id) for roadmap_id in wanted}
    found = cache.get_many(list(keys.values())) if version is not None and keys else {}
    orders = {roadmap_id: found[key] for roadmap_id, key in keys.items() if key in found}
    missing = wanted - orders.keys()
    if missing:
        built = _build_reading_orders(missing)
        if version is not None:
            cache.set_many({keys[roadmap_id]: order for roadmap_id, order in built.items()}, TIMEOUT)
        orders.update(built)
    return orders


def _build_reading_orders(roadmap_ids: set[int]) -> dict[int, ReadingOrder]:
    roadmaps = {roadmap.pk: roadmap for roadmap in Roadmap.objects.filter(pk__in=roadmap_ids)}
    topics_by_stage: dict[int, list[Topic]] = {}
    stages = list(Stage.objects.filter(roadmap_id__in=roadmaps))  # in position order
    topics = (
        Topic.objects.published()
        .filter(stage__roadmap_id__in=roadmaps)
        .only("id", "stage_id", "position", "slug", "title", "content_updated_at")
    )
    for topic in topics:  # in position order
        topics_by_stage.setdefault(topic.stage_id, []).append(topic)
    stage_entries: dict[int, list[StageEntry]] = {roadmap_id: [] for roadmap_id in roadmaps}
    for stage in stages:
        roadmap = stage.roadmap = roadmaps[stage.roadmap_id]
        number = len(stage_entries[roadmap.pk]) + 1
        entries = []
        for topic_number, topic in enumerate(topics_by_stage.get(stage.pk, ()), start=1):
            topic.stage = stage
            entries.append(
                TopicEntry(
                    topic.pk,
                    topic.slug,
                    f"{number}.{topic_number}",
                    topic.title,
                    topic.get_absolute_url(),
                    topic.content_updated_at,
                )
            )
        stage_entries[roadmap.pk].append(
            StageEntry(stage.pk, stage.slug, number, stage.title, stage.get_absolute_url(), tuple(entries))
        )
    return {
        roadmap.pk: ReadingOrder(
            roadmap.pk,
            roadmap.slug,
            roadmap.title,
            roadmap.get_absolute_url(),
            roadmap.position,
            roadmap.is_published,
            tuple(stage_entries[roadmap.pk]),
        )
        for roadmap in roadmaps.values()
    }


def roadmap_list(*, user) -> list[Roadmap]:
    """Roadmaps for the home page, with their stage and topic counts (1 query)."""
    return list(Roadmap.objects.visible_to(user).with_counts())


def _get_roadmap(*, user, slug: str) -> Roadmap:
    try:
        return Roadmap.objects.visible_to(user).get(slug=slug)
    except Roadmap.DoesNotExist:
        raise Http404("No such roadmap.") from None


# Related managers (roadmap.stages, stage.topics) set each row's parent to the
# instance already in memory, so get_absolute_url() costs no query.


def numbered(items):
    for number, item in enumerate(items, start=1):
        item.number = number
    return items


def roadmap_outline(*, user, slug: str) -> Roadmap:
    """The whole roadmap: numbered stages with numbered topics and their resources,
    and the roadmap's own resources (5 queries).

    Topic resources are on the page for print: the printed roadmap is a checklist with URLs.
    """
    roadmap = _get_roadmap(user=user, slug=slug)
    stages = list(
        roadmap.stages.prefetch_related(
            Prefetch("topics", queryset=Topic.objects.published(), to_attr="topic_list"),
            Prefetch("topic_list__resource_links", queryset=TopicResource.objects.select_related("resource")),
        )
    )
    for stage in numbered(stages):
        for topic in numbered(stage.topic_list):
            topic.resource_list = ResourceLink.ordered_resources(topic.resource_links.all())
    roadmap.stage_list = stages
    roadmap.topic_count = sum(len(stage.topic_list) for stage in stages)
    roadmap.resource_list = ResourceLink.ordered_resources(roadmap.resource_links.select_related("resource"))
    return roadmap


def stage_detail(*, user, roadmap_slug: str, stage_slug: str) -> StageDetail:
    """One stage with its numbered topics and their resources, and its neighbours (4 queries)."""
    roadmap = _get_roadmap(user=user, slug=roadmap_slug)
    stages = numbered(list(roadmap.stages.all()))
    index = _index_of(stages, lambda stage: stage.slug == stage_slug, "No such stage.")
    stage = stages[index]
    stage.topic_list = numbered(
        list(
            stage.topics.published().prefetch_related(
                Prefetch("resource_links", queryset=TopicResource.objects.select_related("resource"))
            )
        )
    )
    for topic in stage.topic_list:
        topic.resource_list = ResourceLink.ordered_resources(topic.resource_links.all())
    return StageDetail(
        roadmap=roadmap,
        stage=stage,
        previous=stages[index - 1] if index > 0 else None,
        next=stages[index + 1] if index + 1 < len(stages) else None,
    )


def topic_get(*, user, roadmap_slug: str, stage_slug: str, topic_slug: str) -> Topic:
    """A topic with its stage and roadmap, if ``user`` may see it (1 query); else 404."""
    try:
        topic = (
            Topic.objects.published()
            .select_related("stage__roadmap")
            .get(slug=topic_slug, stage__slug=stage_slug, stage__roadmap__slug=roadmap_slug)
        )
    except Topic.DoesNotExist:
        raise Http404("No such topic.") from None
    if not topic.stage.roadmap.is_visible_to(user):
        raise Http404("No such topic.")
    return topic


def topics_number(topics: list[Topic]) -> None:
    """Set ``topic.number`` and ``topic.stage.number`` as the pages number them, for topics of any roadmaps (2 queries).

    Numbers are positions in the models' default ordering, counted over every
    stage and published topic of the roadmaps involved (gaps and empty stages included).
    """
    if not topics:
        return
    roadmap_ids = {topic.stage.roadmap_id for topic in topics}
    stage_numbers: dict[int, int] = {}
    per_roadmap: Counter[int] = Counter()
    for stage_id, roadmap_id in Stage.objects.filter(roadmap_id__in=roadmap_ids).values_list("id", "roadmap_id"):
        per_roadmap[roadmap_id] += 1
        stage_numbers[stage_id] = per_roadmap[roadmap_id]
    topic_numbers: dict[int, int] = {}
    per_stage: Counter[int] = Counter()
    published = Topic.objects.published().filter(stage_id__in=list(stage_numbers))
    for topic_id, stage_id in published.values_list("id", "stage_id"):
        per_stage[stage_id] += 1
        topic_numbers[topic_id] = per_stage[stage_id]
    for topic in topics:
        topic.stage.number = stage_numbers[topic.stage_id]
        topic.number = topic_numbers[topic.pk]


def topic_detail(*, user, roadmap_slug: str, stage_slug: str, topic_slug: str) -> TopicDetail:
    """One topic with its resources grouped by kind; previous/next run across stages (4 queries)."""
    topic = topic_get(user=user, roadmap_slug=roadmap_slug, stage_slug=stage_slug, topic_slug=topic_slug)
    roadmap = topic.stage.roadmap
    stages = numbered(list(roadmap.stages.all()))
    by_id = {stage.pk: stage for stage in stages}
    # The roadmap's topics in reading order (titles only) to number and link neighbours.
    topics = list(
        Topic.objects.published()
        .filter(stage__roadmap=roadmap)
        .only("id", "stage_id", "position", "slug", "title")
        .order_by("stage__position", "stage__slug", "position", "slug")
    )
    numbers: dict[int, int] = {}
    for sibling in topics:
        sibling.stage = by_id[sibling.stage_id]
        sibling.number = numbers[sibling.stage_id] = numbers.get(sibling.stage_id, 0) + 1
    index = next(i for i, sibling in enumerate(topics) if sibling.pk == topic.pk)
    topic.stage, topic.number = by_id[topic.stage_id], topics[index].number
    return TopicDetail(
        roadmap=roadmap,
        stage=topic.stage,
        topic=topic,
        previous=topics[index - 1] if index > 0 else None,
        next=topics[index + 1] if index + 1 < len(topics) else None,
        resources_by_kind=_group_by_kind(
            ResourceLink.ordered_resources(topic.resource_links.select_related("resource"))
        ),
    )


def _index_of(items, predicate, message: str) -> int:
    for index, item in enumerate(items):
        if predicate(item):
            return index
    raise Http404(message)


def _group_by_kind(resources) -> list[tuple[str, list[Resource]]]:
    """Resources arrive in kind order (official docs first); keep that order for the groups."""
    groups: dict[str, list[Resource]] = {}
    for resource in resources:
        groups.setdefault(resource.get_kind_display(), []).append(resource)
    return list(groups.items())
