"""The claim check on the real ICD-10-CM FY2021 release, the 2022 and 2023 RVU files and the January 2022 ASC addenda."""

from pathlib import Path

import pytest
from django.test import override_settings

from codes.importers import registry
from tests.codes import guide_data

API = "/api/v1/claim-checks/"
PTP_FILE = Path(__file__).parent / "data" / "ncci" / "ccipra-v281r0-f1.txt"


@pytest.fixture(scope="module")
def real_files(cms_data_dir, django_db_setup, django_db_blocker):
    files = ["cms/2022/PPRRVU22_JAN.csv", "cms/2023/PPRRVU23_JAN.csv"] + guide_data.CMS_2022[2:4]  # RVU files and ASC AA/BB
    remove = guide_data.load(django_db_blocker, cms_data_dir, guide_data.ICD_FY2021 + files)
    yield cms_data_dir
    remove()


def check(api_client, *, diagnoses=(), procedures=(), setting="asc", date_of_service="2022-06-01", **extra):
    body = {
        "diagnoses": list(diagnoses),
        "procedures": [{"code": code, "modifiers": [], "units": 1} if isinstance(code, str) else code for code in procedures],
        "setting": setting,
        "date_of_service": date_of_service,
        "locality": "national",
        **extra,
    }
    return api_client.post(API, body, format="json")


def findings(response, source=None):
    assert response.status_code == 200, response.content
    return [f for f in response.json()["findings"] if source is None or f["source"] == source]


@pytest.fixture
def checked(real_files, db, api_client):
    def run(*diagnoses, **kwargs):
        return check(api_client, diagnoses=diagnoses, **kwargs)

    return run


def test_g89_with_rsd_is_an_error_from_the_guide_rule(checked):
    guide = findings(checked("G89.29", "G90.521"), "guide")
    errors = [f for f in guide if f["severity"] == "error"]
    assert len(errors) == 1
    assert errors[0]["codes"] == ["G89.29", "G90.521"]
    assert "should not be assigned with causalgia" in errors[0]["message"]
    assert errors[0]["rule"] == "g89-not-with-crps"


def test_g89_with_causalgia_cites_excludes1_from_g89_2_and_the_guide_rule(checked):
    response = checked("G89.29", "G57.71")
    excludes = findings(response, "icd10cm")
    assert [(f["severity"], f["codes"]) for f in excludes] == [("error", ["G89.29", "G57.71"])]
    assert "Excludes1 at G89.2" in excludes[0]["message"] and "(G57.7-)" in excludes[0]["message"]
    guide = [f for f in findings(response, "guide") if f["severity"] == "error"]
    assert guide and guide[0]["codes"] == ["G89.29", "G57.71"]


def test_rsd_with_causalgia_is_an_excludes1_error(checked):
    excludes = findings(checked("G90.521", "G57.71"), "icd10cm")
    # Both notes apply: G90.5 excludes causalgia (G57.7-) and G57.7 excludes reflex sympathetic dystrophy (G90.52-).
    assert {(f["severity"], tuple(f["codes"])) for f in excludes} == {
        ("error", ("G90.521", "G57.71")),
        ("error", ("G57.71", "G90.521")),
    }
    assert any("Excludes1 at G90.5:" in f["message"] and "(G57.7-)" in f["message"] for f in excludes)


def test_a_header_code_is_not_billable(checked):
    (finding,) = findings(checked("G89.2"), "code_set")
    assert finding["severity"] == "error" and finding["codes"] == ["G89.2"]
    assert "header code, not billable" in finding["message"]


def test_a_code_without_its_seventh_character_is_incomplete(checked):
    (finding,) = findings(checked("T85.610"), "code_set")
    assert finding["rule"] == "needs-seventh-character"
    assert "needs a 7th character" in finding["message"] and "T85.610A" in finding["message"]


def test_a_code_ended_before_the_date_of_service_is_not_valid_then(checked):
    # 0163T is in the January 2022 RVU file and gone from 2023's: the catalog ends it on 2022-12-31.
    response = checked("G89.29", procedures=["0163T"], setting="office", date_of_service="2023-06-01")
    (finding,) = findings(response, "code_set")
    assert finding["rule"] == "not-valid-on-date" and finding["codes"] == ["0163T"]
    assert finding["message"] == "0163T was not valid on 2023-06-01: it ended on 2022-12-31."
    assert findings(checked("G89.29", procedures=["0163T"], setting="office", date_of_service="2022-06-01"), "code_set") == []


def test_chronic_pain_asks_for_documentation(checked):
    guide = findings(checked("G89.29"), "guide")
    assert [(f["severity"], f["rule"]) for f in guide] == [("warning", "g89-2-documented-chronic")]


