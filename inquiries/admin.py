"""Inquiry desk admin: support agents and superusers only, whatever model permissions say; every change view is logged."""

from django.contrib import admin

from inquiries import workflow
from inquiries.models import CannedResponse, Inquiry, InquiryEvent, Message, RawMessage, ViewLog
from reimbursement import roles


def _pk(object_id) -> int | None:
    """Return the admin URL's object id as a primary key, or None for anything else (the admin answers 404 itself)."""
    text = str(object_id)
    return int(text) if text.isascii() and text.isdecimal() else None


class AgentsOnly:
    """Hide the model from everyone but support agents and superusers (patient information)."""

    def has_module_permission(self, request):
        return roles.is_support_agent(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return roles.is_support_agent(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return roles.is_support_agent(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return roles.is_support_agent(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return roles.is_support_agent(request.user) and super().has_delete_permission(request, obj)


class ReadOnlyInline(AgentsOnly, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "direction", "kind", "from_address", "subject"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = InquiryEvent
    fields = ["at", "kind", "actor", "data"]
    readonly_fields = fields


@admin.register(Inquiry)
class InquiryAdmin(AgentsOnly, admin.ModelAdmin):
    """Read-only view of tickets: status, assignment and replies change on the ticket page (workflow)."""

    list_display = ["__str__", "status", "priority", "assignee", "provider_email", "due_at", "created_at"]
    list_filter = ["status", "priority", "source"]
    search_fields = ["subject", "provider_email", "provider_name"]
    list_select_related = ["assignee"]
    readonly_fields = [f.name for f in Inquiry._meta.fields]
    inlines = [MessageInline, EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Tickets leave only through the retention command (purge_inquiries), which keeps its counts.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._log_view(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._log_view(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def _log_view(self, request, object_id) -> None:
        pk = _pk(object_id)
        if self.has_view_permission(request) and pk is not None and Inquiry.objects.filter(pk=pk).exists():
            workflow.log_view(pk, user=request.user, via=ViewLog.Via.ADMIN)


@admin.register(CannedResponse)
class CannedResponseAdmin(AgentsOnly, admin.ModelAdmin):
    list_display = ["title", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "body"]


@admin.register(RawMessage)
class RawMessageAdmin(AgentsOnly, admin.ModelAdmin):
    """Every message as received; the quarantine is the 'Quarantined' filter."""

    list_display = ["__str__", "source", "outcome", "size", "received_at"]
    list_filter = ["outcome", "source"]
    exclude = ["raw"]
    readonly_fields = [
        "sha256",
        "size",
        "source",
        "received_at",
        "outcome",
        "error",
        "duplicate_of",
        "reviewed_by",
        "reviewed_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pk = _pk(object_id)
        stored = RawMessage.objects.defer("raw").filter(pk=pk).first() if pk is not None else None
        if self.has_view_permission(request) and stored is not None:
            for inquiry_id in stored.inquiry_ids():
                workflow.log_view(inquiry_id, user=request.user, via=ViewLog.Via.ADMIN)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ViewLog)
class ViewLogAdmin(AgentsOnly, admin.ModelAdmin):
    """The access audit, read-only."""

    list_display = ["at", "user", "inquiry", "via"]
    list_filter = ["via"]
    list_select_related = ["user", "inquiry"]
    readonly_fields = ["inquiry", "user", "via", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
