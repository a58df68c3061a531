"""The "Content editors" group: full control of the curriculum, nothing else.

Staff members put in this group maintain roadmaps, stages, topics and
resources in the admin. They get no permission on users, progress, notes or
groups: learner data stays out of their reach.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_NAME = "Content editors"
ROADMAP_MODELS = ["roadmap", "stage", "topic", "resource", "roadmapresource", "topicresource"]
ACTIONS = ["add", "change", "delete", "view"]


def create_content_editors_group(apps, schema_editor):
    db_alias = schema_editor.connection.alias
    # Permissions are normally created after migrate (post_migrate): on a new
    # database they do not exist yet, so create the roadmap app's now.
    app_config = apps.get_app_config("roadmap")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=db_alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    codenames = [f"{action}_{model}" for model in ROADMAP_MODELS for action in ACTIONS]
    permissions = list(
        Permission.objects.using(db_alias).filter(content_type__app_label="roadmap", codename__in=codenames)
    )
    if len(permissions) != len(codenames):
        missing = set(codenames) - {permission.codename for permission in permissions}
        raise RuntimeError(f"Missing roadmap permissions: {', '.join(sorted(missing))}")
    group, _ = Group.objects.using(db_alias).get_or_create(name=GROUP_NAME)
    group.permissions.add(*permissions)


def delete_content_editors_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name=GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_learner_profile_progress_notes"),
        ("roadmap", "0002_topic_content_updated_at"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_content_editors_group, delete_content_editors_group, elidable=False),
    ]
