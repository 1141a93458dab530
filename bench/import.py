"""Import the FY2021 ICD-10-CM order file on PostgreSQL next to a bare COPY of the same file; print the ratio.

    .venv/bin/python bench/import.py        (needs PostgreSQL at BENCH_PG_ADMIN_URL, default postgres@127.0.0.1)

The import runs three times, each into an emptied catalog, and the best time is kept;
the COPY loads the raw lines into a one-column table, also best of three. For scale it also times the
import's SQL alone: the rows the import wrote, already rendered, copied back into the empty catalog tables
the way the import writes them (indexes and foreign keys dropped, COPY, indexes built, keys checked),
in a transaction rolled back. Nothing is asserted.
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
    from codes.models import Code, CodeVersion, Release, SearchWord

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
        SearchWord.objects.all().delete()
        start = time.perf_counter()
        (result,) = registry.run_import([path])
        imports.append(time.perf_counter() - start)

    floors, builds = [], []
    for _ in range(RUNS):
        floor, build = _sql_floor(connection, transaction)
        floors.append(floor)
        builds.append(build)

    best_import, best_copy = min(imports), min(copies)
    print(f"file: {path.name} ({len(data):,} bytes, {copied:,} lines)")
    print(
        f"import_data (parse, validate, codes + versions, search indexes, change report): best {best_import:.2f} s of {RUNS} "
        f"({', '.join(f'{t:.2f}' for t in imports)})"
    )
    print(f"  {result.summary()}")
    print(f"bare COPY into a one-column table: best {best_copy:.3f} s of {RUNS}")
    print(f"ratio import / COPY: {best_import / best_copy:.1f}x (target <= 5x)")
    best_floor = min(floors)
    print(
        f"the import's SQL alone (rendered rows into codes + versions, indexes, foreign keys): best {best_floor:.2f} s "
        f"= {best_floor / best_copy:.1f}x the bare COPY; of which building the indexes {min(builds):.2f} s"
    )
    print(f"ratio import / its SQL alone: {best_import / best_floor:.1f}x (the parsing, checking and reporting in Python)")
    print(
        f"building the catalog's indexes alone (full-text, codes, keys) is {min(builds) / best_copy:.1f}x the bare COPY: "
        f"{'over' if min(builds) > 5 * best_copy else 'within'} the 5x target before a row is written"
    )
    _catalog_db.drop(DATABASE)


def _sql_floor(connection, transaction) -> tuple[float, float]:
    """Time the import's writes without Python: COPY the rendered rows back in as load_release does; roll back."""
    from codes.importers import pg_bulk

    with connection.cursor() as cursor:
        raw = cursor.cursor
        dumps = {}
        for table in ("codes_code", "codes_codeversion"):
            with raw.copy(f"COPY {table} TO STDOUT") as copy:
                dumps[table] = b"".join(bytes(chunk) for chunk in copy)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        raw.execute("TRUNCATE codes_codeversion, codes_code CASCADE")
        start = time.perf_counter()
        indexes = pg_bulk.drop_indexes(["codes_code", "codes_codeversion"])
        keys = pg_bulk.drop_foreign_keys(["codes_code", "codes_codeversion"])
        for table, rows in dumps.items():
            with raw.copy(f"COPY {table} FROM STDIN") as copy:
                copy.write(rows)
        built = time.perf_counter()
        pg_bulk.create_indexes(indexes)
        built = time.perf_counter() - built
        pg_bulk.restore_foreign_keys(keys)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed, built


if __name__ == "__main__":
    main()
