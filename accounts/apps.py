from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from accounts.editors import ensure_content_editors_group

        # After the curriculum app's permissions exist: on every migrate, and after a flush.
        post_migrate.connect(ensure_content_editors_group, sender=apps.get_app_config("roadmap"))
