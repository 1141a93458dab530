"""Template filters of the inquiry desk."""

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

register = template.Library()

# One format for every time agents see, with the zone: "Dec 3, 2026, 1:05 p.m. CST".
STAMP = "M j, Y, g:i a T"


@register.filter
def stamp(value):
    """Return an aware datetime in the site's time zone with the zone's abbreviation; "" for None."""
    if not value:
        return ""
    return date_format(timezone.localtime(value), STAMP)
