"""Read replica routing: only anonymous page views read from the replica.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database and this
router. Replicas lag behind the primary (usually by milliseconds), so only
reads that can tolerate that go there: GET and HEAD requests of visitors who
are not logged in (no session cookie), which see the curriculum and public
profiles. A learner's own pages, every write, the admin and management
commands use the primary, so learners always read back what they just ticked
and percentages never go stale.
"""

from django.conf import settings

from roadmap_site.logging import current_request

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def reads_may_lag() -> bool:
    request = current_request.get()
    return (
        request is not None
        and request.method in SAFE_METHODS
        # The cookie, not request.user: deciding must not itself run a query.
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return REPLICA if reads_may_lag() else "default"

    def db_for_write(self, model, **hints) -> str:
        return "default"

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Replicas receive the schema through replication.
        return db == "default"
