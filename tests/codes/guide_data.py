"""Real CMS/NCHS files for the guide and claim-check tests, imported once per test module.

Imported outside any test transaction (so every test of the module reads them) and removed again when
the module is done: every row added since the module started is deleted, and rows that were there before
(role groups, conversion factors seeded by migrations) are kept, so other modules find the database as
they expect it.
"""

from pathlib import Path

from django.apps import apps
from django.db import models, transaction
from django.db.models import Max

from codes import starter
from codes.importers import registry

ICD_FY2021 = ["icd10cm/fy2021/icd10cm-order-Jan-2021.txt", "icd10cm/fy2021/icd10cm_tabular_2021.xml"]
CMS_2022 = [
    "cms/2022/PPRRVU22_JAN.csv",
    "cms/2022/GPCI2022.xlsx",
    "cms/2022/ASC_Addendum_AA_2022_JAN.csv",
    "cms/2022/ASC_Addendum_BB_2022_JAN.csv",
    "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx",
]
CMS_2023 = [
    "cms/2023/PPRRVU23_JAN.csv",
    "cms/2023/ASC_Addendum_AA_2023_JAN.csv",
    "cms/2023/ASC_Addendum_BB_2023_JAN.csv",
    "cms/2023/2023_January_Web_Addendum_B.12212022.xlsx",
]
INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def _high_water() -> dict:
    """Return {model: highest primary key now (None: empty)} for models with integer keys, {model: count} else."""
    marks = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            if isinstance(model._meta.pk, INTEGER_KEYS):
                marks[model] = ("max", model._base_manager.aggregate(top=Max("pk"))["top"])
            else:
                marks[model] = ("count", model._base_manager.count())
    return marks


def _remove_added(marks: dict) -> None:
    # One transaction: foreign keys are checked at commit (deferred on PostgreSQL and SQLite), so order does not matter.
    with transaction.atomic():
        for model, (kind, value) in marks.items():
            if kind == "max":
                rows = model._base_manager.all() if value is None else model._base_manager.filter(pk__gt=value)
            elif value == 0:
                rows = model._base_manager.all()
            else:
                continue
            rows._raw_delete(rows.db)


def load(django_db_blocker, data_dir: Path, relative_paths: list[str]):
    """Import the files and the guides; return a function that removes them again."""
    with django_db_blocker.unblock():
        marks = _high_water()
        registry.run_import([data_dir / p for p in relative_paths])
        for path in starter.GUIDE_FILES:
            starter.load_guide(starter.guide_data(path))

    def remove():
        with django_db_blocker.unblock():
            _remove_added(marks)

    return remove
