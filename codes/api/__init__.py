"""Code catalog and payment API, one module per domain, registered on the project router."""

import importlib

# Modules exposing register(router). Add yours here.
API_MODULES: list[str] = [
    "codes.api.catalog",
    "codes.api.fees",
    "codes.api.guides",
]


def register(router) -> None:
    """Register this app's viewsets on the project router."""
    for module_name in API_MODULES:
        importlib.import_module(module_name).register(router)
