"""Real CMS/NCHS files for the guide and claim-check tests, imported once per test module.

Imported outside any test transaction (so every test of the module reads them) and flushed when the
module is done, so other test modules find the database as pytest-django left it.
"""

from pathlib import Path

from django.core.management import call_command

from codes import starter
from codes.importers import registry

ICD_FY2021 = ["icd10cm/fy2021/icd10cm-order-Jan-2021.txt", "icd10cm/fy2021/icd10cm_tabular_2021.xml"]
ICD_FY2025 = ["icd10cm/fy2025/code-list-April-2025.txt", "icd10cm/fy2025/icd10cm-tabular-April-2025.xml"]
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


def load(django_db_blocker, data_dir: Path, relative_paths: list[str]):
    """Import the files and the guides; return a function that empties the database again."""
    with django_db_blocker.unblock():
        registry.run_import([data_dir / p for p in relative_paths])
        for path in starter.GUIDE_FILES:
            starter.load_guide(starter.guide_data(path))

    def flush():
        with django_db_blocker.unblock():
            # flush re-runs post_migrate, which recreates the role groups the other tests expect.
            call_command("flush", interactive=False, verbosity=0)

    return flush
