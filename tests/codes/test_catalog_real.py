"""Acceptance on the real NCHS/CMS files: FY2021 and FY2025 ICD-10-CM, 2022 CPT/HCPCS; search, pages and API.

The files are imported once for this module inside one transaction rolled back at the end (each test
runs in a savepoint inside it), so the rest of the suite finds the database as it was.
"""

import datetime

import pytest
from django.db import connection, transaction

from codes import catalog, search
from codes.importers import catalog_load, hcpcs_descriptors, registry
from codes.importers.base import SourceFile
from codes.models import Code, CodeVersion, Release, SearchWord

pytestmark = [pytest.mark.cms_data, pytest.mark.django_db]

FY2021 = ["icd10cm/fy2021/icd10cm-order-Jan-2021.txt", "icd10cm/fy2021/icd10cm_tabular_2021.xml"]
FY2025 = ["icd10cm/fy2025/code-list-April-2025.txt", "icd10cm/fy2025/icd10cm-tabular-April-2025.xml"]
CPT_2022 = ["cms/2022/PPRRVU22_JAN.csv", "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx"]
IN_2021 = datetime.date(2021, 3, 1)
IN_2025 = datetime.date(2025, 6, 1)


@pytest.fixture(scope="module", autouse=True)
def loaded(django_db_setup, django_db_blocker, cms_data_dir):
    """Import FY2021, then FY2025 (the roll-over), then the 2022 CPT/HCPCS codes; roll back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        results = {}
        for name, files in (("fy2021", FY2021), ("fy2025", FY2025), ("cpt2022", CPT_2022)):
            if name == "cpt2022":
                # The catalog's own importers only: the fee importers also claim these files and are tested elsewhere.
                found = [
                    importer.run([SourceFile(name=f, path=cms_data_dir / f)])
                    for importer, f in zip(hcpcs_descriptors.IMPORTERS, files, strict=True)
                ]
            else:
                found = registry.run_import([cms_data_dir / f for f in files])
            results[name] = {r.kind: r for r in found}
        if connection.vendor == "postgresql":
            # Check the deferred foreign keys of 400k new rows once, here; left pending, every test's
            # teardown (SET CONSTRAINTS ALL IMMEDIATE inside its savepoint) would check them again.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield results
        transaction.set_rollback(True)


# Releases -------------------------------------------------------------------------------------


def test_fy2021_has_72621_billable_and_22737_header_codes(loaded):
    result = loaded["fy2021"]["icd10cm"]
    assert result.counts["billable"] == 72_621 and result.counts["header"] == 22_737
    release = Release.objects.get(system="icd10cm", label="FY2021")
    versions = CodeVersion.objects.filter(release=release)
    assert versions.filter(billable=True).count() == 72_621 and versions.filter(billable=False).count() == 22_737
    assert release.effective_from == datetime.date(2020, 10, 1) and release.effective_to == datetime.date(2025, 3, 31)


def test_fy2025_reports_m545_to_header_its_new_children_and_ended_o350xx0(loaded):
    result = loaded["fy2025"]["icd10cm"]
    report = result.report
    assert report["previous_release"] == "FY2021"
    assert "M54.5" in report["billable_to_header"]
    assert {"M54.50", "M54.51", "M54.59"} <= set(report["added"])
    assert "O35.0XX0" in report["ended"]
    assert result.counts["added"] == 2_505 and result.counts["ended"] == 279
    assert result.counts["changed"] == 267 and result.counts["unchanged"] == 94_812  # as the README shows
    assert sum(result.counts[k] for k in ("added", "changed", "unchanged")) == result.counts["codes"] == 97_584


def test_seven_character_codes_exist_in_both_releases_with_their_description(loaded):
    versions = {v.release.label: v for v in CodeVersion.objects.filter(code__code="T85610A").select_related("release")}
    assert set(versions) == {"FY2021", "FY2025 April"}
    for version in versions.values():
        assert version.long_description == "Breakdown (mechanical) of cranial or spinal infusion catheter, initial encounter"
        assert version.billable
    assert CodeVersion.objects.filter(code__code="T85", release__label="FY2025 April").get().seventh_characters == {
        "A": "initial encounter",
        "D": "subsequent encounter",
        "S": "sequela",
    }


def test_g9052_is_a_header_and_g90521_billable(loaded):
    for day in (IN_2021, IN_2025):
        header, billable = catalog.code_status("G90.52", on=day), catalog.code_status("G90521", on=day)
        assert header.is_header and not header.billable and header.children_billable[0] == "G90.521"
        assert "header code, not billable" in header.message
        assert billable.ok and billable.descriptor == "Complex regional pain syndrome I of right lower limb"


def test_cpt_and_hcpcs_codes_come_from_the_rvu_file_and_addendum_b(loaded):
    result = loaded["cpt2022"]["hcpcs-descriptors"]
    assert result.release.startswith("CPT (HCPCS Level I) 2022 January")
    assert Code.objects.get(system="cpt", code="62322").short_description == "Njx interlaminar lmbr/sac"
    assert Code.objects.get(system="hcpcs", code="J2274").short_description == "Inj morphine pf epid ithc"
    pla = CodeVersion.objects.get(code__system="cpt", code__code="0001U")
    assert pla.source == "opps-addendum-b" and pla.release.effective_from == datetime.date(2022, 1, 1)


# Catalog questions ----------------------------------------------------------------------------


def test_code_status_explains_why_a_code_cannot_be_billed(loaded):
    assert catalog.code_status("T85.610", on=IN_2021).message == "T85.610 needs a 7th character, e.g. T85.610A."
    ended = catalog.code_status("O35.0XX0", on=IN_2025)
    assert ended.exists and not ended.valid_on_date and ended.ended_on == datetime.date(2025, 3, 31)
    assert catalog.code_status("M54.5", on=IN_2021).ok and catalog.code_status("M54.5", on=IN_2025).is_header
    assert catalog.code_status("62322", on=datetime.date(2022, 5, 1)).ok
    assert not catalog.code_status("62322", on=datetime.date(2021, 5, 1)).valid_on_date  # no 2021 CPT release loaded
    assert not catalog.code_status("Q99.99", on=IN_2021).exists


def test_excludes1_conflicts_from_the_real_tabular_list(loaded):
    (chronic, *_) = catalog.excludes1_conflicts(["G89.29", "G57.71"], on=IN_2021)
    assert (chronic.code, chronic.note_code, chronic.other, chronic.pattern) == ("G89.29", "G89.2", "G57.71", "G57.7-")
    assert chronic.note == "causalgia, lower limb (G57.7-)"
    crps = catalog.excludes1_conflicts(["G90.521", "G57.71"], on=IN_2021)
    assert {(c.note_code, c.other) for c in crps} >= {("G90.5", "G57.71"), ("G57.7", "G90.521")}
    assert catalog.excludes1_conflicts(["G89.29", "M54.16"], on=IN_2021) == []


def test_expand_range(loaded):
    chronic = ["G89.2", "G89.21", "G89.22", "G89.28", "G89.29"]
    assert [c.display for c in catalog.expand_range("G89.2 - G89.29")] == chronic  # not the HCPCS codes G8923, G8924
    assert [c.display for c in catalog.expand_range("G89.2 - G89.29", on=IN_2021)] == chronic
    assert [c.code for c in catalog.expand_range("62322-62327")] == ["62322", "62323", "62324", "62325", "62326", "62327"]
    assert {c.code[:3] for c in catalog.expand_range("C7A-C7A")} == {"C7A"}
    pumps = catalog.expand_range("E0782-E0786")
    assert {c.system for c in pumps} == {"hcpcs"} and {"E0783", "E0786"} <= {c.code for c in pumps}


# Search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["g8929", "G89.29", " g89.29 "])
def test_exact_code_comes_first(loaded, query):
    found = search.search(query)
    assert found[0].display == "G89.29" and found[0].match == "exact"


def test_code_prefix_lists_the_code_then_its_children(loaded):
    assert {c.system for c in search.search("G892")} == {"icd10cm", "hcpcs"}  # undotted: HCPCS G8923 too
    assert [c.display for c in search.search("G89.2")] == ["G89.2", "G89.21", "G89.22", "G89.28", "G89.29"]
    assert [c.display for c in search.search("G89.2", valid_on=IN_2021)] == ["G89.2", "G89.21", "G89.22", "G89.28", "G89.29"]


def test_cpt_range_returns_exactly_the_six_codes(loaded):
    found = search.search("62322-62327")
    assert [(c.system, c.code) for c in found] == [("cpt", str(n)) for n in range(62322, 62328)]
    # Typed the wrong way round: the same six, not a word search for "62327" and "62322".
    assert [(c.code, c.match) for c in search.search("62327-62322")] == [(str(n), "range") for n in range(62322, 62328)]


def test_icd_range_returns_only_codes_of_those_categories(loaded):
    found = search.search("C00-C14", limit=500)
    categories = {c.code[:3] for c in found}
    assert categories == {f"C{n:02d}" for n in range(0, 15)}
    assert len(found) > 70 and all(c.match == "range" for c in found)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("central pain", "G89.0"),
        ("low back pain", "M54.5"),
        ("spinal infusion catheter breakdown", "T85.610"),
        ("pump refill kit", "A4220"),
    ],
)
def test_words_find_the_expected_code_first(loaded, query, expected):
    assert search.search(query)[0].display == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # CMS abbreviates these ("Implant spinal canal cath", "Implant spine infusion pump", "Inj morphine pf epid ithc").
        ("intrathecal catheter", {"62350", "62355"}),
        ("intrathecal pump", {"62362", "62367", "62369", "62370", "95990"}),
        ("intrathecal morphine", {"J2274"}),
        ("catheter spinal canal", {"62350", "62355"}),
        ("pump reprogramming", {"62368", "62369", "62370"}),
        ("pump fill", {"62369"}),  # "Anal sp inf pmp w/reprg&fill": a word after "&"
    ],
)
def test_words_find_cpt_and_hcpcs_codes_through_their_abbreviations(loaded, query, expected):
    found = [c.display for c in search.search(query, limit=20)]
    assert expected <= set(found), found


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("shingles", "B02"),  # an "Includes" note of B02 Zoster [herpes zoster]
        ("moniliasis", "B37"),  # likewise of B37 Candidiasis
        ("rsd", "G90.5"),  # reflex sympathetic dystrophy
        ("failed back surgery syndrome", "M96.1"),
    ],
)
def test_words_find_icd10cm_codes_through_their_index_terms(loaded, query, expected):
    found = search.search(query)
    assert found[0].display == expected and found[0].match == "words", [c.display for c in found]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("spinal catheter malfunction", {"T85.610A", "T85.610D", "T85.610S"}),  # "Breakdown (mechanical) of ..."
        ("spinal catheter migration", {"T85.620A"}),  # "Displacement of cranial or spinal infusion catheter"
        ("catheter dye study", {"61070", "75809"}),  # the guide's name for the shuntogram and the reservoir puncture
    ],
)
def test_words_find_the_therapys_device_complications_and_dye_study(loaded, query, expected):
    found = [c.display for c in search.search(query, limit=50)]
    assert expected <= set(found), found


@pytest.mark.skipif(connection.vendor != "postgresql", reason="fuzzy matching needs pg_trgm (SQLite matches words as typed)")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cathter breakdwn", "T85.610"),  # "catheter breakdown": both words misspelt
        ("chronik pain syndrom", "G89.4"),
        ("intrathecl cathter", "62350"),  # a word found only through the CPT synonyms
        ("postherpetc neuralgia", "B02.22"),
        ("hart failure", "I50"),  # "hart" is one edit from heart, hard, harm: all are tried
        ("sjogren", "M35.0"),  # FY2021 spelt it so; FY2025 (the codes' text now) spells "Sjögren"
    ],
)
def test_misspelt_words_are_replaced_by_their_closest_vocabulary_words(loaded, query, expected):
    assert "catheter" in search.corrections(["cathter"])[0]
    found = search.search(query, limit=10)
    assert found and all(c.match == "similar" for c in found)
    assert expected in [c.display for c in found], [c.display for c in found]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="fuzzy matching needs pg_trgm (SQLite matches words as typed)")
def test_spelling_correction_keeps_to_three_queries_and_leaves_correct_words_alone(loaded, django_assert_max_num_queries):
    for query in ("cathter breakdwn", "cathtr " * 30, "X9.pain", "G8999 12345"):
        with django_assert_max_num_queries(3):
            search.search(query)
    assert search.corrections(["catheter", "cathter", "cathter"]) == [["catheter"], ["catheter"], ["catheter"]]
    assert search.search("morphine", system="cpt") == []  # spelt right, just not a CPT word: nothing "similar"
    assert [c.display for c in search.search("knee replace")][:2] == ["27486", "27487"]  # "Revise/replace knee joint"


def test_search_text_is_what_a_rebuild_would_write(loaded):
    """Imports and `manage.py rebuild_search_text` make the same text: a rebuild right after the loads changes nothing."""
    assert catalog_load.rebuild_search_text() == 0


def test_vocabulary_holds_each_word_of_the_search_text_once(loaded):
    words = set(SearchWord.objects.values_list("word", flat=True))
    # Exactly those: words that FY2025 rewrote away ("sjogren") are gone, or they would pass as spelt right.
    assert words == search.vocabulary(Code.objects.values_list("search_text", flat=True))
    assert "sjogren" not in words and "sjögren" in words
    assert {"catheter", "intrathecal", "breakdown", "postherpetic"} <= words
    assert not {w for w in words if len(w) < 3 or any(ch.isdigit() for ch in w) or w != w.lower()}
    # numbers and short words (acronyms) stand for themselves
    assert search.corrections(["2", "of", "rsx"]) == [["2"], ["of"], ["rsx"]]


def test_search_filters_by_system_billable_and_date(loaded):
    in_2021 = [c.display for c in search.search("low back pain", billable=True, valid_on=IN_2021)]
    assert "M54.5" in in_2021 and "M54.50" not in in_2021
    assert [c.billable for c in search.search("M54.5", valid_on=IN_2021)][:1] == [True]  # as of 2021, not the latest release
    assert [c.billable for c in search.search("M54.5")][:1] == [False]
    in_2025 = [c.display for c in search.search("low back pain", billable=True, valid_on=IN_2025)]
    assert "M54.5" not in in_2025 and "M54.50" in in_2025
    assert {c.system for c in search.search("pump", system="hcpcs")} == {"hcpcs"}


# API and pages --------------------------------------------------------------------------------


def test_api_search_in_one_query(loaded, client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/codes/", {"q": "G89.2", "system": "icd10cm", "valid_on": "2021-03-01"})
    assert response.status_code == 200
    body = response.json()
    assert [r["display"] for r in body["results"]] == ["G89.2", "G89.21", "G89.22", "G89.28", "G89.29"]
    assert body["results"][0]["billable"] is False and body["results"][0]["match"] == "exact"
    assert body["results"][4]["url"].endswith("/api/v1/codes/icd10cm/G8929/")


def test_api_detail_accepts_dotted_and_dotless(loaded, client):
    for code in ("T85.610A", "t85610a"):
        body = client.get(f"/api/v1/codes/icd10cm/{code}/").json()
        assert body["display"] == "T85.610A" and [v["release"] for v in body["versions"]] == ["FY2025 April", "FY2021"]
        assert body["seventh_characters"]["A"] == "initial encounter"
        assert [a["display"] for a in body["ancestors"]] == ["T85", "T85.6", "T85.61", "T85.610"]
    g892 = client.get("/api/v1/codes/icd10cm/G89.2/").json()
    assert {"kind": "excludes1", "carrier": "G89.2", "text": "causalgia, lower limb (G57.7-)"} in g892["notes"]
    missing = client.get("/api/v1/codes/icd10cm/Q99.99/")
    assert missing.status_code == 404 and missing.json()["message"] == "Q99.99 is not in any loaded release of ICD-10-CM."
    assert client.get("/api/v1/codes/ICD10CM/G89.29/").json()["display"] == "G89.29"  # the system in any case
    assert client.get("/api/v1/codes/?valid_on=someday").status_code == 400


def test_code_page_shows_header_children_notes_and_history(loaded, client):
    response = client.get("/codes/icd10cm/M545/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "header: not valid on a claim" in html and "M54.50" in html and "FY2021" in html and "FY2025 April" in html
    assert client.get("/codes/icd10cm/M54.5/").url == "/codes/icd10cm/M545/"
    assert client.get("/codes/ICD10CM/M54.5/").url == "/codes/icd10cm/M545/"
    payments = client.get("/codes/icd10cm/T85610A/payments/", HTTP_HX_REQUEST="true").content.decode()
    assert "Medicare payments for T85.610A</h2>" in payments and "carry no payment" in payments
    g89 = client.get("/codes/icd10cm/G8929/").content.decode()
    assert "causalgia, lower limb (G57.7-)" in g89 and "(from G89.2)" in g89
    assert 'id="payments"' in g89 and "/codes/icd10cm/G8929/payments/" in g89


def test_lookup_page_and_htmx_fragment(loaded, client):
    page = client.get("/lookup/", {"q": "62322-62327"}).content.decode()
    assert page.count('href="/codes/cpt/6232') == 6 and "<h1>Code lookup</h1>" in page
    fragment = client.get("/lookup/", {"q": "g8929"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<h1>" not in fragment and 'href="/codes/icd10cm/G8929/"' in fragment


@pytest.mark.skipif(connection.vendor != "postgresql", reason="fuzzy matching needs pg_trgm (SQLite matches words as typed)")
def test_lookup_page_says_when_it_shows_close_spellings(loaded, client):
    fragment = client.get("/lookup/", {"q": "cathter breakdwn"}, HTTP_HX_REQUEST="true").content.decode()
    assert "closest spellings" in fragment and 'href="/codes/icd10cm/T85610A/"' in fragment
    exact = client.get("/lookup/", {"q": "catheter breakdown"}, HTTP_HX_REQUEST="true").content.decode()
    assert "closest spellings" not in exact and 'href="/codes/icd10cm/T85610A/"' in exact
