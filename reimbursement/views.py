"""Project-level pages: home, health check and error handlers."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from reimbursement.api import error_body

logger = logging.getLogger(__name__)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; point them at the SVG icon."""
    return redirect(static("img/favicon.svg"), permanent=True)


def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """Answer 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        # The reason goes to the log, not to whoever asks (it can name hosts and users).
        logger.exception("health check: the database does not answer")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


def _wants_json(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception=None):
    if _wants_json(request):
        return JsonResponse(error_body(404, "not_found", "Not found."), status=404)
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to see this page."
    if _wants_json(request):
        return JsonResponse(error_body(403, "permission_denied", message), status=403)
    return render(request, "403.html", {"message": message}, status=403)


def bad_request(request, exception=None, *, message: str = "Bad request."):
    if _wants_json(request):
        return JsonResponse(error_body(400, "bad_request", message), status=400)
    return render(request, "400.html", {"message": message}, status=400)


def server_error(request):
    if _wants_json(request):
        return JsonResponse(error_body(500, "server_error", "Server error."), status=500)
    return render(request, "500.html", status=500)
