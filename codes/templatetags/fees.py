"""Template filters for payment pages: money, percent and changes, formatted in one place."""

from decimal import Decimal

from django import template

from codes import pricing

register = template.Library()


@register.filter
def dollars(value):
    """Return "$1,234.56"; "-" for None."""
    return pricing.dollars(value)


@register.filter
def signed_dollars(value):
    """Return "+$12.34" / "-$12.34"; "" for None."""
    if value is None:
        return ""
    sign = "+" if value > 0 else "-" if value < 0 else "±"
    return f"{sign}${pricing.round_dollars(abs(value)):,}"


@register.filter
def signed_percent(value):
    """Return "+1.2%"; "" for None."""
    if value is None:
        return ""
    return f"{'+' if value > 0 else ''}{value}%"


@register.filter
def shown(value):
    """Return a compared value at its published precision (4.17, 34.6062, 144.31); None as "-"."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return f"{value:,}"
    return str(value) or "(blank)"
