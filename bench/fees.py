"""Benchmark: fee-schedule import vs bare COPY on PostgreSQL, and pricing throughput. Prints; asserts nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rd_bench_fees .venv/bin/python bench/fees.py

The database named in DATABASE_URL is dropped and re-created (default rd_bench_fees). CMS files come from
CMS_DATA_DIR (default ../shared/data).
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reimbursement.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rd_bench_fees")

FILES = [
    "cms/2022/PPRRVU22_JAN.csv",
    "cms/2022/GPCI2022.xlsx",
    "cms/2022/ASC_Addendum_AA_2022_JAN.csv",
    "cms/2022/ASC_Addendum_BB_2022_JAN.csv",
    "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx",
]
PRICING_LINES = 100_000
ESTIMATE_CASES = 1_000  # each estimate() fetches its rows: a handful of queries per case


def fresh_database(url: str) -> None:
    """Drop and re-create the benchmark database, then migrate it."""
    import psycopg
    from django.core.management import call_command

    name = url.rsplit("/", 1)[-1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)


def fee_importers() -> dict:
    from codes.importers import asc_addenda, gpci, opps_addendum_b, pprrvu

    return {imp.kind: imp for module in (pprrvu, gpci, asc_addenda, opps_addendum_b) for imp in module.IMPORTERS}


def time_imports(data_dir: Path) -> tuple[float, dict[str, tuple[int, float]], list]:
    """Run the fee importers (parse, validate, bulk write, change report) in one transaction."""
    from django.db import transaction

    from codes.importers.base import SourceFile

    importers = fee_importers()
    per_file, sources = {}, []
    started = time.perf_counter()
    with transaction.atomic():
        for name in FILES:
            source = SourceFile(name=Path(name).name, path=data_dir / name)
            (importer,) = [imp for imp in importers.values() if imp.looks_like(source)]
            t0 = time.perf_counter()
            result = importer.run([source])
            per_file[source.name] = (result.counts["rows"], time.perf_counter() - t0)
            sources.append((importer, source))
    return time.perf_counter() - started, per_file, sources


def time_copy(sources: list) -> tuple[float, float, int]:
    """COPY the same parsed rows into the same tables (rows built beforehand); return (copy s, parse s, rows)."""
    from django.apps import apps
    from django.db import connection, transaction

    from codes.models import FeeRelease

    t0 = time.perf_counter()
    batches = []
    for importer, source in sources:
        model = apps.get_model("codes", importer.model_name)
        rows = [(row.line, importer.to_fields(row)) for row in importer.parse(source)]
        if importer.exact_duplicates_ok:
            seen, unique = set(), []
            for line, fields in rows:
                key = tuple(fields[f] for f in importer.key_fields)
                if key not in seen:
                    seen.add(key)
                    unique.append((line, fields))
            rows = unique
        batches.append((importer, model, rows))
    parse_seconds = time.perf_counter() - t0
    total = 0
    started = time.perf_counter()
    with transaction.atomic():
        for importer, model, rows in batches:
            release = FeeRelease.objects.create(
                kind=importer.kind, year=1999, label="bench", effective_from="1999-01-01", source_name="bench", sha256="0" * 64
            )
            columns = ["release_id", "line", *rows[0][1].keys()]
            names = ", ".join(f'"{model._meta.get_field(c[:-3] if c == "release_id" else c).column}"' for c in columns)
            with connection.cursor() as cursor, cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy:
                for line, fields in rows:
                    copy.write_row([release.pk, line, *fields.values()])
            total += len(rows)
        transaction.set_rollback(True)
    return time.perf_counter() - started, parse_seconds, total


def time_pricing() -> tuple[float, float, int]:
    """Price 100,000 RVU rows (pure functions), then 1,000 ten-line cases through estimate() with its queries."""
    from datetime import date

    from codes import pricing
    from codes.models import PhysicianFee

    rows = list(PhysicianFee.objects.filter(status_code__in=["A", "R", "T"])[:5000])
    alaska = pricing.Gpci(Decimal("1.500"), Decimal("1.118"), Decimal("0.614"), "02102-01", "AK ALASKA")
    started = time.perf_counter()
    for index in range(PRICING_LINES):
        pricing.price_physician_row(
            rows[index % len(rows)],
            gpci=alaska,
            conversion_factor=Decimal("34.6062"),
            cf_note="bench",
            release="bench",
            year=2022,
        )
    pure = time.perf_counter() - started
    codes = ["62362", "62350", "62322", "62323", "62355", "62365", "62367", "62368", "62369", "62370"]
    lines = [pricing.EstimateLine(code) for code in codes]
    cases = ESTIMATE_CASES
    started = time.perf_counter()
    for _ in range(cases):
        pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=lines)
    return pure, time.perf_counter() - started, cases


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench/fees.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    data_dir = Path(settings.CMS_DATA_DIR)
    if not (data_dir / "cms").is_dir():
        sys.exit(f"CMS files not found in CMS_DATA_DIR={data_dir}")
    fresh_database(os.environ["DATABASE_URL"])
    total, per_file, sources = time_imports(data_dir)
    print("Fee-schedule import on PostgreSQL (parse + validate + bulk write + change report, one transaction):")
    for name, (rows, seconds) in per_file.items():
        print(f"  {name:50s} {rows:>7,} rows  {seconds:6.2f} s  ({rows / seconds:,.0f} rows/s)")
    rows_total = sum(rows for rows, _ in per_file.values())
    print(f"  {'total':50s} {rows_total:>7,} rows  {total:6.2f} s  (target < 10 s)")
    copy_seconds, parse_seconds, copied = time_copy(sources)
    print(f"Bare COPY of the same {copied:,} rows into the same tables: {copy_seconds:.2f} s")
    print(f"  (the rows were parsed beforehand, in {parse_seconds:.2f} s)")
    print(
        f"  import / COPY = {total / copy_seconds:.1f}x;  import / (parse + COPY) = {total / (copy_seconds + parse_seconds):.2f}x"
    )
    pure, estimated, cases = time_pricing()
    rate = PRICING_LINES / pure
    print(f"Pricing {PRICING_LINES:,} physician rows (pure Decimal, locality GPCIs): {pure:.2f} s ({rate:,.0f} lines/s)")
    print(
        f"estimate(): {cases:,} ASC cases x 10 lines = {cases * 10:,} lines with DB fetches: {estimated:.2f} s "
        f"({cases * 10 / estimated:,.0f} lines/s, {cases / estimated:,.0f} cases/s)"
    )


if __name__ == "__main__":
    main()
