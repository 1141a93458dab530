"""Seed the conversion factors in force (DOMAIN.md A1 table; ASC/OPPS computed from the January files)."""

from datetime import date
from decimal import Decimal

from django.db import migrations

# kind, from, to, value, labor share, source
FACTORS = [
    ("physician", date(2021, 1, 1), date(2021, 12, 31), "34.8931", None, "CY2021 PFS (mcdermottplus.com)"),
    ("physician", date(2022, 1, 1), date(2022, 12, 31), "34.6062", None, "CY2022 PFS as amended by PL 117-71 (RVU22A file)"),
    ("anesthesia", date(2022, 1, 1), date(2022, 12, 31), "21.5623", None, "CY2022 anesthesia CF (aafp.org)"),
    ("physician", date(2023, 1, 1), date(2023, 12, 31), "33.8872", None, "CY2023 PFS as amended by CAA 2023 (RVU23A file)"),
    ("physician", date(2024, 1, 1), date(2024, 3, 8), "32.7442", None, "CY2024 final rule, DOS Jan 1 - Mar 8"),
    ("physician", date(2024, 3, 9), date(2024, 12, 31), "33.2875", None, "CAA 2024 +2.93%, DOS Mar 9 - Dec 31"),
    ("physician", date(2025, 1, 1), date(2025, 12, 31), "32.3465", None, "CY2025 final rule (acms.org)"),
    ("anesthesia", date(2025, 1, 1), date(2025, 12, 31), "20.3178", None, "CY2025 final rule (acms.org)"),
    ("asc", date(2022, 1, 1), date(2022, 12, 31), "49.9160", "0.5000", "Addendum AA Jan 2022: rate / weight of A2/G2 codes"),
    ("asc", date(2023, 1, 1), date(2023, 12, 31), "51.8540", "0.5000", "Addendum AA Jan 2023: rate / weight of A2/G2 codes"),
    ("opps", date(2022, 1, 1), date(2022, 12, 31), "84.1770", "0.6000", "Addendum B Jan 2022: rate / weight"),
    ("opps", date(2023, 1, 1), date(2023, 12, 31), "85.5850", "0.6000", "Addendum B Jan 2023: rate / weight"),
]


def seed(apps, schema_editor):
    ConversionFactor = apps.get_model("codes", "ConversionFactor")
    for kind, start, end, value, labor, source in FACTORS:
        ConversionFactor.objects.update_or_create(
            kind=kind,
            effective_from=start,
            defaults={
                "effective_to": end,
                "value": Decimal(value),
                "labor_share": Decimal(labor) if labor else None,
                "source": source,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("codes", "0005_fee_schedules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
