"""Keep ``Topic.content_updated_at`` true whatever changes the content.

Learners who completed a topic see an "updated since you completed it" mark
when its description or resources change afterwards. Every path that changes
content goes through these receivers: the admin, the importer (which saves
with ``update_fields``) and ``loaddata`` (raw saves of whole rows, which must
not reset the timestamp the fixture does not carry).

``loaddata`` (the project's, ``roadmap/management/commands/loaddata.py``) runs
inside ``loading_fixtures()``: topics it creates arrive with their links, which
therefore do not count as a change (a restored backup keeps its timestamps).
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.apps import apps as global_apps
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from roadmap.models import Topic, TopicResource

# Ids of the topics the running loaddata created; None outside loaddata.
_loaded_topics: ContextVar[set[int] | None] = ContextVar("loaded_topics", default=None)


@contextmanager
def loading_fixtures() -> Iterator[None]:
    token = _loaded_topics.set(set())
    try:
        yield
    finally:
        _loaded_topics.reset(token)


def _touch(topic_id: int) -> None:
    Topic.objects.filter(pk=topic_id).update(content_updated_at=timezone.now())


@receiver(pre_save, sender=Topic)
def topic_track_description(sender, instance: Topic, update_fields=None, **kwargs) -> None:
    instance.description_changed = False
    if instance.pk is None or (update_fields is not None and "description" not in update_fields):
        return
    old = Topic.objects.filter(pk=instance.pk).values("description", "content_updated_at").first()
    if old is None:
        return
    if old["description"] != instance.description:
        instance.content_updated_at = timezone.now()
        instance.description_changed = True
    else:
        # A fixture row does not carry the timestamp: keep the stored one.
        instance.content_updated_at = old["content_updated_at"]


@receiver(post_save, sender=Topic)
def topic_save_timestamp(sender, instance: Topic, created=False, raw=False, update_fields=None, **kwargs) -> None:
    loaded = _loaded_topics.get()
    if raw and created and loaded is not None:
        loaded.add(instance.pk)
    if instance.description_changed and update_fields is not None and "content_updated_at" not in update_fields:
        _touch(instance.pk)


@receiver(pre_save, sender=TopicResource)
def link_track_resource(sender, instance: TopicResource, **kwargs) -> None:
    old_resource = None
    if instance.pk is not None:
        old_resource = TopicResource.objects.filter(pk=instance.pk).values_list("resource_id", flat=True).first()
    instance.resource_changed = old_resource != instance.resource_id


@receiver(post_save, sender=TopicResource)
def link_saved(sender, instance: TopicResource, raw=False, **kwargs) -> None:
    loaded = _loaded_topics.get()
    if raw and loaded is not None and instance.topic_id in loaded:
        return  # the topic arrived in this load, together with its links
    if instance.resource_changed:
        _touch(instance.topic_id)


@receiver(post_delete, sender=TopicResource)
def link_deleted(sender, instance: TopicResource, **kwargs) -> None:
    _touch(instance.topic_id)


def ensure_content_version(sender, *, using, apps=global_apps, **kwargs) -> None:
    """Keep the content version's row (``post_migrate``): a flush empties its table too."""
    try:
        ContentVersion = apps.get_model("roadmap", "ContentVersion")
    except LookupError:  # migrated back to before it
        return
    ContentVersion.objects.using(using).get_or_create(pk=1, defaults={"value": uuid.uuid4().hex})
