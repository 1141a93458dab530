"""Admin of the codes app, one module per domain (imports, catalog, fees, guides)."""

from codes.admin import imports  # noqa: F401
from codes.admin import catalog  # noqa: F401
from codes.admin import guides  # noqa: F401
from codes.admin import fees  # noqa: F401
