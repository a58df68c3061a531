"""Keep ``User.state_version`` true: a new value whenever what a learner's pages show of them changes.

Pages rendered for a learner are cached under it (``roadmap/caching.py``).
Progress and notes change it in the transaction that changes them, whoever
changes them (the services, the admin, a data load); a full save of the user
(the profile form, the admin) changes it too. Saves of chosen fields only
(``last_login`` at each log-in) leave it alone.
"""

import uuid

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import Note, Progress, User


def new_state_version() -> str:
    return uuid.uuid4().hex


def learner_changed(sender, instance, **kwargs) -> None:
    User.objects.filter(pk=instance.user_id).update(state_version=new_state_version())


for _model in (Progress, Note):
    post_save.connect(learner_changed, sender=_model, dispatch_uid=f"state-version-save-{_model.__name__}")
    post_delete.connect(learner_changed, sender=_model, dispatch_uid=f"state-version-delete-{_model.__name__}")


@receiver(pre_save, sender=User, dispatch_uid="state-version-user")
def user_saved(sender, instance: User, update_fields=None, **kwargs) -> None:
    if update_fields is None:
        instance.state_version = new_state_version()
