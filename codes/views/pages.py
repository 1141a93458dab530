"""Pages of the codes app that have no domain module of their own; the lookup lives with the catalog views."""

from codes.views.catalog import lookup  # noqa: F401
