"""Acceptance on the real CMS files: the 2022 guide reproduced, 2022 -> 2023 roll-over, localities, estimates.

The January 2022 and 2023 files are imported once for this module inside one transaction that is rolled
back at the end, so no other test sees them; each test runs in a savepoint inside it.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import transaction

from codes import pricing
from codes.importers import registry
from tests.codes.test_fee_importers import ensure_conversion_factors

pytestmark = [pytest.mark.cms_data, pytest.mark.django_db]

FILES_2022 = [
    "cms/2022/PPRRVU22_JAN.csv",
    "cms/2022/GPCI2022.xlsx",
    "cms/2022/ASC_Addendum_AA_2022_JAN.csv",
    "cms/2022/ASC_Addendum_BB_2022_JAN.csv",
    "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx",
]
FILES_2023 = [
    "cms/2023/PPRRVU23_JAN.csv",
    "cms/2023/ASC_Addendum_AA_2023_JAN.csv",
    "cms/2023/ASC_Addendum_BB_2023_JAN.csv",
    "cms/2023/2023_January_Web_Addendum_B.12212022.xlsx",
]


@pytest.fixture(scope="module", autouse=True)
def real_fees(django_db_setup, django_db_blocker, cms_data_dir):
    """Import 2022, then 2023 (the yearly roll-over), once; roll everything back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        ensure_conversion_factors()
        results = registry.run_import([cms_data_dir / name for name in FILES_2022])
        results += registry.run_import([cms_data_dir / name for name in FILES_2023])
        fee_kinds = {"pfs", "gpci", "asc_aa", "asc_bb", "opps"}  # the catalog's importers read some of these files too
        yield {result.source: result for result in results if result.kind in fee_kinds}
        transaction.set_rollback(True)


# The company's 2022 guide (DOMAIN.md section 0): whole dollars, None for "N/A".
GUIDE_PHYSICIAN = {
    "62322": (144, 82),
    "62323": (270, 101),
    "62326": (144, 87),
    "62327": (276, 106),
    "62350": (None, 407),
    "62362": (None, 394),
    "62355": (None, 279),
    "62365": (None, 303),
    "62367": (32, 26),
    "62368": (45, 36),
    "62369": (95, 36),
    "62370": (96, 47),
    "61070": (None, 58),
}
# What CMS's January 2022 file gives, to the cent (national, CF 34.6062); the product shows these.
CMS_PHYSICIAN = {
    "62322": (D("144.31"), D("82.36")),
    "62323": (D("270.27"), D("100.70")),
    "62326": (D("144.31"), D("87.21")),
    "62327": (D("276.50"), D("106.24")),
    "62350": (None, D("407.31")),
    "62362": (None, D("394.16")),
    "62355": (None, D("279.27")),
    "62365": (None, D("303.50")),
    "62367": (D("32.53"), D("25.61")),
    "62368": (D("45.33"), D("35.64")),
    "62369": (D("95.51"), D("35.99")),
    "62370": (D("96.21"), D("46.72")),
    "61070": (None, D("57.79")),
}
# Known, explained differences (DOMAIN.md section 0): the guide truncated x.50/x.51, half-up gives one more.
OFFICE_DIFFERENCES = {"62327": "276.50 -> guide 276", "62367": "32.53 -> guide 32", "62369": "95.51 -> guide 95"}
# Not listed in DOMAIN.md: facility 62365 is 303.50 in cents (half-up $304) but the exact fee is 303.496 -> the
# guide's $303; pricing.physician_whole_dollars (whole dollars from the exact fee) reproduces it.
FACILITY_DIFFERENCES = {"62365": "303.50 -> guide 303 (exact 303.496)"}


def national_2022(codes):
    return pricing.physician_payments(codes, year=2022)


