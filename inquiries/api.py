"""Inquiry desk API (support agents only)."""


def register(router) -> None:
    """Register this app's viewsets on the project router."""
