"""Starter data for `make run`: each app contributes a loader; every loader is idempotent."""

import importlib

# Modules exposing load_starter_data() -> list[str] (lines to print). Add yours here.
STARTER_LOADERS: list[str] = [
    "codes.starter",
    "inquiries.starter",
]


def load_all() -> list[str]:
    lines: list[str] = []
    for module_name in STARTER_LOADERS:
        lines.extend(importlib.import_module(module_name).load_starter_data())
    if not lines:
        lines.append("No starter data defined.")
    return lines
