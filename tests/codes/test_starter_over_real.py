"""The starter extract next to the real CMS files: it fills empty releases only, and ends no code.

A new user's path: `make run` loads the starter data, they import the real 2022 files and upload the 2023 ASC
Addendum AA, then `make run` loads the starter data again. The module does that once, in one transaction
rolled back at the end (each test runs in a savepoint inside it).
"""

import datetime

import pytest
from django.db import transaction

from codes import catalog, starter
from codes.admin.imports import ImportRunAdmin
from codes.importers import registry
from codes.models import AscRate, CodeVersion, FeeRelease, ImportRun, OppsRate, PhysicianFee, Release

pytestmark = [pytest.mark.cms_data, pytest.mark.django_db]

REAL = [
    "cms/2022/PPRRVU22_JAN.csv",
    "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx",
    "cms/2023/ASC_Addendum_AA_2023_JAN.csv",
]
IN_2023 = datetime.date(2023, 6, 1)


def _state() -> dict:
    return {
        "pfs": PhysicianFee.objects.count(),
        "opps": OppsRate.objects.count(),
        "asc": AscRate.objects.count(),
        "versions": CodeVersion.objects.count(),
        "ended": list(CodeVersion.objects.exclude(effective_to=None).order_by("pk").values_list("pk", "effective_to")),
    }


@pytest.fixture(scope="module")
def trial(django_db_setup, django_db_blocker, cms_data_dir):
    with django_db_blocker.unblock(), transaction.atomic():
        starter.load_starter_data()
        extract_cpt_2022 = CodeVersion.objects.filter(release__system="cpt", release__label="2022 January").count()
        extract_asc_2023 = FeeRelease.objects.get(kind="asc_aa", year=2023).row_count
        results, pump_2022 = {}, []
        for path in REAL:
            results[path] = {r.kind: r for r in registry.run_import([cms_data_dir / path])}
            # E0783 (the programmable pump) is in the Addendum B extract, not in the RVU file.
            pump_2022.append(CodeVersion.objects.filter(code__code="E0783", release__label="2022 January").exists())
            if path == REAL[0]:
                hcpcs_files = Release.objects.get(system="hcpcs", label="2022 January").source_files.splitlines()
        after_real = _state()
        restart = starter.load_starter_data()
        yield {
            "extract_cpt_2022": extract_cpt_2022,
            "extract_asc_2023": extract_asc_2023,
            "results": results,
            "after_real": after_real,
            "restart": restart,
            "pump_2022": pump_2022,
            "hcpcs_files_after_rvu": hcpcs_files,
        }
        transaction.set_rollback(True)


def test_loading_the_starter_data_again_removes_nothing_from_the_real_files(trial):
    assert _state() == trial["after_real"]
    skipped = [line for line in trial["restart"] if "skipped" in line]
    assert any(line.startswith("Starter extract: PPRRVU22_JAN.csv (pfs): skipped, a complete file") for line in skipped)
    assert not [line for line in trial["restart"] if "removed" in line or "ended" in line]
    for path, kind, year in zip(REAL, ("pfs", "opps", "asc_aa"), (2022, 2022, 2023), strict=True):
        release = FeeRelease.objects.get(kind=kind, year=year)
        rows = release.physician_rows.count() + release.opps_rows.count() + release.asc_rows.count()
        assert not release.extract and rows == release.row_count == trial["results"][path][kind].counts["rows"] > 4_000
    # Releases nothing complete replaced stay extracts (2023 RVU file, ASC BB).
    assert FeeRelease.objects.get(kind="pfs", year=2023).extract


def test_the_real_file_replaces_the_extract_of_its_release_and_counts_against_it(trial):
    release = Release.objects.get(system="cpt", label="2022 January")
    assert not release.extract and "PPRRVU22_JAN.csv" in release.source_files
    rvu = trial["results"][REAL[0]]["hcpcs-descriptors"].counts
    assert rvu["cpt added"] == rvu["cpt codes"] - trial["extract_cpt_2022"]
    assert rvu["cpt ended"] == 0
    # The RVU file replaces the codes its own extract gave, not those of the Addendum B extract (E0783).
    assert rvu["hcpcs ended"] == 0 and trial["pump_2022"] == [True, True, True]
    # ... and the release's provenance still names that extract beside the complete RVU file.
    assert sorted(name.rsplit("/", 1)[-1] for name in trial["hcpcs_files_after_rvu"]) == [
        "January_2022_Web_Addendum_B.01.10.22.xlsx",
        "PPRRVU22_JAN.csv",
    ], trial["hcpcs_files_after_rvu"]
    # Addendum B only adds the codes the RVU file lacks (PLA codes), counted against the release as it stood.
    addendum = trial["results"][REAL[1]]["hcpcs-descriptors"].counts
    assert addendum["cpt added"] == addendum["cpt codes"] - rvu["cpt codes"] > 0
    asc = trial["results"][REAL[2]]["asc_aa"].counts
    assert asc["added"] == asc["rows"] - trial["extract_asc_2023"] and asc["removed"] == 0


def test_a_code_missing_from_a_later_extract_stays_valid(trial, api_client):
    status = catalog.code_status("99213", on=IN_2023, system="cpt")
    assert status.exists and status.valid_on_date
    assert CodeVersion.objects.get(code__system="cpt", code__code="99213").effective_to is None
    # A code the 2023 extract has moves on to its 2023 version.
    versions = CodeVersion.objects.filter(code__system="cpt", code__code="62362").order_by("effective_from")
    assert [(v.release.label, v.effective_to) for v in versions] == [
        ("2022 January", datetime.date(2022, 12, 31)),
        ("2023 January", None),
    ]
    body = {
        "diagnoses": ["G89.29"],
        "procedures": [{"code": "99213", "modifiers": [], "units": 1}],
        "setting": "office",
        "date_of_service": IN_2023.isoformat(),
        "locality": "national",
    }
    response = api_client.post("/api/v1/claim-checks/", body, format="json")
    assert response.status_code == 200, response.content
    assert [f for f in response.json()["findings"] if f["source"] == "code_set"] == []


def test_the_admin_change_report_gives_the_real_total_of_a_capped_list(trial):
    result = trial["results"][REAL[2]]["asc_aa"]
    assert len(result.report["added"]) == 200
    run = ImportRun(source_name="ASC_Addendum_AA_2023_JAN.csv", report={"results": [result.as_dict()]})
    shown = str(ImportRunAdmin(ImportRun, None).change_report(run))
    assert f"({result.counts['added']:,} in all)" in shown and result.counts["added"] > 4_000
