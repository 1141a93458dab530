"""Admin of the codes app, one module per domain (imports, catalog, fees, guides)."""

from codes.admin import (
    catalog,  # noqa: F401
    fees,  # noqa: F401
    guides,  # noqa: F401
    imports,  # noqa: F401
)
