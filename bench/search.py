"""200 mixed code searches through the API against a live server on PostgreSQL: latency and SQL per request.

    .venv/bin/python bench/search.py        (needs PostgreSQL at BENCH_PG_ADMIN_URL, default postgres@127.0.0.1)

Loads FY2021 and FY2025 ICD-10-CM and the 2022 and 2023 CPT/HCPCS codes into its own database (kept
between runs), serves the project over HTTP from a thread, and counts the SQL each request runs.
Targets (not asserted): at most 3 SQL queries per request, p95 at most 30 ms on the 2-core machine.
"""

import os
import statistics
import threading
import time
import urllib.parse
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import _catalog_db

DATABASE = os.environ.get("BENCH_DATABASE", "rd_bench_search")
FILES = [
    "icd10cm/fy2021/icd10cm-order-Jan-2021.txt",
    "icd10cm/fy2021/icd10cm_tabular_2021.xml",
    "icd10cm/fy2025/code-list-April-2025.txt",
    "icd10cm/fy2025/icd10cm-tabular-April-2025.xml",
    "cms/2022/PPRRVU22_JAN.csv",
    "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx",
    "cms/2023/PPRRVU23_JAN.csv",
    "cms/2023/2023_January_Web_Addendum_B.12212022.xlsx",
]
QUERIES = [
    {"q": "g8929"},
    {"q": "G89.29"},
    {"q": "G89.2"},
    {"q": "T85.610A"},
    {"q": "62322"},
    {"q": "J2274"},
    {"q": "e0783"},
    {"q": "G89"},
    {"q": "M54"},
    {"q": "T85.6"},
    {"q": "6235"},
    {"q": "C7A"},
    {"q": "62322-62327"},
    {"q": "C00-C14"},
    {"q": "G89.2 - G89.29"},
    {"q": "C7A-C7A"},
    {"q": "E0782-E0786"},
    {"q": "62367-62370"},
    {"q": "low back pain"},
    {"q": "chronic pain"},
    {"q": "intrathecal catheter"},
    {"q": "infusion pump"},
    {"q": "morphine"},
    {"q": "spinal infusion catheter breakdown"},
    {"q": "complex regional pain syndrome"},
    {"q": "pump refill kit"},
    {"q": "postherpetic neuralgia"},
    {"q": "arachnoiditis"},
    {"q": "phantom limb"},
    {"q": "radiculopathy lumbar"},
    {"q": "chronic pain", "valid_on": "2022-03-01", "billable": "true"},
    {"q": "G89.2", "valid_on": "2021-03-01"},
    {"q": "low back pain", "system": "icd10cm", "billable": "true", "valid_on": "2025-06-01"},
    {"q": "pump", "system": "hcpcs"},
    {"q": "62322-62327", "valid_on": "2023-02-01"},
    {"q": "cathter breakdwn"},
    {"q": "neoplasm related pain"},
    {"q": "T85.6", "billable": "true", "valid_on": "2025-06-01"},
    {"q": "osteoporotic fracture vertebra"},
    {"q": "injection spinal"},
]


def load_catalog() -> None:
    from django.conf import settings

    from codes.importers import registry
    from codes.models import Release

    if Release.objects.filter(label__in=["FY2025 April", "2023 January"]).count() < 3:
        start = time.perf_counter()
        for group in (FILES[:2], FILES[2:4], FILES[4:6], FILES[6:]):
            registry.run_import([settings.CMS_DATA_DIR / f for f in group])
        print(f"loaded the catalog in {time.perf_counter() - start:.1f} s")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    _catalog_db.setup(DATABASE)
    load_catalog()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from codes.models import Code

    application = get_wsgi_application()
    query_counts: list[int] = []

    def counting_app(environ, start_response):
        executed = [0]

        def count(execute, sql, params, many, context):
            executed[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            body = list(application(environ, start_response))
        query_counts.append(executed[0])
        return body

    server = make_server("127.0.0.1", 0, counting_app, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/api/v1/codes/?"
    for params in QUERIES:  # warm up connections and caches once
        urllib.request.urlopen(base + urllib.parse.urlencode(params)).read()
    query_counts.clear()

    latencies, results, by_query = [], 0, {}
    for i in range(200):
        params = QUERIES[i % len(QUERIES)]
        url = base + urllib.parse.urlencode(params)
        start = time.perf_counter()
        with urllib.request.urlopen(url) as response:
            body = response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        by_query.setdefault(urllib.parse.urlencode(params), []).append(latencies[-1])
        results += body.count(b'"code":')
    server.shutdown()
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    print(
        f"catalog: {Code.objects.count():,} codes; {len(latencies)} API searches ({len(QUERIES)} distinct, mixed codes, "
        f"prefixes, ranges, words, filters), {results:,} codes returned"
    )
    print(
        f"latency: median {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms",
        "(target p95 <= 30 ms)",
    )
    print(f"SQL per request: max {max(query_counts)}, mean {statistics.mean(query_counts):.2f} (target <= 3)")
    slowest = sorted(by_query.items(), key=lambda item: -statistics.median(item[1]))[:5]
    print("slowest: " + "; ".join(f"{query} {statistics.median(times):.0f} ms" for query, times in slowest))


if __name__ == "__main__":
    main()
