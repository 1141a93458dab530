"""Code catalog and payment API (read-only lookups, estimates)."""


def register(router) -> None:
    """Register this app's viewsets on the project router."""
