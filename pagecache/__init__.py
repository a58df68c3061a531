"""Versioned caching of rendered HTML, independent of the apps that use it.

Two tools, both keyed by a version the caller supplies (the curriculum's
content version), so nothing is ever invalidated by hand and nothing is stale:

- ``fragment()``: the shared part of a page, rendered once per version and
  kept in Django's cache with named slots, which ``Fragment.fill()`` fills per
  request with the viewer's own values (statuses, progress bars, the CSRF
  token). A learner's write never renders the shared part again.
- ``public_page()``: a view decorator that stores whole pages for visitors
  without a login (they hold nothing private), with an ETag.

It imports nothing from the project's apps (``make lint`` checks it); the
design and its measurements are in ``docs/architecture.md`` and
``docs/performance.md``.
"""

from pagecache.fragments import CSRF_SLOT, Fragment, fragment, slot
from pagecache.keys import make_key
from pagecache.pages import public_page

__all__ = ["CSRF_SLOT", "Fragment", "fragment", "make_key", "public_page", "slot"]
