"""The queue filters, shared by the agents' queue page and the API."""

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from inquiries.models import CodeLink, Inquiry, Message
from reimbursement import roles

ACTIVE = "active"


def agents(request=None):
    """Return the users who may work inquiries."""
    return (
        get_user_model()
        .objects.filter(Q(groups__name=roles.SUPPORT_AGENTS) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


class OverdueWidget(django_filters.widgets.BooleanWidget):
    """true/false in the URL (as the API takes it), with words an agent reads."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = [("", "Any"), ("true", "Overdue only"), ("false", "Not overdue")]


class InquiryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(ACTIVE, "Active (new, open, waiting)"), *Inquiry.Status.choices],
        method="filter_status",
        empty_label="Any status",
    )
    assignee = django_filters.ModelChoiceFilter(queryset=agents, null_label="Unassigned", empty_label="Anyone")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue", widget=OverdueWidget)
    code = django_filters.CharFilter(method="filter_code", label="Code")
    q = django_filters.CharFilter(method="filter_text", label="Text")
    priority = django_filters.ChoiceFilter(choices=Inquiry.Priority.choices, empty_label="Any priority")

    class Meta:
        model = Inquiry
        fields = ["status", "assignee", "priority", "overdue", "code", "q"]

    def filter_status(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.filter(status__in=Inquiry.ACTIVE_STATUSES)
        return queryset.filter(status=value)

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = Q(status__in=Inquiry.SLA_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)

    def filter_code(self, queryset, name, value):
        code = "".join(value.split()).replace(".", "").upper()
        if not code:
            return queryset
        return queryset.filter(pk__in=CodeLink.objects.filter(code=code).values("inquiry_id"))

    def filter_text(self, queryset, name, value):
        """Match the reference (RD-12 or 12), subject, provider, or any message's subject or text."""
        value = value.strip()
        if not value:
            return queryset
        query = Q(subject__icontains=value) | Q(provider_name__icontains=value) | Q(provider_email__icontains=value)
        number = value.upper().removeprefix("RD-")
        if number.isdecimal():
            query |= Q(pk=int(number))
        in_messages = Message.objects.filter(
            Q(text__icontains=value) | Q(subject__icontains=value), inquiry__isnull=False
        ).values("inquiry_id")
        return queryset.filter(query | Q(pk__in=in_messages))
