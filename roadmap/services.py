"""Writes to the curriculum. Each service is one transaction and validates before saving."""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model, ProtectedError, RestrictedError

from roadmap.importer import SLUG_MAX, ParsedResource, ParsedRoadmap, make_slug
from roadmap.models import Resource, Roadmap, RoadmapResource, Stage, Topic


class ImportFailed(ValueError):
    """The document is well-formed but cannot be applied (e.g. a value the database rejects)."""


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Content that is gone from the document but kept because learners' data points at it.
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def roadmap_import(
    *,
    document: ParsedRoadmap,
    slug: str,
    title: str | None = None,
    description: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update the roadmap ``slug`` so that it matches ``document``.

    Content is matched by slug, so a second import of the same document changes
    nothing and rows keep their ids (learners' progress points at them).
    Stages and topics missing from the document are deleted, except topics that
    other data protects (``on_delete=PROTECT``, e.g. learner progress): those
    are kept, unpublished and reported, and a later document that has them
    again publishes them again (with their progress). Topic resources added in the admin are never removed.
    With ``dry_run`` everything is rolled back and the report says what would happen.
    """
    report = ImportReport()
    with transaction.atomic():
        roadmap = _roadmap_upsert(
            report, slug=slug, title=title, description=description or document.description or None
        )
        wanted_stages = {parsed.slug for parsed in document.stages}
        existing_stages = {stage.slug: stage for stage in roadmap.stages.all()}
        for number, parsed_stage in enumerate(document.stages, start=1):
            stage = _upsert(
                report,
                existing_stages.get(parsed_stage.slug),
                Stage,
                f"stage {number} {parsed_stage.title!r}",
                parsed_stage.line,
                lookup={"roadmap": roadmap, "slug": parsed_stage.slug},
                values={"position": number, "title": parsed_stage.title, "summary": parsed_stage.summary},
            )
            existing_topics = {topic.slug: topic for topic in stage.topics.all()}
            for topic_number, parsed_topic in enumerate(parsed_stage.topics, start=1):
                topic = _upsert(
                    report,
                    existing_topics.get(parsed_topic.slug),
                    Topic,
                    f"topic {number}.{topic_number} {parsed_topic.title!r}",
                    parsed_topic.line,
                    lookup={"stage": stage, "slug": parsed_topic.slug},
                    values={
                        "position": topic_number,
                        "title": parsed_topic.title,
                        "description": parsed_topic.description,
                        "is_published": True,
                    },
                )
                if parsed_topic.links:
                    _link_topic_resources(report, topic, parsed_topic.links, f"topic {number}.{topic_number}")
            wanted_topics = {parsed.slug for parsed in parsed_stage.topics}
            _delete_topics(report, [t for s, t in existing_topics.items() if s not in wanted_topics])
        for stage_slug, stage in existing_stages.items():
            if stage_slug not in wanted_stages:
                _delete_stage(report, stage)
        if document.resources is not None:
            _sync_roadmap_resources(report, roadmap, document.resources)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _roadmap_upsert(report: ImportReport, *, slug: str, title: str | None, description: str | None) -> Roadmap:
    roadmap = Roadmap.objects.select_for_update().filter(slug=slug).first()
    if roadmap is None and not title:
        raise ImportFailed(f"Roadmap {slug!r} does not exist yet: give it a title (--title).")
    values = {"title": title, "description": description}
    values = {name: value for name, value in values.items() if value is not None}
    if roadmap is None:
        position = (Roadmap.objects.aggregate(last=Max("position"))["last"] or 0) + 1
        values["position"] = position
    return _upsert(report, roadmap, Roadmap, f"roadmap {slug!r}", 0, lookup={"slug": slug}, values=values)


def _upsert(report: ImportReport, obj, model: type[Model], label: str, line: int, *, lookup: dict, values: dict):
    """Create ``model(**lookup, **values)`` or update ``obj`` with ``values``; report what changed."""
    if obj is None:
        obj = model(**lookup, **values)
        _validate(obj, label, line)
        obj.save()
        report.created.append(label)
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        _validate(obj, label, line)
        obj.save(update_fields=changed)
        report.updated.append(f"{label} ({', '.join(changed)})")
    return obj


def _validate(obj: Model, label: str, line: int) -> None:
    try:
        obj.full_clean()
    except ValidationError as error:
        where = f"line {line}: " if line else ""
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        raise ImportFailed(f"{where}{label} is invalid ({problems})") from None


def _resource_upsert(report: ImportReport, parsed: ParsedResource, *, update: bool = True) -> Resource:
    """Find a resource by URL (or, without a URL, by title slug), creating it if needed."""
    if parsed.url:
        resource = Resource.objects.filter(url=parsed.url).first()
    else:
        resource = Resource.objects.filter(slug=parsed.slug, url="").first()
    values = {"title": parsed.title, "kind": parsed.kind, "author": parsed.author, "is_free": parsed.is_free}
    label = f"resource {parsed.title!r}"
    if resource is None:
        return _upsert(
            report,
            None,
            Resource,
            label,
            parsed.line,
            lookup={"slug": _free_resource_slug(parsed.slug)},
            values={**values, "url": parsed.url},
        )
    if update:
        return _upsert(report, resource, Resource, label, parsed.line, lookup={}, values=values)
    return resource


def _link_topic_resources(report: ImportReport, topic: Topic, parsed: list[ParsedResource], label: str) -> None:
    """Add the document's links to the topic after its existing ones; never remove a link."""
    positions = dict(topic.resource_links.values_list("resource_id", "position"))
    for item in parsed:
        resource = _resource_upsert(report, item, update=False)
        if resource.pk not in positions:
            positions[resource.pk] = max(positions.values(), default=0) + 1
            topic.resources.add(resource, through_defaults={"position": positions[resource.pk]})
            report.updated.append(f"{label} {topic.title!r}: added {resource.title!r}")


def _free_resource_slug(base: str) -> str:
    """``base``, else ``base-2``, ``base-3``… with ``base`` shortened so that the suffix fits the column."""
    slug, suffix = base, 2
    while Resource.objects.filter(slug=slug).exists():
        tail = f"-{suffix}"
        slug = make_slug(base[: SLUG_MAX - len(tail)]) + tail
        suffix += 1
    return slug


def _sync_roadmap_resources(report: ImportReport, roadmap: Roadmap, parsed: list[ParsedResource]) -> None:
    """Make the roadmap's resources exactly the document's, in the document's order."""
    links = {link.resource_id: link for link in roadmap.resource_links.select_related("resource")}
    wanted: list[int] = []
    for position, item in enumerate(parsed, start=1):
        resource = _resource_upsert(report, item)
        wanted.append(resource.pk)
        link = links.get(resource.pk)
        if link is None:
            RoadmapResource.objects.create(roadmap=roadmap, resource=resource, position=position)
            report.updated.append(f"roadmap resources: added {resource.title!r}")
        elif link.position != position:
            link.position = position
            link.save(update_fields=["position"])
            report.updated.append(f"roadmap resources: moved {resource.title!r} to position {position}")
    for resource_id, link in links.items():
        if resource_id not in wanted:
            link.delete()
            report.updated.append(f"roadmap resources: removed {link.resource.title!r}")


def _delete_topics(report: ImportReport, topics: list[Topic]) -> bool:
    """Delete ``topics`` one by one; keep (unpublished, and report) any that learners' data protects."""
    all_deleted = True
    for topic in topics:
        try:
            with transaction.atomic():
                topic.delete()
        except (ProtectedError, RestrictedError):
            all_deleted = False
            if topic.is_published:
                topic.is_published = False
                topic.save(update_fields=["is_published"])
            report.kept.append(
                f"topic {topic.title!r} in stage {topic.stage.title!r}: learners' progress points at it (unpublished)"
            )
        else:
            report.deleted.append(f"topic {topic.title!r} (stage {topic.stage.title!r})")
    return all_deleted


def _delete_stage(report: ImportReport, stage: Stage) -> None:
    if _delete_topics(report, list(stage.topics.all())):
        stage.delete()
        report.deleted.append(f"stage {stage.title!r}")
    else:
        report.kept.append(f"stage {stage.title!r}: it still holds topics with learners' progress")
