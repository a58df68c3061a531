"""The "Content editors" group: full control of the curriculum, nothing else.

Staff members put in this group maintain roadmaps, stages, topics and resources
in the admin; they get no permission on users, progress, notes or groups.
Migration 0003 created it; this ``post_migrate`` receiver keeps it there, like
Django's own permissions, after every ``migrate`` and ``flush``.
"""

from django.apps import apps as global_apps

GROUP_NAME = "Content editors"
ROADMAP_MODELS = ["roadmap", "stage", "topic", "resource", "roadmapresource", "topicresource"]
ACTIONS = ["add", "change", "delete", "view"]


def ensure_content_editors_group(sender, *, using, apps=global_apps, **kwargs) -> None:
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # migrated back to before auth
        return
    codenames = [f"{action}_{model}" for model in ROADMAP_MODELS for action in ACTIONS]
    permissions = Permission.objects.using(using).filter(content_type__app_label="roadmap", codename__in=codenames)
    group, created = Group.objects.using(using).get_or_create(name=GROUP_NAME)
    if created:
        group.permissions.add(*permissions)
