"""Import the FY2021 ICD-10-CM order file on PostgreSQL next to a bare COPY of the same file; print the ratio.

    .venv/bin/python bench/import.py        (needs PostgreSQL at BENCH_PG_ADMIN_URL, default postgres@127.0.0.1)

The import runs three times, each into an empty catalog (a fresh database), and the best time is kept;
the COPY loads the raw lines into a one-column table, also best of three. Nothing is asserted.
"""

import os
import time

import _catalog_db

DATABASE = os.environ.get("BENCH_DATABASE", "rd_bench_import")
RUNS = 3


def main() -> None:
    _catalog_db.drop(DATABASE)
    _catalog_db.setup(DATABASE)
    from django.conf import settings
    from django.db import connection, transaction

    from codes.importers import registry
    from codes.models import Code, CodeVersion, Release

    path = settings.CMS_DATA_DIR / "icd10cm" / "fy2021" / "icd10cm-order-Jan-2021.txt"
    data = path.read_bytes()

    copies = []
    for _ in range(RUNS):
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_order_lines")
            cursor.execute("CREATE TABLE bench_order_lines (line text)")
        start = time.perf_counter()
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            cursor.cursor.copy("COPY bench_order_lines (line) FROM STDIN") as copy,
        ):
            copy.write(data.replace(b"\r\n", b"\n"))
        copies.append(time.perf_counter() - start)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_order_lines")
        copied = cursor.fetchone()[0]
        cursor.execute("DROP TABLE bench_order_lines")

    imports = []
    for _ in range(RUNS):
        CodeVersion.objects.all().delete()
        Code.objects.all().delete()
        Release.objects.all().delete()
        start = time.perf_counter()
        (result,) = registry.run_import([path])
        imports.append(time.perf_counter() - start)

    best_import, best_copy = min(imports), min(copies)
    print(f"file: {path.name} ({len(data):,} bytes, {copied:,} lines)")
    print(
        f"import_data (parse, validate, codes + versions, search indexes, change report): best {best_import:.2f} s of {RUNS} "
        f"({', '.join(f'{t:.2f}' for t in imports)})"
    )
    print(f"  {result.summary()}")
    print(f"bare COPY into a one-column table: best {best_copy:.3f} s of {RUNS}")
    print(f"ratio import / COPY: {best_import / best_copy:.1f}x (target <= 5x)")
    _catalog_db.drop(DATABASE)


if __name__ == "__main__":
    main()
