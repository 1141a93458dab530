"""The intrathecal drug delivery guide rebuilt from the real January 2022 (and 2023) CMS files."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape
from lxml import html

from codes.models import Guide, GuideEntry, GuideSection
from tests.codes import guide_data
from tests.factories import PASSWORD

URL = "/guides/intrathecal-drug-delivery/{year}/"

# DOMAIN.md section 0, 2022 national average, whole dollars: (office, facility). Where DOMAIN.md explains a
# difference the page shows the CMS value: 62327 office 276.50 -> $277 (guide $276), 62367 32.53 -> $33
# (guide $32), 62369 95.51 -> $96 (guide $95); 75809's $85 is the global row, in a facility only -26 is paid.
PHYSICIAN_2022 = {
    "62322": ("$144", "$82"),
    "62323": ("$270", "$101"),
    "62326": ("$144", "$87"),
    "62327": ("$277", "$106"),
    "62350": ("N/A", "$407"),
    "62362": ("N/A", "$394"),
    "62355": ("N/A", "$279"),
    "62365": ("N/A", "$303"),
    "62367": ("$33", "$26"),
    "62368": ("$45", "$36"),
    "62369": ("$96", "$36"),
    "62370": ("$96", "$47"),
    "61070": ("N/A", "$58"),
    "75809": ("$85", "N/A"),
    "75809-26": ("$24", "$24"),
    "64999": ("Contractor priced", "Contractor priced"),
}
# ASC 2022: indicator, discount flag, national average. CMS values where DOMAIN.md explains a difference:
# 62355 824.93 (guide $826), 62365 2,495.73 ($2,498), P3 62367-62370 13.50/19.03/69.21/61.60 ($13/$18/$67/$60).
ASC_2022 = {
    "62322": ("G2", "Y", "$329"),
    "62323": ("G2", "Y", "$329"),
    "62326": ("G2", "Y", "$426"),
    "62327": ("G2", "Y", "$426"),
    "62350": ("J8", "Y", "$3,613"),
    "62362": ("J8", "Y", "$14,469"),
    "62355": ("A2", "N", "$825"),
    "62365": ("A2", "N", "$2,496"),
    "J2274": ("N1", "", "Packaged"),
    "62367": ("P3", "N", "$14"),
    "62368": ("P3", "N", "$19"),
    "62369": ("P3", "N", "$69"),
    "62370": ("P3", "N", "$62"),
}
DIAGNOSES = (
    "G89.0 G89.2 - G89.29 G89.3 G89.4 G90.521 - G90.529 G57.70 - G57.73 B02.21 B02.22 B02.23 B02.29 G03.1 G03.9 G54.6 "
    "G57.90 - G57.93 M51.16 M51.17 M54.12 - M54.17 M80.08XA M80.88XA M96.1 T85.610A T85.615A T85.620A T85.625A T85.630A "
    "T85.635A T85.690A T85.695A T85.735A T85.738A T85.830A T85.840A T85.890A Z45.49"
)
CANCER_RANGES = " ".join(
    [
        "C00-C14 C15-C26 C30-C39 C40-C41 C43-C44 C45-C49 C50-C50 C51-C58",
        "C60-C63 C64-C68 C69-C72 C73-C75 C76-C80 C7A-C7A C7B-C7B C81-C96",
    ]
)


@pytest.fixture(scope="module")
def real_files(cms_data_dir, django_db_setup, django_db_blocker):
    remove = guide_data.load(django_db_blocker, cms_data_dir, guide_data.ICD_FY2021 + guide_data.CMS_2022 + guide_data.CMS_2023)
    yield cms_data_dir
    remove()


def _tables(response) -> dict[str, dict[str, list[str]]]:
    """Return {table kind: {data-code: [cell texts after code and description]}}."""
    assert response.status_code == 200
    tree = html.fromstring(response.content)
    found = {}
    for table in tree.xpath("//table[@data-testid]"):
        rows = {}
        for row in table.xpath(".//tr[@data-code]"):
            cells = [" ".join(td.text_content().split()) for td in row.findall("td")]
            rows[row.get("data-code")] = cells
        found[table.get("data-testid").removeprefix("table-")] = rows
    return found


@pytest.fixture
def page_2022(real_files, db, client):
    return client.get(URL.format(year=2022))


def test_2022_guide_reproduces_every_physician_figure(page_2022):
    physician = _tables(page_2022)["physician"]
    for code, (office, facility) in PHYSICIAN_2022.items():
        assert physician[code][2:4] == [office, facility], code
    assert "ASP+6%" in physician["J2274"][1]
    assert physician["A4220"][2].startswith("Not paid under the PFS (P)")


def test_2022_guide_reproduces_the_asc_table(page_2022):
    asc = _tables(page_2022)["asc"]
    assert list(asc) == list(ASC_2022)
    for code, expected in ASC_2022.items():
        assert tuple(asc[code][2:5]) == expected, code


def test_2022_guide_lists_every_diagnosis_code_range_and_note(page_2022):
    diagnoses = _tables(page_2022)["diagnoses"]
    text = page_2022.content.decode()
    for code in [*DIAGNOSES.replace(" - ", "~").split(), *CANCER_RANGES.split()]:
        assert code.replace("~", " - ") in diagnoses, code
    assert diagnoses["G89.29" if "G89.29" in diagnoses else "G89.2 - G89.29"]
    tree = html.fromstring(page_2022.content)
    chronic = tree.xpath('//tr[@data-code="G89.2 - G89.29"]//ul[@class="range-codes"]/li')
    assert [" ".join(li.text_content().split())[:6] for li in chronic] == ["G89.2 ", "G89.21", "G89.22", "G89.28", "G89.29"]
    assert [li.get("class") for li in chronic] == [None, "billable", "billable", "billable", "billable"]
    assert diagnoses["T85.610A"][2] == "Billable"
    for note in (
        "must be documented as &quot;chronic&quot;",
        "no default code for &quot;CRPS&quot;",
        "should not be assigned with causalgia",
    ):
        assert note in text
    for label in ("Chronic pain disorders", "Underlying causes (cancer)", "Device complications", "Attention to device", "Trial"):
        assert label in text
    assert "not coding advice" in text


def test_2022_guide_lists_hcpcs_and_hospital_outpatient(page_2022):
    tables = _tables(page_2022)
    assert set(tables["hcpcs"]) == {"E0783", "E0786", "E0785", "J2274", "J7799", "A9900", "A4220"}
    assert tables["hcpcs"]["J2274"][2].startswith("E:")
    opps = tables["hospital_outpatient"]
    assert opps["62362"][2:4] == ["J1", "5471"] and opps["62362"][4].startswith("$")
    assert opps["J2274"][4] == "Packaged"


def test_cents_show_the_cms_values(real_files, db, client):
    physician = _tables(client.get(URL.format(year=2022), {"amounts": "cents"}))["physician"]
    assert physician["62327"][2] == "$276.50"
    assert physician["62365"][3] == "$303.50"
    assert physician["75809-26"][3] == "$23.53"


def test_locality_changes_the_physician_figures(real_files, db, client):
    response = client.get(URL.format(year=2022), {"locality": "02102-01"})
    assert "ALASKA" in response.content.decode()
    national = _tables(client.get(URL.format(year=2022)))["physician"]
    alaska = _tables(response)["physician"]
    assert alaska["62362"][3] != national["62362"][3]
    assert alaska["62362"][3].startswith("$")


def test_2023_shows_the_change_since_2022_and_flags_changed_codes(real_files, db, client):
    response = client.get(URL.format(year=2023))
    physician = _tables(response)["physician"]
    # 62322 office: 4.14 x 33.8872 = $140.29 in 2023, 4.17 x 34.6062 = $144.31 in 2022.
    assert physician["62322"][2] == "$140"
    assert physician["62322"][4] == "-$4"
    assert "Descriptor changed since 2022" in physician["64999"][1]
    assert "change since 2022" in response.content.decode()


def test_page_costs_a_fixed_number_of_queries_however_many_codes(real_files, db, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(40):
        client.get(URL.format(year=2023), {"locality": "national"})
    with CaptureQueriesContext(connection) as before:
        client.get(URL.format(year=2023))
    guide = Guide.objects.get(slug="intrathecal-drug-delivery")
    for kind, codes in (("physician", ["99213", "64450", "20610"]), ("diagnoses", ["M54.5", "G89.18", "C91-C95"])):
        section = GuideSection.objects.get(guide=guide, kind=kind)
        GuideEntry.objects.bulk_create(GuideEntry(section=section, code_text=code, group="More") for code in codes)
    with CaptureQueriesContext(connection) as after:
        response = client.get(URL.format(year=2023))
    assert "99213" in response.content.decode()
    assert len(after.captured_queries) == len(before.captured_queries)


def test_csv_export_has_every_row(real_files, db, client):
    response = client.get(URL.format(year=2022) + "export.csv", {"amounts": "cents"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert "Trial,62327,,Njx interlaminar lmbr/sac,$276.50,$106.24" in text
    assert ',62362,,Implant spine infusion pump,J8,Y,"$14,468.87"' in text
    assert "G89.29,,Other chronic pain,Billable" in text


@pytest.mark.slow
def test_pdf_download_is_a_pdf(real_files, db, client):
    response = client.get(URL.format(year=2022) + "guide.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and len(response.content) > 20_000


def test_unknown_locality_or_guide_is_a_404(real_files, db, client):
    assert client.get(URL.format(year=2022), {"locality": "not-a-place"}).status_code == 404
    assert client.get("/guides/no-such-guide/2022/").status_code == 404


def test_a_locality_without_gpcis_that_year_falls_back_to_national(real_files, db, client):
    response = client.get(URL.format(year=2023), {"locality": "02102-01"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "No GPCIs for locality 02102-01 are loaded for 2023: national amounts are shown." in text
    assert 'data-testid="locality-name">National' in text


def test_drafts_are_for_the_reimbursement_team(real_files, db, client, team_user):
    Guide.objects.filter(slug="intrathecal-drug-delivery").update(status=Guide.Status.DRAFT)
    assert client.get(URL.format(year=2022)).status_code == 404
    assert "No guide is published yet" in client.get("/guides/").content.decode()
    client.login(username=team_user.username, password=PASSWORD)
    assert client.get(URL.format(year=2022)).status_code == 200


def test_guide_list_links_to_the_latest_year(real_files, db, client):
    assert "Intrathecal drug delivery" in client.get("/guides/").content.decode()
    response = client.get("/guides/intrathecal-drug-delivery/")
    assert response.status_code == 302 and response["Location"] == URL.format(year=2023)


def test_year_picker_redirects_to_the_year_address(real_files, db, client):
    response = client.get(URL.format(year=2023), {"year": "2022", "locality": "national", "amounts": "cents"})
    assert response.status_code == 302
    assert response["Location"].startswith(URL.format(year=2022) + "?")


def test_sources_name_the_releases_used(page_2022):
    text = page_2022.content.decode()
    assert "ICD-10-CM FY2021 (icd10cm-order-Jan-2021.txt)" in text
    assert "2022 January (PPRRVU22_JAN.csv)" in text and "January_2022_Web_Addendum_B.01.10.22.xlsx" in text


def test_admin_change_is_recorded_with_its_author(real_files, db, client, team_user):
    client.login(username=team_user.username, password=PASSWORD)
    entry = GuideEntry.objects.get(section__guide__slug="intrathecal-drug-delivery", section__kind="asc", code_text="62362")
    data = {"section": entry.section_id, "position": entry.position, "group": "", "code_text": "62362", "label": "", "note": "J8"}
    response = client.post(f"/admin/codes/guideentry/{entry.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = entry.history.latest()
    assert (latest.history_type, latest.note, latest.history_user) == ("~", "J8", team_user)


def test_admin_edits_entries_inline_and_records_history(real_files, db, client, team_user):
    client.login(username=team_user.username, password=PASSWORD)
    guide = Guide.objects.get(slug="intrathecal-drug-delivery")
    section = guide.sections.get(kind="physician")
    assert client.get(f"/admin/codes/guide/{guide.pk}/change/").status_code == 200
    page = client.get(f"/admin/codes/guidesection/{section.pk}/change/")
    assert page.status_code == 200 and "62362" in page.content.decode()
    entry = section.entries.get(code_text="62362")
    entry.note = "Device-intensive in the ASC"
    entry._change_reason = "test"
    entry.save()
    assert entry.history.count() == 2
    history = client.get(f"/admin/codes/guideentry/{entry.pk}/history/")
    assert history.status_code == 200
    assert Decimal("1") == Decimal(entry.history.filter(history_type="~").count())


def test_a_year_without_a_fee_schedule_is_a_404_listing_the_loaded_years(real_files, db, client):
    for year in (2024, 1999):
        for suffix in ("", "export.csv", "guide.pdf"):
            response = client.get(URL.format(year=year) + suffix)
            assert response.status_code == 404
        text = response.content.decode()
        assert f"No physician fee schedule is loaded for {year}" in text
        assert (
            'href="/guides/intrathecal-drug-delivery/2022/"' in text and 'href="/guides/intrathecal-drug-delivery/2023/"' in text
        )


def test_the_disclaimer_is_shown_once_and_printed(page_2022):
    guide = Guide.objects.get(slug="intrathecal-drug-delivery")
    html = page_2022.content.decode()
    assert html.count(escape(guide.disclaimer)) == 1
    assert html.index('class="disclaimer"') < html.index("</article>")  # in the article, so the PDF carries it
