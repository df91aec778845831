"""The answer to an error nobody caught (Django's handler500).

A database that does not answer — restarting, failing over, out of connections — is not a bug
of ours: the caller gets 503 with Retry-After and a plain message (JSON for the API and the
feeds, a page otherwise), and the next request reconnects by itself (CONN_HEALTH_CHECKS).
Anything else is a 500. Either way Django has already logged the traceback. Nothing here
touches the database: the page renders without the request's context processors.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

RETRY_AFTER_SECONDS = 30


def database_unavailable(error: BaseException | None) -> bool:
    return isinstance(error, OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    if database_unavailable(sys.exc_info()[1]):
        status = 503
        message = _("The database is not answering at the moment. Please try again in a "
                    "minute.")
    else:
        status = 500
        message = _("Something went wrong on our side and it has been logged. Please try "
                    "again later.")
    response: HttpResponse
    if request.path.startswith(("/api/", "/ical/")):
        response = JsonResponse({"detail": message}, status=status)
    else:
        page = loader.get_template("500.html").render({"status": status, "message": message})
        response = HttpResponse(page, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