def test_asc_estimate_discounts_the_second_procedure(real_files, db, api_client):
    response = check(api_client, diagnoses=["G89.29", "G57.71"], procedures=["62362", "62350"])
    data = response.json()
    assert set(data) == {"findings", "estimate"}
    assert set(data["findings"][0]) >= {"severity", "source", "codes", "message"}
    assert data["estimate"]["total"] == "16275.44"
    assert [line["amount"] for line in data["estimate"]["lines"]] == ["14468.87", "1806.57"]


def test_ncci_pairs_come_from_the_loaded_ptp_table(real_files, db, api_client):
    assert findings(check(api_client, procedures=["62362", "62350"]), "ncci") == []  # empty until NCCI files are loaded
    registry.run_import([PTP_FILE])
    (bundled,) = findings(check(api_client, procedures=["62362", "62350"]), "ncci")
    assert bundled["severity"] == "warning" and bundled["codes"] == ["62362", "62350"]
    with_modifier = {"code": "62350", "modifiers": ["59"], "units": 1}
    (bypassed,) = findings(check(api_client, procedures=["62362", with_modifier]), "ncci")
    assert bypassed["severity"] == "info" and "59" in bypassed["message"]
    (never,) = findings(check(api_client, procedures=["62362", "62365"]), "ncci")
    assert never["severity"] == "error"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"setting": "inpatient"}, "setting"),
        ({"diagnoses": ["not a code"]}, "Not ICD-10-CM codes"),
        ({"date_of_service": "June 1"}, "date_of_service"),
        ({"procedures": []}, "at least one diagnosis or procedure"),
        ({"procedures": [{"code": "62362", "units": 0}]}, "units"),
        ({"date_of_service": "1999-06-01"}, "No payment estimate"),
    ],
)
def test_bad_requests_get_a_400_with_a_message(real_files, db, api_client, body, needle):
    payload = {"diagnoses": [], "procedures": [{"code": "62362"}], "setting": "asc", "date_of_service": "2022-06-01", **body}
    response = api_client.post(API, payload, format="json")
    assert response.status_code == 400
    assert needle in str(response.json())


def test_claim_check_page_shows_findings_and_the_estimate(real_files, db, client):
    response = client.post(
        "/claim-check/",
        {
            "diagnoses": "G89.29, G57.71",
            "setting": "asc",
            "date_of_service": "2022-06-01",
            "locality": "national",
            "lines-TOTAL_FORMS": "2",
            "lines-INITIAL_FORMS": "0",
            "lines-0-code": "62362",
            "lines-1-code": "62350",
        },
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "Excludes1 at G89.2" in text and "should not be assigned with causalgia" in text
    assert "$16,275.44" in text


def test_a_procedure_code_among_the_diagnoses_is_an_error(checked):
    errors = findings(checked("62362", "G89.29"), "code_set")
    assert [(f["severity"], f["codes"], f["rule"]) for f in errors] == [("error", ["62362"], "not-a-diagnosis-code")]
    assert "62362 is not an ICD-10-CM code" in errors[0]["message"]


@pytest.mark.parametrize("diagnoses", ["hello", "ZZZ99, G89.29"])
def test_the_page_refuses_what_is_no_code_as_the_api_does(real_files, db, client, diagnoses):
    form = {"diagnoses": diagnoses, "setting": "asc", "date_of_service": "2022-06-01", "locality": "national"}
    response = client.post("/claim-check/", {**form, "lines-TOTAL_FORMS": "0", "lines-INITIAL_FORMS": "0"})

    assert response.status_code == 400
    assert "Not ICD-10-CM codes:" in response.content.decode() and "No finding" not in response.content.decode()


def test_procedure_line_inputs_are_labelled_and_their_errors_shown(real_files, db, client):
    form = {"diagnoses": "G89.29", "setting": "asc", "date_of_service": "2022-06-01", "locality": "national"}
    lines = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-code": "62362", "lines-0-units": "100"}

    response = client.post("/claim-check/", {**form, **lines})

    html = response.content.decode()
    assert response.status_code == 400
    assert 'aria-label="Line 1 code"' in html and 'aria-label="Line 1 units"' in html
    assert "Line 1, units: Ensure this value is less than or equal to 99." in html


def test_the_page_starts_on_a_date_the_loaded_files_price(real_files, db, client):
    """Only 2022 and 2023 are loaded: the form starts on 2023-01-01, not on today."""
    page = client.get("/claim-check/").content.decode()

    assert 'value="2023-01-01"' in page


@override_settings(LOOKUPS_REQUIRE_LOGIN=True)
def test_the_api_needs_a_login_when_lookups_do(real_files, db, api_client, office_user):
    assert check(api_client, diagnoses=["G89.29"]).status_code == 403
    api_client.force_authenticate(office_user)
    assert check(api_client, diagnoses=["G89.29"]).status_code == 200
