"""The site's 500 handler: a database that cannot be reached for a moment is a 503, not a bug.

During a database restart or failover every request that needs the database
fails. Those failures are still logged as errors (with the traceback), but the
visitor is told the truth: the site is briefly unavailable, nothing saved
before is lost, and trying again in a few seconds will work. ``Retry-After``
says the same to scripts and crawlers, and nginx and load balancers count a
503 as the app's answer, not as a crash.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 5


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    # Django calls this handler while it handles the exception, so sys.exc_info() is that exception.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name)
