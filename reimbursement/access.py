"""Access rules shared by pages and the API: public lookups, agent-only inquiries."""

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from reimbursement import roles


def lookups_allowed(user) -> bool:
    """Return whether this user may use code and payment lookups."""
    return not settings.LOOKUPS_REQUIRE_LOGIN or user.is_authenticated


def lookup_view(view):
    """Public unless LOOKUPS_REQUIRE_LOGIN is on; then anonymous users are sent to log in."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not lookups_allowed(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def support_agent_required(view):
    """Only support agents and superusers; anonymous users log in first, others get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not roles.is_support_agent(request.user):
            raise PermissionDenied("Inquiries are open to support agents only.")
        return view(request, *args, **kwargs)

    return wrapper


def reimbursement_team_required(view):
    """Only the reimbursement team and superusers (imports, guide maintenance)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not roles.is_reimbursement_team(request.user):
            raise PermissionDenied("This page is for the reimbursement team.")
        return view(request, *args, **kwargs)

    return wrapper


class LookupPermission(BasePermission):
    """API: lookups are public unless LOOKUPS_REQUIRE_LOGIN is on."""

    message = "Log in to use lookups."

    def has_permission(self, request, view):
        return lookups_allowed(request.user)


class IsSupportAgent(BasePermission):
    """API: inquiries are for support agents and superusers only."""

    message = "Inquiries are open to support agents only."

    def has_permission(self, request, view):
        return roles.is_support_agent(request.user)
