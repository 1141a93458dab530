"""Dashboard figures: inquiries per week, median first response and resolution times, top codes asked about."""

from __future__ import annotations

import datetime
import statistics
from collections import Counter

from django.db.models import Count
from django.utils import timezone

from inquiries import code_links
from inquiries.models import CodeLink, Inquiry


def week_start(day: datetime.date) -> datetime.date:
    """Return the Monday of the week containing `day`."""
    return day - datetime.timedelta(days=day.weekday())


def per_week(*, weeks: int = 12, today: datetime.date | None = None) -> list[tuple[datetime.date, int]]:
    """Return (Monday, inquiries created that week) for the last `weeks` weeks, oldest first, zeros included."""
    today = today or timezone.localdate()
    first = week_start(today) - datetime.timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    counts = Counter(
        week_start(timezone.localtime(at).date())
        for at in Inquiry.objects.filter(created_at__gte=start).values_list("created_at", flat=True)
    )
    return [(first + datetime.timedelta(weeks=i), counts.get(first + datetime.timedelta(weeks=i), 0)) for i in range(weeks)]


def median_hours(pairs) -> float | None:
    """Return the median of (start, end) durations in hours, or None without data."""
    hours = [(end - begin).total_seconds() / 3600 for begin, end in pairs if begin and end and end >= begin]
    return round(statistics.median(hours), 1) if hours else None


def median_first_response_hours(*, since: datetime.datetime | None = None) -> float | None:
    """Return the median time from arrival to the first public reply."""
    rows = Inquiry.objects.filter(first_response_at__isnull=False)
    if since:
        rows = rows.filter(created_at__gte=since)
    return median_hours(rows.values_list("created_at", "first_response_at"))


def median_resolution_hours(*, since: datetime.datetime | None = None) -> float | None:
    """Return the median time from arrival to resolution."""
    rows = Inquiry.objects.filter(resolved_at__isnull=False)
    if since:
        rows = rows.filter(created_at__gte=since)
    return median_hours(rows.values_list("created_at", "resolved_at"))


def top_codes(*, limit: int = 10) -> list[tuple[str, int]]:
    """Return ('CPT 62362', number of inquiries) for the codes asked about most."""
    rows = (
        CodeLink.objects.values("system", "code")
        .annotate(n=Count("inquiry", distinct=True))
        .order_by("-n", "system", "code")[:limit]
    )
    return [(f"{CodeLink.System(r['system']).label} {code_links.display(r['system'], r['code'])}", r["n"]) for r in rows]


def status_counts() -> dict[str, int]:
    """Return the number of inquiries per status label."""
    counts = dict(Inquiry.objects.values_list("status").annotate(n=Count("pk")))
    return {label: counts.get(value, 0) for value, label in Inquiry.Status.choices}