def test_import_counts(real_fees):
    counts = {source.rsplit("/", 1)[-1]: result.counts["rows"] for source, result in real_fees.items()}
    assert counts["PPRRVU22_JAN.csv"] == 17600 and counts["PPRRVU23_JAN.csv"] == 18010
    assert counts["GPCI2022.xlsx"] == 112
    assert counts["ASC_Addendum_AA_2022_JAN.csv"] == 4010 and counts["ASC_Addendum_BB_2022_JAN.csv"] == 1959
    assert counts["January_2022_Web_Addendum_B.01.10.22.xlsx"] == 17192
    assert counts["2023_January_Web_Addendum_B.12212022.xlsx"] == 17559


def test_guide_physician_values_reproduced_to_the_cent():
    payments = national_2022(list(CMS_PHYSICIAN))
    for code, (office, facility) in CMS_PHYSICIAN.items():
        (row,) = payments[code]  # one global row, no modifier rows
        assert (row.non_facility_amount, row.facility_amount) == (office, facility), code
        assert row.conversion_factor == D("34.6062")
        guide_office, guide_facility = GUIDE_PHYSICIAN[code]
        assert pricing.physician_whole_dollars(row, setting="facility") == guide_facility, code
        if code in FACILITY_DIFFERENCES:
            assert pricing.round_whole_dollars(facility) == guide_facility + 1, FACILITY_DIFFERENCES[code]
        else:
            assert pricing.round_whole_dollars(facility) == guide_facility, code
        if office is None:
            assert guide_office is None and row.non_facility_na and row.reason.startswith("N/A"), code
        elif code in OFFICE_DIFFERENCES:
            assert pricing.round_whole_dollars(office) == guide_office + 1, OFFICE_DIFFERENCES[code]
        else:
            assert pricing.round_whole_dollars(office) == guide_office, code


def test_guide_75809_facility_85_is_the_global_total_only_26_is_paid():
    rows = {row.modifier: row for row in national_2022(["75809"])["75809"]}
    assert set(rows) == {"", "26", "TC"}
    assert rows[""].facility_na and rows[""].facility_amount is None
    assert pricing.round_whole_dollars(pricing.round_dollars(rows[""].facility_rvu_total * D("34.6062"))) == 85  # the guide's $85
    assert rows["26"].facility_amount == D("23.53")
    assert rows["TC"].facility_na and rows["TC"].facility_amount is None
    assert rows[""].non_facility_amount == D("85.13")


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [("64999", "C", "Carrier (MAC) priced"), ("J2274", "E", "Excluded"), ("A4220", "P", "Bundled or excluded")],
)
def test_guide_codes_without_a_pfs_amount(code, status, reason):
    (row,) = national_2022([code])[code]
    assert row.status_code == status and not row.payable
    assert row.non_facility_amount is None and row.facility_amount is None
    assert reason in row.reason


# Guide ASC table: (PI, discount flag, guide whole dollars, CMS January 2022 rate).
GUIDE_ASC = {
    "62322": ("G2", True, 329, D("328.58")),
    "62323": ("G2", True, 329, D("328.58")),
    "62326": ("G2", True, 426, D("425.96")),
    "62327": ("G2", True, 426, D("425.96")),
    "62350": ("J8", True, 3613, D("3613.14")),
    "62362": ("J8", True, 14469, D("14468.87")),
    "62355": ("A2", False, 826, D("824.93")),
    "62365": ("A2", False, 2498, D("2495.73")),
    "J2274": ("N1", None, None, None),
    "62367": ("P3", False, 13, D("13.50")),
    "62368": ("P3", False, 18, D("19.03")),
    "62369": ("P3", False, 67, D("69.21")),
    "62370": ("P3", False, 60, D("61.60")),
}
# Explained (DOMAIN.md 0): the guide's P3 rates used the final-rule CF 33.5983; its A2 rates the final-rule addendum.
ASC_DIFFERENCES = {"62355", "62365", "62367", "62368", "62369", "62370"}


