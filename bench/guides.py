"""Guide page and claim check speed on PostgreSQL with the real files (prints figures; asserts nothing).

    python bench/guides.py [--keep]

Imports ICD-10-CM FY2021 and the January 2022 and 2023 CMS files into a database of its own
(rd_bench_guides), then renders /guides/intrathecal-drug-delivery/<year>/ (national and a locality)
and posts claim checks, printing median and p95 latency and SQL queries per request.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _catalog_db  # noqa: E402

DATABASE = "rd_bench_guides"
ROUNDS = 20


def _timed(call, rounds: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured.captured_queries)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], queries


def main() -> None:
    _catalog_db.setup(DATABASE)
    from django.conf import settings
    from django.test import Client

    from codes import starter
    from codes.importers import registry
    from codes.models import FeeRelease
    from tests.codes import guide_data

    data = Path(settings.CMS_DATA_DIR)
    if not FeeRelease.objects.filter(kind="pfs", year=2023).exists():
        start = time.perf_counter()
        registry.run_import([data / p for p in guide_data.ICD_FY2021 + guide_data.CMS_2022 + guide_data.CMS_2023])
        print(f"import of ICD-10-CM FY2021 + 2022 + 2023 CMS files: {time.perf_counter() - start:.1f} s")
    for path in starter.GUIDE_FILES:
        starter.load_guide(starter.guide_data(path))
    client = Client(HTTP_HOST="127.0.0.1")
    url = "/guides/intrathecal-drug-delivery/{}/"
    cases = [
        ("guide 2022 national, whole dollars", lambda: client.get(url.format(2022))),
        ("guide 2023 national, change since 2022", lambda: client.get(url.format(2023))),
        ("guide 2022 Alaska, cents", lambda: client.get(url.format(2022), {"locality": "02102-01", "amounts": "cents"})),
        ("guide 2022 CSV export", lambda: client.get(url.format(2022) + "export.csv")),
        (
            "claim check API (2 dx, 2 ASC lines)",
            lambda: client.post(
                "/api/v1/claim-checks/",
                {
                    "diagnoses": ["G89.29", "G57.71"],
                    "procedures": [{"code": "62362"}, {"code": "62350"}],
                    "setting": "asc",
                    "date_of_service": "2022-06-01",
                },
                content_type="application/json",
            ),
        ),
    ]
    cases[0][1]()  # warm up templates and connections
    print(f"{'request':45} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for name, call in cases:
        median, p95, queries = _timed(call, ROUNDS)
        print(f"{name:45} {median:10.1f} {p95:8.1f} {queries:8d}")
    start = time.perf_counter()
    client.get(url.format(2022) + "guide.pdf")
    print(f"PDF of the 2022 guide (WeasyPrint): {time.perf_counter() - start:.1f} s")
    if "--keep" not in sys.argv:
        from django.db import connections

        connections.close_all()
        _catalog_db.drop(DATABASE)


if __name__ == "__main__":
    main()