def test_guide_asc_rows_reproduced():
    payments = pricing.asc_payments(list(GUIDE_ASC), year=2022)
    assert set(payments) == set(GUIDE_ASC)
    for code, (indicator, discount, guide, rate) in GUIDE_ASC.items():
        payment = payments[code]
        assert (payment.payment_indicator, payment.multiple_procedure_discount, payment.national_rate) == (
            indicator,
            discount,
            rate,
        ), code
        if guide is not None and code not in ASC_DIFFERENCES:
            assert pricing.round_whole_dollars(rate) == guide, code
    assert payments["J2274"].addendum == "BB" and "Packaged (N1)" in payments["J2274"].reason
    assert payments["62367"].national_rate == D("13.50")  # half-up 14, half-even 14; the guide's $13 came from another CF


def test_fetchers_use_a_fixed_number_of_queries(django_assert_max_num_queries):
    codes = [*CMS_PHYSICIAN, "75809", "64999", "J2274", "A4220"]
    with django_assert_max_num_queries(4):
        assert len(pricing.physician_payments(codes, year=2022, locality="02102-01")) == 17
    with django_assert_max_num_queries(3):
        assert len(pricing.asc_payments(codes, year=2022)) == 15
    with django_assert_max_num_queries(3):
        assert len(pricing.opps_payments(codes, year=2022)) == 17


# Locality amounts computed here by the formula: round_half_up((W x wGPCI + PE x peGPCI + MP x mpGPCI) x CF).
LOCALITIES_2022 = {
    "02102-01": (D("1.500"), D("1.118"), D("0.614")),  # Alaska: work GPCI floor 1.5
    "13202-01": (D("1.056"), D("1.203"), D("2.031")),  # Manhattan: PE GPCI above 1
    "10112-00": (D("1.000"), D("0.888"), D("0.921")),  # Alabama
}
RVUS_2022 = {"62322": (D("1.55"), D("2.43"), D("0.64"), D("0.19")), "62362": (D("5.60"), None, D("4.53"), D("1.26"))}


@pytest.mark.parametrize("locality", list(LOCALITIES_2022))
def test_locality_amounts_match_the_formula(locality):
    work_gpci, pe_gpci, mp_gpci = LOCALITIES_2022[locality]
    options = {o.key: o for o in pricing.localities(year=2022)}
    assert (options[locality].work_gpci, options[locality].pe_gpci, options[locality].mp_gpci) == LOCALITIES_2022[locality]
    payments = pricing.physician_payments(["62322", "62362"], year=2022, locality=locality)
    cf = D("34.6062")
    for code, (work, pe_office, pe_facility, mp) in RVUS_2022.items():
        (row,) = payments[code]
        facility = pricing.round_dollars((work * work_gpci + pe_facility * pe_gpci + mp * mp_gpci) * cf)
        assert row.facility_amount == facility and row.locality == locality
        if pe_office is None:
            assert row.non_facility_amount is None
        else:
            assert row.non_facility_amount == pricing.round_dollars((work * work_gpci + pe_office * pe_gpci + mp * mp_gpci) * cf)
    assert (
        payments["62322"][0].non_facility_amount
        == {"02102-01": D("178.51"), "13202-01": D("171.16"), "10112-00": D("134.37")}[locality]
    )


def test_unknown_locality_and_year():
    with pytest.raises(pricing.NotLoaded, match="unknown locality 99999-99"):
        pricing.physician_payments(["62322"], year=2022, locality="99999-99")
    with pytest.raises(pricing.NotLoaded, match="2023 GPCI file"):
        pricing.physician_payments(["62322"], year=2023, locality="02102-01")  # no GPCI2023 staged
    with pytest.raises(pricing.NotLoaded, match="2030"):
        pricing.asc_payments(["62322"], year=2030)


def test_rollover_2022_to_2023():
    (a,) = pricing.physician_payments(["62322"], year=2022)["62322"]
    (b,) = pricing.physician_payments(["62322"], on=date(2023, 6, 1))["62322"]
    assert (a.non_facility_rvu_total, b.non_facility_rvu_total) == (D("4.17"), D("4.14"))
    assert (a.conversion_factor, b.conversion_factor) == (D("34.6062"), D("33.8872"))
    assert b.non_facility_amount == pricing.round_dollars(D("4.14") * D("33.8872"))
    changes = {(c.code, c.item): c for c in pricing.compare_years(["62322", "0100T"], year_a=2022, year_b=2023)}
    rvu = changes[("62322", "Office RVU total")]
    assert (rvu.before, rvu.after, rvu.difference, rvu.changed) == (D("4.17"), D("4.14"), D("-0.03"), True)
    cf = changes[("62322", "Conversion factor")]
    assert (cf.before, cf.after) == (D("34.6062"), D("33.8872"))
    assert (changes[("62322", "OPPS APC")].before, changes[("62322", "OPPS APC")].after) == ("5442", "5443")
    assert (changes[("0100T", "ASC payment indicator")].before, changes[("0100T", "ASC payment indicator")].after) == ("J8", "K5")
    assert changes[("0100T", "ASC national rate")].after is None


def test_estimate_asc_claim_check_case():
    result = pricing.estimate(
        setting="asc", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("62362"), pricing.EstimateLine("62350")]
    )
    assert [line.amount for line in result.lines] == [D("14468.87"), D("1806.57")]
    assert result.total == D("16275.44")
    assert result.lines[1].discount == "multiple procedure: 1 x 50%" and result.lines[1].factor == D("0.5")
    assert result.medicare_pays == D("13020.35") and result.patient_coinsurance == D("3255.09")
    assert "ASC Addendum AA" in result.lines[0].explanation.source


def test_estimate_office_multiple_procedure_and_facility_na():
    result = pricing.estimate(
        setting="office",
        date_of_service=date(2022, 6, 1),
        lines=[pricing.EstimateLine("62322"), pricing.EstimateLine("62323"), pricing.EstimateLine("62362")],
    )
    assert [line.amount for line in result.lines] == [pricing.round_dollars(D("144.31") * D("0.5")), D("270.27"), None]
    assert result.lines[2].reason.startswith("N/A")
    assert result.total == D("270.27") + D("72.16")


def test_estimate_modifier_26_picks_the_professional_row():
    result = pricing.estimate(
        setting="facility", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("75809", ("26",))]
    )
    assert result.lines[0].amount == D("23.53")


def test_estimate_hospital_outpatient_comprehensive_apc_pays_the_primary_only():
    lines = [pricing.EstimateLine("62362"), pricing.EstimateLine("62350"), pricing.EstimateLine("J2274", (), 2)]
    result = pricing.estimate(setting="hospital_outpatient", date_of_service=date(2022, 6, 1), lines=lines)
    assert result.lines[0].amount == D("17405.31") and result.lines[0].indicator == "J1"
    assert result.total == D("17405.31")
    assert all("comprehensive APC of 62362" in line.reason for line in result.lines[1:])


def test_compare_with_a_locality_one_year_lacks_says_so(api_client, client):
    """There is no 2023 GPCI file: comparing Alaska 2022 with 2023 is a 404 naming it, not a column of blanks."""
    params = {"code": "62362", "year_a": 2022, "year_b": 2023, "locality": "02102-01"}
    api = api_client.get("/api/v1/fees/compare/", params)
    page = client.get("/fees/compare/", {**params, "codes": "62362"})

    assert api.status_code == 404 and "unknown locality 02102-01 for 2023" in api.json()["message"]
    assert page.status_code == 404 and "unknown locality 02102-01 for 2023" in page.content.decode()


def test_links_from_a_code_page_open_with_loaded_defaults(client):
    """The payments fragment links to compare and the estimator with the code only."""
    compare = client.get("/fees/compare/", {"codes": "62362"})
    estimate = client.get("/estimator/", {"setting": "asc", "code": "62362", "units": "1"})

    assert compare.status_code == 200 and "Conversion factor" in compare.content.decode()
    assert estimate.status_code == 200 and "<strong>$14,146.48</strong>" in estimate.content.decode()  # the 2023 ASC rate
    assert 'value="2023-01-01"' in estimate.content.decode()


def test_the_payments_locality_picker_offers_the_gpci_file_and_keeps_the_choice(client):
    html = client.get("/codes/cpt/62362/payments/", {"locality": "02102-01", "year": 2022}).content.decode()

    assert '<option value="02102-01" selected>' in html
    assert html.count("<option value=") > 100  # every 2022 locality, though the newest year (2023) has no GPCI file


def test_a_drug_rate_with_a_fraction_of_a_cent_is_rounded_once_after_the_units(api_client):
    """Addendum B publishes 90371 (K) at $135.593: three units pay $406.78, not 3 x $135.59 = $406.77."""
    result = pricing.estimate(
        setting="hospital_outpatient", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("90371", (), 3)]
    )
    assert result.lines[0].amount == D("406.78") and result.total == D("406.78")
    assert any("$135.593 (published)" in value for value in result.lines[0].explanation.inputs.values())
    (opps,) = api_client.get("/api/v1/fees/opps/", {"code": "90371", "year": 2022}).json()["results"]
    assert opps["payment_rate"] == "135.59"  # shown in cents, rounded half-up by codes.pricing


# --- API -----------------------------------------------------------------------------------------------

PHYSICIAN_FIELDS = {
    "code",
    "modifier",
    "status_code",
    "conversion_factor",
    "non_facility_amount",
    "facility_amount",
    "non_facility_na",
    "facility_na",
    "locality",
    "explanation",
}


def test_api_physician_fields_and_values(api_client):
    response = api_client.get("/api/v1/fees/physician/", {"code": "62322,62362", "year": 2022})
    assert response.status_code == 200
    results = {r["code"]: r for r in response.json()["results"]}
    assert set(results["62322"]) >= PHYSICIAN_FIELDS
    assert results["62322"]["non_facility_amount"] == "144.31" and results["62322"]["facility_amount"] == "82.36"
    assert results["62322"]["conversion_factor"] == "34.6062" and results["62322"]["locality"] == "national"
    assert results["62362"]["non_facility_amount"] is None and results["62362"]["non_facility_na"] is True
    assert results["62362"]["facility_amount"] == "394.16"
    assert results["62322"]["explanation"]["source"].endswith("line 11560")
    alaska = api_client.get("/api/v1/fees/physician/", {"code": "62322", "year": 2022, "locality": "02102-01"}).json()["results"][
        0
    ]
    assert alaska["non_facility_amount"] == "178.51" and alaska["locality"] == "02102-01"


def test_api_physician_rows_per_modifier_and_dates(api_client):
    rows = api_client.get("/api/v1/fees/physician/", {"code": "75809", "date": "2022-03-01"}).json()["results"]
    assert [(r["modifier"], r["facility_amount"]) for r in rows] == [("", None), ("26", "23.53"), ("TC", None)]
    contractor = api_client.get("/api/v1/fees/physician/", {"code": "64999", "year": 2022}).json()["results"][0]
    assert contractor["non_facility_amount"] is None and "Carrier" in contractor["reason"]


def test_api_rollover_shows_rvu_total_and_cf(api_client):
    by_year = {}
    for year in (2022, 2023):
        (row,) = api_client.get("/api/v1/fees/physician/", {"code": "62322", "year": year}).json()["results"]
        by_year[year] = (row["non_facility_rvu_total"], row["conversion_factor"])
    assert by_year == {2022: ("4.17", "34.6062"), 2023: ("4.14", "33.8872")}
    changes = api_client.get("/api/v1/fees/compare/", {"code": "62322", "year_a": 2022, "year_b": 2023}).json()["results"]
    items = {c["item"]: c for c in changes}
    assert (items["Office RVU total"]["before"], items["Office RVU total"]["after"]) == ("4.17", "4.14")
    assert (items["Conversion factor"]["before"], items["Conversion factor"]["after"]) == ("34.6062", "33.8872")


def test_api_asc_and_opps_fields(api_client):
    asc = api_client.get("/api/v1/fees/asc/", {"code": "62362,J2274", "year": 2022}).json()["results"]
    by_code = {r["code"]: r for r in asc}
    assert {"code", "payment_indicator", "multiple_procedure_discount", "payment_weight", "national_rate"} <= set(
        by_code["62362"]
    )
    assert (
        by_code["62362"]["payment_indicator"],
        by_code["62362"]["multiple_procedure_discount"],
        by_code["62362"]["national_rate"],
    ) == (
        "J8",
        True,
        "14468.87",
    )
    assert by_code["J2274"]["national_rate"] is None and by_code["J2274"]["payment_indicator"] == "N1"
    (opps,) = api_client.get("/api/v1/fees/opps/", {"code": "62362", "year": 2022}).json()["results"]
    assert {"code", "status_indicator", "apc", "relative_weight", "payment_rate"} <= set(opps)
    assert (opps["status_indicator"], opps["apc"], opps["relative_weight"], opps["payment_rate"]) == (
        "J1",
        "5471",
        "206.7704",
        "17405.31",
    )


@pytest.mark.parametrize(
    ("url", "params", "status", "message"),
    [
        ("/api/v1/fees/physician/", {"code": "99999", "year": 2022}, 404, "99999: not in the physician fee schedule"),
        (
            "/api/v1/fees/physician/",
            {"code": "62322", "year": 2030},
            404,
            "no physician fee schedule (RVU file) is loaded for 2030",
        ),
        ("/api/v1/fees/physician/", {"code": "62322", "year": 2022, "locality": "99999-99"}, 404, "unknown locality 99999-99"),
        ("/api/v1/fees/physician/", {"code": "62322", "locality": "Alaska"}, 400, "The request is not valid."),
        ("/api/v1/fees/physician/", {"year": 2022}, 400, "The request is not valid."),
        ("/api/v1/fees/physician/", {"code": "6232", "year": 2022}, 400, "The request is not valid."),
        ("/api/v1/fees/asc/", {"code": "64999", "year": 2022}, 404, "not on the ASC lists"),
        ("/api/v1/fees/opps/", {"code": "62322", "date": "2031-01-01"}, 404, "no OPPS Addendum B is loaded for 2031-01-01"),
        ("/api/v1/fees/localities/", {"year": 2023}, 404, "no GPCI file is loaded for 2023"),
    ],
)
def test_api_bad_requests_get_a_4xx_with_a_message(api_client, url, params, status, message):
    response = api_client.get(url, params)
    assert response.status_code == status
    assert message in response.json()["message"]


def test_api_estimate(api_client):
    body = {
        "setting": "asc",
        "date_of_service": "2022-06-01",
        "lines": [{"code": "62362"}, {"code": "62350", "modifiers": [], "units": 1}],
    }
    response = api_client.post("/api/v1/estimates/", body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == "16275.44" and [line["amount"] for line in data["lines"]] == ["14468.87", "1806.57"]
    assert data["lines"][1]["discount"] == "multiple procedure: 1 x 50%"
    bad = api_client.post("/api/v1/estimates/", {**body, "setting": "home"}, format="json")
    assert bad.status_code == 400 and "setting" in bad.json()["errors"]
    missing = api_client.post("/api/v1/estimates/", {**body, "date_of_service": "2030-06-01"}, format="json")
    # A POST body is input: an unloaded date there is a 400 (README, API), as in the claim check.
    assert missing.status_code == 400 and "no ASC addendum is loaded for 2030-06-01" in missing.json()["message"]


def test_api_localities(api_client):
    rows = api_client.get("/api/v1/fees/localities/", {"year": 2022, "page_size": 500}).json()["results"]
    assert rows[0]["key"] == "national" and len(rows) == 113
    alaska = next(r for r in rows if r["key"] == "02102-01")
    assert (alaska["name"], alaska["work_gpci"]) == ("ALASKA", "1.500")


# --- Pages ---------------------------------------------------------------------------------------------


def test_code_payments_fragment(client):
    response = client.get("/codes/cpt/62362/payments/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.index("<h3>2023</h3>") < html.index("<h3>2022</h3>")
    assert "$394.16" in html and "N/A" in html and "$14,468.87" in html and "$17,405.31" in html
    assert html.count("<details") >= 3  # physician, ASC and OPPS explanations, one click away
    alaska = client.get("/codes/cpt/62322/payments/", {"locality": "02102-01", "year": 2022}).content.decode()
    assert "$178.51" in alaska and "AK ALASKA" in alaska and "<html" in alaska.lower()


def test_compare_page(client):
    html = client.get(
        "/fees/compare/", {"codes": "62322", "year_a": 2022, "year_b": 2023, "locality": "national"}
    ).content.decode()
    row = html[html.index('data-item="Office RVU total"') :]
    row = row[: row.index("</tr>")]
    assert "4.17" in row and "4.14" in row and "-0.7%" in row
    cf = html[html.index('data-item="Conversion factor"') :]
    assert "34.6062" in cf[: cf.index("</tr>")] and "33.8872" in cf[: cf.index("</tr>")]
    missing = client.get("/fees/compare/", {"codes": "99999", "year_a": 2022, "year_b": 2023})
    assert missing.status_code == 404 and "none of 99999" in missing.content.decode()


def test_estimator_page(client):
    params = (
        "setting=asc&date_of_service=2022-06-01&locality=national&code=62362&modifiers=&units=1&code=62350&modifiers=&units=1"
    )
    html = client.get(f"/estimator/?{params}").content.decode()
    assert '<td class="num" id="estimate-total"><strong>$16,275.44</strong></td>' in html
    bad = client.get("/estimator/?setting=asc&date_of_service=2022-06-01&code=62362&units=0")
    assert bad.status_code == 400 and "units must be a whole number" in bad.content.decode()


def test_localities_page(client):
    html = client.get("/fees/localities/", {"q": "alaska"}).content.decode()
    assert "02102-01" in html and "1.500" in html and "ALABAMA" not in html


# New-user trial fixes: one validation in pricing for both POST APIs and both pages.

ASC_CASE = {"setting": "asc", "date_of_service": "2022-06-01", "lines": [{"code": "62362"}]}
CLAIM_CASE = {"diagnoses": [], "procedures": [{"code": "62362"}], "setting": "asc", "date_of_service": "2022-06-01"}


@pytest.mark.parametrize("locality", ["00000-00", "99999-99"])
@pytest.mark.parametrize("setting", ["office", "asc"])
def test_unknown_locality_is_the_same_400_in_both_apis_and_both_pages(api_client, client, locality, setting):
    expected = f"unknown locality {locality} for 2022"
    estimate = api_client.post("/api/v1/estimates/", {**ASC_CASE, "setting": setting, "locality": locality}, format="json")
    assert estimate.status_code == 400 and expected in estimate.json()["message"]
    claim = api_client.post("/api/v1/claim-checks/", {**CLAIM_CASE, "setting": setting, "locality": locality}, format="json")
    assert claim.status_code == 400 and expected.capitalize() in str(claim.json())
    page = client.get("/estimator/", {"setting": setting, "date_of_service": "2022-06-01", "locality": locality, "code": "62362"})
    assert page.status_code == 400 and expected.capitalize() in page.content.decode()
    form = {"diagnoses": "G89.29", "setting": setting, "date_of_service": "2022-06-01", "locality": locality}
    lines = {"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-0-code": "62362", "lines-0-units": "1"}
    claim_page = client.post("/claim-check/", {**form, **lines})
    assert claim_page.status_code == 400 and expected.capitalize() in claim_page.content.decode()


def test_a_locality_asc_ignores_is_accepted_and_said_so(api_client):
    estimate = api_client.post("/api/v1/estimates/", {**ASC_CASE, "locality": "02102-01"}, format="json").json()
    assert estimate["locality"] == "02102-01" and estimate["lines"][0]["amount"] == "14468.87"  # the national rate
    assert "Locality 02102-01 does not apply to ASC payment: ASC rates use no GPCI" in " ".join(estimate["notes"])
    claim = api_client.post("/api/v1/claim-checks/", {**CLAIM_CASE, "locality": "02102-01"}, format="json")
    (info,) = [f for f in claim.json()["findings"] if f["rule"] == "locality-not-applicable"]
    assert info["severity"] == "info" and info["source"] == "fee_schedule" and info["codes"] == ["02102-01"]
    office = api_client.post("/api/v1/estimates/", {**ASC_CASE, "setting": "facility", "locality": "02102-01"}, format="json")
    assert not any("does not apply" in note for note in office.json()["notes"])


def test_unloaded_year_is_a_400_in_both_posts_and_a_404_in_compare(api_client, client):
    for url, body in (("/api/v1/estimates/", ASC_CASE), ("/api/v1/claim-checks/", CLAIM_CASE)):
        response = api_client.post(url, {**body, "date_of_service": "1999-06-01"}, format="json")
        assert response.status_code == 400 and "is loaded for 1999-06-01" in str(response.json())
    compare = api_client.get("/api/v1/fees/compare/", {"code": "62362", "year_a": 2022, "year_b": 1999})
    assert compare.status_code == 404
    assert compare.json()["message"] == "no fee schedule is loaded for 1999; loaded years: 2022, 2023"
    page = client.get("/fees/compare/", {"codes": "62362", "year_a": 2022, "year_b": 1999})
    assert page.status_code == 404 and "no fee schedule is loaded for 1999" in page.content.decode()


def test_unknown_modifier_and_unknown_code_and_one_units_limit(api_client):
    zz = api_client.post(
        "/api/v1/estimates/",
        {**ASC_CASE, "setting": "facility", "lines": [{"code": "75809", "modifiers": ["ZZ"]}]},
        format="json",
    )
    assert zz.status_code == 400 and "unknown modifier ZZ on 75809" in zz.json()["message"]
    with pytest.raises(pricing.PricingError, match="unknown modifier ZZ on 75809"):
        pricing.estimate(setting="office", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("75809", ("ZZ",))])
    claim = api_client.post(
        "/api/v1/claim-checks/", {**CLAIM_CASE, "procedures": [{"code": "75809", "modifiers": ["ZZ"]}]}, format="json"
    )
    assert claim.status_code == 400 and "Unknown modifier ZZ on 75809" in str(claim.json())
    unknown = pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("ZZZZZ")])
    assert unknown.lines[0].reason == "Unknown code: ZZZZZ is not in any loaded code set or fee file"
    known = pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("64999")])
    assert "not on the ASC covered procedures" in known.lines[0].reason  # a real code that ASCs are not paid for
    too_many = {"code": "62362", "units": pricing.MAX_UNITS + 1}
    for url, body in (
        ("/api/v1/estimates/", {**ASC_CASE, "lines": [too_many]}),
        ("/api/v1/claim-checks/", {**CLAIM_CASE, "procedures": [too_many]}),
    ):
        response = api_client.post(url, body, format="json")
        assert response.status_code == 400 and f"less than or equal to {pricing.MAX_UNITS}" in str(response.json())
    with pytest.raises(pricing.PricingError, match=f"from 1 to {pricing.MAX_UNITS}"):
        pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("62362", (), 999)])


def test_compare_shows_na_with_its_reason_for_rvu_totals(client):
    changes = {(c.code, c.item): c for c in pricing.compare_years(["62362"], year_a=2022, year_b=2023)}
    for item in ("Office RVU total", "Physician office amount"):
        assert changes[("62362", item)].before == pricing.NA_REASON["office"] == changes[("62362", item)].after
    assert isinstance(changes[("62362", "Facility RVU total")].before, D)  # the facility side is published
    html = client.get("/fees/compare/", {"codes": "62362", "year_a": 2022, "year_b": 2023}).content.decode()
    row = html[html.index('data-item="Office RVU total"') :]
    row = row[: row.index("</tr>")]
    assert "N/A: CMS sets no non-facility (office) practice expense" in row and "11.77" not in row
