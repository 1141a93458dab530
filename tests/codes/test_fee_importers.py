"""Fee-schedule importers: every trap of DOMAIN.md section C, bad input, all-or-nothing loading.

Small files in tests/codes/data/fees/ follow the CMS layouts; xlsx workbooks are written here with openpyxl
the way CMS ships them (mixed cell types). Real-file parsing is checked against the MANIFEST counts.
"""

import re
from collections import Counter
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from codes import pricing
from codes.importers import asc_addenda, asp, dmepos, gpci, opps_addendum_b, pprrvu, registry
from codes.importers.base import ImportFailure, SourceFile
from codes.models import AscRate, DmeposFee, FeeRelease, Locality, OppsRate, PhysicianFee

DATA = Path(__file__).parent / "data" / "fees"
PPRRVU_SMALL = DATA / "PPRRVU24_JAN_small.csv"


def ensure_conversion_factors() -> None:
    """Re-seed the migration's conversion factors: a transactional test (live_server) flushes them."""
    import importlib

    from django.apps import apps

    importlib.import_module("codes.migrations.0006_conversion_factors").seed(apps, None)


def source(path: Path) -> SourceFile:
    return SourceFile(name=path.name, path=path)


def written(tmp_path: Path, name: str, text: str, encoding: str = "ascii") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def pprrvu_variant(tmp_path, old: str, new: str, count: int = 1) -> SourceFile:
    text = PPRRVU_SMALL.read_bytes().decode("ascii")
    assert old in text
    return source(written(tmp_path, "PPRRVU24_JAN.csv", text.replace(old, new, count)))


# --- PPRRVU -----------------------------------------------------------------------------------------


def test_pprrvu_csv_small_file_traps():
    rows = list(pprrvu.parse_pprrvu(source(PPRRVU_SMALL)))
    keys = [(r.hcpcs, r.modifier) for r in rows]
    assert len(rows) == 8  # the Ctrl-Z EOF row is not a data row
    assert ("75809", "") in keys and ("75809", "26") in keys and ("75809", "TC") in keys  # keyed by (code, modifier)
    by_key = {(r.hcpcs, r.modifier): r for r in rows}
    assert by_key[("0591T", "")].hcpcs == "0591T"  # leading zero kept: codes are text
    assert by_key[("Q4218", "")].description == "Surgicord, per sq cm"  # quoted comma
    pump = by_key[("62362", "")]
    assert pump.non_facility_na and not pump.facility_na
    assert pump.non_facility_pe_rvu == D("4.59")  # the RVU column holds a number; N/A comes from the indicator
    assert pump.global_days == "090" and by_key[("64999", "")].global_days == "YYY"
    assert by_key[("75809", "TC")].diagnostic_imaging_family == "99" and by_key[("75809", "TC")].physician_supervision == "03"
    assert pump.conversion_factor == D("32.7442")
    assert pump.line == 13
    assert pprrvu.read_release(source(PPRRVU_SMALL)) == pprrvu.tabular.ReleaseInfo(2024, 1)


def _as_xlsx(csv_path: Path, xlsx_path: Path) -> Path:
    """Write a PPRRVU CSV as CMS's xlsx does: modifiers 26 as integers, numbers numeric, _x001A_ EOF row."""
    import csv

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "PPRRVU24_V1215"
    with open(csv_path, encoding="ascii", newline="") as handle:
        for index, cells in enumerate(csv.reader(handle), start=1):
            values = []
            for position, cell in enumerate(cells):
                if index > 10 and cell == "\x1a":
                    cell = "_x001A_"
                if index > 10 and position not in (0, 2, 3, 14, 25, 27) and cell.replace(".", "").isdigit():
                    number = float(cell)
                    values.append(int(number) if number.is_integer() else number)
                elif cell == "":
                    values.append(None)
                else:
                    values.append(cell)
            sheet.append(values)
    workbook.save(xlsx_path)
    return xlsx_path


def test_pprrvu_xlsx_equals_csv(tmp_path):
    xlsx = _as_xlsx(PPRRVU_SMALL, tmp_path / "PPRRVU24_JAN.xlsx")
    assert pprrvu.looks_like_pprrvu(source(xlsx))
    assert list(pprrvu.parse_pprrvu(source(xlsx))) == list(pprrvu.parse_pprrvu(source(PPRRVU_SMALL)))


def test_pprrvu_unknown_header_names_line_and_column(tmp_path):
    bad = pprrvu_variant(
        tmp_path, "HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVU", "HCPCS,MOD,DESCRIPTION,CODE,PAYMENT,RVU,PE RVUS"
    )
    with pytest.raises(ImportFailure) as failure:
        list(pprrvu.parse_pprrvu(bad))
    assert failure.value.line == 10 and failure.value.column == "PE RVUS"
    assert str(failure.value).startswith("PPRRVU24_JAN.csv, line 10, column PE RVUS: unknown header")


def test_pprrvu_non_numeric_rvu_names_line_and_column(tmp_path):
    bad = pprrvu_variant(tmp_path, "62322,,Njx interlaminar lmbr/sac,A,,1.55", "62322,,Njx interlaminar lmbr/sac,A,,1.5x")
    with pytest.raises(ImportFailure) as failure:
        list(pprrvu.parse_pprrvu(bad))
    assert (failure.value.line, failure.value.column) == (12, "WORK RVU")
    assert "expected a number, found '1.5x'" in str(failure.value)


@pytest.mark.parametrize(
    ("old", "new", "column", "message"),
    [
        ("62322,,Njx interlaminar lmbr/sac,A,", "62322,,Njx interlaminar lmbr/sac,AB,", "STATUS CODE", "one letter"),
        ("6.05,4.59,NA,", "6.05,4.59,N/A,", "NON-FAC NA INDICATOR", "blank or NA"),
        ("62322,,Njx", "6232,,Njx", "HCPCS", "not a HCPCS/CPT code"),
        ("1.55,2.38,,0.62,,0.19,4.12", "1.55,2.38,,,,0.19,4.12", "FACILITY PE RVU", "missing"),
    ],
)
def test_pprrvu_bad_cells(tmp_path, old, new, column, message):
    with pytest.raises(ImportFailure) as failure:
        list(pprrvu.parse_pprrvu(pprrvu_variant(tmp_path, old, new)))
    assert failure.value.column == column and message in str(failure.value)


def test_pprrvu_without_header_is_unknown_layout(tmp_path):
    bad = source(written(tmp_path, "PPRRVU24_JAN.csv", "just,some,text\r\n"))
    with pytest.raises(ImportFailure, match="unknown layout"):
        list(pprrvu.parse_pprrvu(bad))


# --- GPCI -------------------------------------------------------------------------------------------

GPCI_ROWS = [
    ("10112", "AL", "00", "ALABAMA", 1, 0.888, 0.921),
    ("02102", "AK", "01", "ALASKA*", 1.5, 1.118, 0.614),
    ("01112", "CA", 54, "BAKERSFIELD", 1.027, 1.079, 0.694),  # locality number stored as an integer
    ("03602", "WY", "21", "WYOMING**", 1, 1, 0.841),
]


def gpci_workbook(path: Path, rows=GPCI_ROWS, header_year: int = 2024) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Addendum E. GPCIs"
    sheet.append([f"ADDENDUM E. FINAL CY {header_year} GEOGRAPHIC PRACTICE COST INDICES (GPCIs) BY STATE AND MEDICARE LOCALITY"])
    sheet.append([])
    sheet.append(
        [
            "Medicare Administrative Contractor",
            "State",
            "Locality Number",
            "Locality Name",
            f"{header_year} PW GPCI (with 1.0 Floor)",
            f"{header_year} PE GPCI",
            f"{header_year} MP GPCI",
        ]
    )
    for row in rows:
        sheet.append(list(row))
    sheet.append(["MAC Assignments as of October 27, 2020"])
    sheet.append([])
    sheet.append(["*Work GPCI reflects a 1.5 floor in Alaska established by the MIPPA."])
    sheet.append(["**PE GPCI reflects a 1.0 floor for frontier states established by the ACA."])
    workbook.save(path)
    return path


def test_gpci_traps(tmp_path):
    path = gpci_workbook(tmp_path / "GPCI2024.xlsx")
    rows = list(gpci.parse_gpci(source(path)))
    assert [(r.mac, r.number) for r in rows] == [("10112", "00"), ("02102", "01"), ("01112", "54"), ("03602", "21")]
    alaska = rows[1]
    assert (alaska.name, alaska.footnote, alaska.work_gpci) == ("ALASKA", "*", D("1.500"))
    assert rows[3].footnote == "**" and rows[3].pe_gpci == D("1.000")
    assert gpci.read_release(source(path)).year == 2024


def test_gpci_row_missing_a_column_names_sheet_row_and_column(tmp_path):
    rows = [*GPCI_ROWS[:2], ("01112", "CA", 54, "BAKERSFIELD", 1.027, None, 0.694)]
    path = gpci_workbook(tmp_path / "GPCI2024.xlsx", rows)
    with pytest.raises(ImportFailure) as failure:
        list(gpci.parse_gpci(source(path)))
    assert (failure.value.sheet, failure.value.line, failure.value.column) == ("Addendum E. GPCIs", 6, "PE GPCI")
    assert str(failure.value) == "GPCI2024.xlsx, sheet 'Addendum E. GPCIs', row 6, column PE GPCI: value is missing"


def test_gpci_non_numeric_value(tmp_path):
    rows = [("10112", "AL", "00", "ALABAMA", "one", 0.888, 0.921)]
    with pytest.raises(ImportFailure, match="PW GPCI: expected a number"):
        list(gpci.parse_gpci(source(gpci_workbook(tmp_path / "GPCI2024.xlsx", rows))))


# --- ASC Addenda AA/BB -------------------------------------------------------------------------------


def test_asc_aa_traps():
    aa = source(DATA / "ASC_Addendum_AA_small.csv")
    assert b"\x92" in aa.head()  # cp1252 apostrophe: the file is not UTF-8
    with pytest.raises(UnicodeDecodeError):
        aa.head().decode("utf-8")
    rows = {r.hcpcs: r for r in asc_addenda.parse_asc_addendum(aa)}
    assert list(rows) == ["0100T", "62350", "62362", "62355", "62367", "0275T"]  # NOTE and blank rows skipped
    assert rows["62362"].payment_rate == D("14468.87") and rows["62362"].payment_weight == D("289.8613")
    assert rows["62362"].multiple_procedure_discount is True and rows["62355"].multiple_procedure_discount is False
    assert rows["62367"].payment_weight is None and rows["62367"].payment_rate == D("13.50")  # office-based P3: no weight
    assert rows["0275T"].payment_rate is None  # packaged: blank rate, not zero
    assert asc_addenda.read_release(aa) == asc_addenda.tabular.ReleaseInfo(2022, 1)


def test_asc_header_drift_between_years():
    aa23 = source(DATA / "ASC_Addendum_AA_2023_small.csv")  # 'Jan 2023  Payment Indicator' with two spaces
    assert asc_addenda.read_release(aa23) == asc_addenda.tabular.ReleaseInfo(2023, 1)
    rows = {r.hcpcs: r for r in asc_addenda.parse_asc_addendum(aa23)}
    assert rows["0100T"].payment_indicator == "K5" and rows["0100T"].payment_rate is None


@pytest.mark.parametrize(("word", "month"), [("Apr", 4), ("July", 7), ("October", 10)])
def test_asc_quarter_headers(tmp_path, word, month):
    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252").replace("Jan 2022", f"{word} 2022")
    path = written(tmp_path, "AA.csv", text, "cp1252")
    assert asc_addenda.read_release(source(path)) == asc_addenda.tabular.ReleaseInfo(2022, month)


def test_asc_tab_separated_quarterly_txt(tmp_path):
    import csv
    import io

    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252")
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows(csv.reader(io.StringIO(text)))
    path = written(tmp_path, "AA.txt", out.getvalue(), "cp1252")
    assert asc_addenda.addendum_of(source(path)) == "AA"
    assert len(list(asc_addenda.parse_asc_addendum(source(path)))) == 6


def test_asc_bb_rows_and_drug_column():
    bb = source(DATA / "ASC_Addendum_BB_small.csv")
    assert asc_addenda.addendum_of(bb) == "BB"
    rows = list(asc_addenda.parse_asc_addendum(bb))
    assert [r.hcpcs for r in rows] == ["J2274", "J0223", "J0223", "C9399"]  # duplicates are dropped by the loader
    assert rows[0].payment_indicator == "N1" and rows[0].multiple_procedure_discount is None


def test_asc_unknown_header(tmp_path):
    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252").replace("Short Descriptor", "Descriptor")
    with pytest.raises(ImportFailure) as failure:
        list(asc_addenda.parse_asc_addendum(source(written(tmp_path, "AA.csv", text, "cp1252"))))
    assert failure.value.line == 4 and failure.value.column == "Descriptor"


def test_asc_bad_rate_and_flag(tmp_path):
    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252")
    bad_rate = text.replace("$824.93 ", "$82x.93")
    with pytest.raises(ImportFailure, match=r"line 8, column Payment Rate: expected a number"):
        list(asc_addenda.parse_asc_addendum(source(written(tmp_path, "AA.csv", bad_rate, "cp1252"))))
    bad_flag = text.replace("62355,,Remove spine infusion cath,N,", "62355,,Remove spine infusion cath,X,")
    with pytest.raises(ImportFailure, match="Subject to Multiple Procedure Discounting: expected Y or N"):
        list(asc_addenda.parse_asc_addendum(source(written(tmp_path, "AA.csv", bad_flag, "cp1252"))))


@pytest.mark.parametrize(
    ("rate", "message"),
    [("$824.935", "'$824.935' has more than the 2 decimal places this column holds"), ("$1e40", "is too large")],
)
def test_asc_rate_is_never_rounded_on_import(tmp_path, rate, message):
    """Money is rounded once, in codes.pricing: a rate with more decimals than CMS publishes is an error, not rounded."""
    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252").replace("$824.93 ", rate)
    with pytest.raises(ImportFailure, match=rf"line 8, column Payment Rate: .*{re.escape(message)}"):
        list(asc_addenda.parse_asc_addendum(source(written(tmp_path, "AA.csv", text, "cp1252"))))


@pytest.mark.django_db
def test_a_value_too_long_for_its_column_names_the_line_and_nothing_is_imported(tmp_path):
    text = (DATA / "ASC_Addendum_AA_small.csv").read_bytes().decode("cp1252")
    bad = text.replace("62355,,Remove spine infusion cath,N,A2,", "62355,,Remove spine infusion cath,N,A2X,")
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([written(tmp_path, "AA.csv", bad, "cp1252")])
    assert (failure.value.line, failure.value.column) == (8, "payment_indicator")
    assert "'A2X' is longer than the 2 characters of payment_indicator" in str(failure.value)
    assert not FeeRelease.objects.exists() and not AscRate.objects.exists()


# --- OPPS Addendum B ---------------------------------------------------------------------------------


def addendum_b_workbook(path: Path, *, year: int = 2022, rows=None, header=None) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = f"{year} January Addendum B"
    sheet.append([None, f"Addendum B.- OPPS Payment by HCPCS Code for CY {year}"])
    sheet.append(
        [None, "CPT codes and descriptions only are copyright 2021 American Medical Association.\xa0 All Rights Reserved."]
    )
    sheet.append([None, "The existence or absence of a HCPCS code does not mean that an item or service is covered."])
    deductible = "$1,556.00" if year == 2022 else "$1,600.00"
    drug = (
        "Drug Pass-Through Expiration during Calendar Year"
        if year == 2022
        else "Drug and Device Pass-Through Expiration during Calendar Year"
    )
    sheet.append(
        header
        or [
            "HCPCS Code",
            "Short Descriptor",
            " SI",
            "APC ",
            "Relative Weight ",
            "Payment Rate",
            "National Unadjusted Copayment ",
            "Minimum Unadjusted Copayment ",
            f"Note: Actual copayments would be lower due to the cap on copayments at the Inpatient Deductible of {deductible}",
            drug,
            "* Indicates a Change ",
        ]
    )
    for row in rows or [
        ("0001U", "Rbc dna hea 35 ag 11 bld grp", "A ", None, None, None, None, None, None, None, None),
        ("62322", "Njx interlaminar lmbr/sac", "T", "5442", 7.7043, 648.52, ".", 129.71, None, None, None),
        ("62362", "Implant spine infusion pump", "J1", 5471, 206.7704, 17405.31, ".", 3481.07, None, None, "*"),
        ("G0465\xa0", "Autologous prp for ulcers", "S", "5054", 24.830000000000002, 2090.15, None, 418.03, None, None, None),
        ("J1429             ", "Inj golodirsen 10 mg", "G", "9356", None, 166.19, None, 33.24, None, None, "*"),
        ("J2274", "Inj morphine pf epid ithc", "N", None, None, None, None, None, None, None, None),
    ]:
        sheet.append(list(row))
    workbook.save(path)
    return path


def test_addendum_b_traps(tmp_path):
    path = addendum_b_workbook(tmp_path / "January_2022_Web_Addendum_B.xlsx")
    assert opps_addendum_b.looks_like_addendum_b(source(path))
    rows = {r.hcpcs: r for r in opps_addendum_b.parse_addendum_b(source(path))}
    assert set(rows) == {"0001U", "62322", "62362", "G0465", "J1429", "J2274"}  # stray and non-breaking spaces removed
    assert rows["0001U"].status_indicator == "A"  # 'A ' trailing space
    assert rows["62362"].apc == "5471" and rows["62362"].changed  # integer APC becomes text
    assert rows["62322"].national_copayment is None  # '.' is "no value", not an error
    assert rows["G0465"].relative_weight == D("24.8300")  # float noise rounded by Decimal
    assert rows["J2274"].payment_rate is None
    assert opps_addendum_b.read_release(source(path)) == opps_addendum_b.tabular.ReleaseInfo(2022, 1)


def test_addendum_b_2023_header_drift(tmp_path):
    path = addendum_b_workbook(tmp_path / "2023_January_Web_Addendum_B.xlsx", year=2023)
    assert len(list(opps_addendum_b.parse_addendum_b(source(path)))) == 6
    assert opps_addendum_b.read_release(source(path)).year == 2023


def test_addendum_b_unknown_header_and_bad_apc(tmp_path):
    header = [
        "HCPCS Code",
        "Short Descriptor",
        "Status",
        "APC",
        "Relative Weight",
        "Payment Rate",
        "x",
        "y",
        "Note",
        "Pass-Through Expiration",
        "*",
    ]
    with pytest.raises(ImportFailure) as failure:
        list(opps_addendum_b.parse_addendum_b(source(addendum_b_workbook(tmp_path / "b.xlsx", header=header))))
    assert (failure.value.line, failure.value.column) == (4, "Status")
    rows = [("62322", "Njx", "T", "54X2", 7.7, 648.52, None, None, None, None, None)]
    with pytest.raises(ImportFailure, match=r"row 5, column APC: APC must be digits"):
        list(opps_addendum_b.parse_addendum_b(source(addendum_b_workbook(tmp_path / "b.xlsx", rows=rows))))


def test_addendum_b_not_an_xlsx(tmp_path):
    with pytest.raises(ImportFailure, match="not a readable xlsx workbook"):
        list(opps_addendum_b.parse_addendum_b(source(written(tmp_path, "Addendum_B.xlsx", "plain text"))))


# --- ASP and DMEPOS ----------------------------------------------------------------------------------


def test_asp_small_file():
    path = source(DATA / "ASP_Pricing_File_January_2022_small.csv")
    assert asp.looks_like_asp(path) and not dmepos.looks_like_dmepos(path)
    rows = {r.hcpcs: r for r in asp.parse_asp(path)}
    assert rows["J2274"].payment_limit == D("1.382") and rows["J2274"].dosage == "10 MG"
    assert rows["J2274"].coinsurance_percentage == D("20.00")
    assert rows["90662"].payment_limit is None and rows["90662"].vaccine_limit == D("59.525")
    assert rows["J7192"].clotting_factor == "Y"
    assert asp.read_release(path) == asp.tabular.ReleaseInfo(2022, 1)


def test_asp_bad_payment_limit(tmp_path):
    text = (DATA / "ASP_Pricing_File_January_2022_small.csv").read_text(encoding="cp1252").replace("1.382", "one")
    with pytest.raises(ImportFailure, match=r"line 5, column Payment Limit: expected a number"):
        list(asp.parse_asp(source(written(tmp_path, "ASP_January_2022.csv", text))))


def test_dmepos_small_file():
    path = source(DATA / "DMEPOS22_JAN_small.csv")
    assert dmepos.looks_like_dmepos(path) and not asp.looks_like_asp(path)
    rows = {(r.hcpcs, r.modifier, r.state): r for r in dmepos.parse_dmepos(path)}
    assert len(rows) == 12  # 4 code/modifier rows x 3 states
    refill = rows[("A4220", "", "AZ")]
    assert (refill.non_rural_fee, refill.rural_fee) == (D("50.12"), None)
    assert rows[("E0786", "RR", "AK")].non_rural_fee == D("623.00") and rows[("E0786", "NU", "AL")].category == "IN"
    assert rows[("E0783", "", "AL")].non_rural_fee is None and rows[("E0783", "", "AL")].jurisdiction == "L"
    assert dmepos.read_release(path) == dmepos.tabular.ReleaseInfo(2022, 1)


def test_dmepos_state_without_its_rural_column(tmp_path):
    text = (DATA / "DMEPOS22_JAN_small.csv").read_text(encoding="cp1252").replace("AZ (R)", "AZ (X)")
    with pytest.raises(ImportFailure, match="unknown header 'AZ \\(X\\)'"):
        list(dmepos.parse_dmepos(source(written(tmp_path, "DMEPOS22_JAN.csv", text))))


# --- Loading: releases, all or nothing, duplicates ---------------------------------------------------


@pytest.mark.django_db
def test_import_creates_a_release_with_provenance_and_is_idempotent():
    first = [r for r in registry.run_import([PPRRVU_SMALL]) if r.kind == "pfs"]  # the catalog may read the file too
    assert [r.counts["added"] for r in first] == [8]
    release = FeeRelease.objects.get(kind="pfs")
    assert (release.year, release.label, release.effective_from, release.effective_to) == (
        2024,
        "2024 January",
        date(2024, 1, 1),
        None,
    )
    assert (
        release.source_name == "PPRRVU24_JAN_small.csv"
        and release.sha256 == source(PPRRVU_SMALL).sha256
        and release.row_count == 8
    )
    again = [r for r in registry.run_import([PPRRVU_SMALL]) if r.kind == "pfs"]
    assert again[0].counts == {"rows": 8, "added": 0, "changed": 0, "removed": 0, "unchanged": 8}
    assert PhysicianFee.objects.count() == 8 and FeeRelease.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_code_modifier_row_fails_and_nothing_is_imported(tmp_path):
    text = PPRRVU_SMALL.read_bytes().decode("ascii")
    line = next(x for x in text.split("\r\n") if x.startswith("75809,26,"))
    bad = written(tmp_path, "PPRRVU24_JAN.csv", text.replace(line, line + "\r\n" + line))
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([DATA / "ASC_Addendum_AA_small.csv", bad])  # a good file in the same run is rolled back too
    assert failure.value.line == 17 and failure.value.column == "code"
    assert "duplicate row for 75809 26 (first on line 16)" in str(failure.value)
    assert FeeRelease.objects.count() == 0 and AscRate.objects.count() == 0 and PhysicianFee.objects.count() == 0


@pytest.mark.django_db
def test_bb_verbatim_duplicates_are_dropped_but_conflicting_ones_fail(tmp_path):
    registry.run_import([DATA / "ASC_Addendum_BB_small.csv"])
    assert sorted(AscRate.objects.values_list("code", flat=True)) == ["C9399", "J0223", "J2274"]
    text = (
        (DATA / "ASC_Addendum_BB_small.csv")
        .read_bytes()
        .decode("cp1252")
        .replace("J0223,,Givosiran inj 0.5mg,,K2,0.9961,$49.72", "J0223,,Givosiran inj 0.5mg,,K2,0.9961,$50.00")
    )
    with pytest.raises(ImportFailure, match="duplicate row for J0223"):
        registry.run_import([written(tmp_path, "BB.csv", text, "cp1252")])


@pytest.mark.django_db
def test_import_data_command_reports_file_line_column(tmp_path):
    bad = pprrvu_variant(tmp_path, "62322,,Njx interlaminar lmbr/sac,A,,1.55", "62322,,Njx interlaminar lmbr/sac,A,,abc")
    with pytest.raises(CommandError) as failure:
        call_command("import_data", str(bad.path), "--no-progress")
    assert "Import failed, nothing was changed: PPRRVU24_JAN.csv, line 12, column WORK RVU: expected a number" in str(
        failure.value
    )


@pytest.mark.django_db
def test_dry_run_reports_and_writes_nothing():
    results = [r for r in registry.run_import([DATA / "DMEPOS22_JAN_small.csv"], dry_run=True) if r.kind == "dmepos"]
    assert results[0].dry_run and results[0].counts["rows"] == 12
    assert DmeposFee.objects.count() == 0 and FeeRelease.objects.count() == 0


@pytest.mark.django_db
def test_later_release_ends_the_previous_and_reports_changes():
    registry.run_import([DATA / "ASC_Addendum_AA_small.csv"])
    (result,) = [r for r in registry.run_import([DATA / "ASC_Addendum_AA_2023_small.csv"]) if r.kind == "asc_aa"]
    assert result.counts["changed"] == 1 and result.report["changed"][0]["key"] == "0100T"
    assert result.report["changed"][0]["fields"]["payment_indicator"] == ["J8", "K5"]
    first, second = FeeRelease.objects.filter(kind="asc_aa").order_by("effective_from")
    assert first.effective_to == date(2022, 12, 31) and second.effective_to is None
    assert pricing.asc_payments(["0100T"], year=2022)["0100T"].national_rate == D("3484.62")
    assert pricing.asc_payments(["0100T"], year=2023)["0100T"].national_rate is None


@pytest.mark.django_db
def test_every_small_file_is_recognised_by_its_importer(tmp_path):
    paths = [
        *sorted(DATA.glob("*.csv")),
        gpci_workbook(tmp_path / "GPCI2024.xlsx"),
        addendum_b_workbook(tmp_path / "Addendum_B.xlsx"),
    ]
    kinds = {}
    for importer, group in registry.plan(registry.expand(paths)):
        kinds.setdefault(group[0].basename, set()).add(importer.kind)
    fee_kinds = {name: {k for k in found if k in {c.value for c in FeeRelease.Kind}} for name, found in kinds.items()}
    assert fee_kinds == {
        "ASC_Addendum_AA_2023_small.csv": {"asc_aa"},
        "ASC_Addendum_AA_small.csv": {"asc_aa"},
        "ASC_Addendum_BB_small.csv": {"asc_bb"},
        "ASP_Pricing_File_January_2022_small.csv": {"asp"},
        "DMEPOS22_JAN_small.csv": {"dmepos"},
        "PPRRVU24_JAN_small.csv": {"pfs"},
        "GPCI2024.xlsx": {"gpci"},
        "Addendum_B.xlsx": {"opps"},
    }


@pytest.mark.django_db
def test_2024_conversion_factor_switches_on_march_9(tmp_path):
    ensure_conversion_factors()
    registry.run_import([PPRRVU_SMALL, gpci_workbook(tmp_path / "GPCI2024.xlsx")])
    before = pricing.physician_payments(["62322"], on=date(2024, 3, 8))["62322"][0]
    after = pricing.physician_payments(["62322"], on=date(2024, 3, 9))["62322"][0]
    assert before.conversion_factor == D("32.7442") and after.conversion_factor == D("33.2875")
    assert before.non_facility_amount == pricing.round_dollars(D("4.12") * D("32.7442")) == D("134.91")
    assert after.non_facility_amount == pricing.round_dollars(D("4.12") * D("33.2875")) == D("137.14")
    alaska = pricing.physician_payments(["62322"], on=date(2024, 3, 9), locality="02102-01")["62322"][0]
    assert alaska.facility_amount == pricing.round_dollars(
        (D("1.55") * D("1.5") + D("0.62") * D("1.118") + D("0.19") * D("0.614")) * D("33.2875")
    )
    with pytest.raises(pricing.NotLoaded, match="no physician fee schedule"):
        pricing.physician_payments(["62322"], on=date(2025, 1, 2))


@pytest.mark.django_db
def test_asp_and_dmepos_tables_load_and_price(tmp_path, client):
    registry.run_import(
        [
            DATA / "ASP_Pricing_File_January_2022_small.csv",
            DATA / "DMEPOS22_JAN_small.csv",
            gpci_workbook(tmp_path / "GPCI2022.xlsx", header_year=2022),
        ]
    )
    release = FeeRelease.objects.get(kind="asp")
    assert release.label == "2022 January" and release.asp_rows.get(code="J2274").payment_limit == D("1.382")
    assert DmeposFee.objects.get(code="E0786", modifier="NU", state="AK").rural_fee == D("6230.00")
    drug = pricing.asp_payments(["J2274", "J7799"], year=2022)
    assert set(drug) == {"J2274"}  # NOC drugs have no ASP row
    assert drug["J2274"].payment_limit == D("1.382") and drug["J2274"].dosage == "10 MG"
    assert pricing.drug_allowed(payment_limit=drug["J2274"].payment_limit, units=3) == D("4.15")  # 25 mg -> 3 units of 10 mg
    fees = pricing.dmepos_payments(["E0786", "A4220"], state="ak", on=date(2022, 2, 1))
    assert [(f.modifier, f.non_rural_fee, f.rural_fee) for f in fees["E0786"]] == [
        ("NU", D("6230.00"), D("6230.00")),
        ("RR", D("623.00"), D("623.00")),
    ]
    with pytest.raises(pricing.NotLoaded, match="no DMEPOS fee schedule is loaded for 2023"):
        pricing.dmepos_payments(["E0786"], state="AK", year=2023)
    html = client.get("/codes/hcpcs/E0786/payments/", {"locality": "02102-01"}).content.decode()
    assert "DMEPOS AK -NU" in html and "$6,230.00" in html
    assert "DMEPOS" not in client.get("/codes/hcpcs/E0786/payments/").content.decode()  # national: no state to show
    drug_html = client.get("/codes/hcpcs/J2274/payments/").content.decode()
    assert "Part B drug (ASP)" in drug_html and "$1.382" in drug_html and "Per 10 MG" in drug_html


# --- Real CMS files (parsing only; loading is tested in test_fees_real.py) ---------------------------


@pytest.mark.cms_data
def test_real_pprrvu_2022_csv(cms_data_dir):
    rows = list(pprrvu.parse_pprrvu(source(cms_data_dir / "cms/2022/PPRRVU22_JAN.csv")))
    assert len(rows) == 17600
    assert len({(r.hcpcs, r.modifier) for r in rows}) == 17600
    assert len({r.hcpcs for r in rows}) == 15583
    assert Counter(r.modifier for r in rows) == {"": 15582, "26": 1017, "TC": 997, "53": 4}
    assert sum(r.hcpcs.startswith("0") for r in rows if r.modifier == "") >= 700
    assert not any(r.hcpcs == "0001U" for r in rows)  # PLA codes are in Addendum B, not the PFS file


@pytest.mark.cms_data
@pytest.mark.slow
def test_real_pprrvu_2022_xlsx_is_cell_for_cell_the_csv(cms_data_dir):
    csv_rows = list(pprrvu.parse_pprrvu(source(cms_data_dir / "cms/2022/PPRRVU22_JAN.csv")))
    xlsx_rows = list(pprrvu.parse_pprrvu(source(cms_data_dir / "cms/2022/PPRRVU22_JAN.xlsx")))
    assert xlsx_rows == csv_rows


@pytest.mark.cms_data
def test_real_addendum_b(cms_data_dir):
    rows_2022 = list(
        opps_addendum_b.parse_addendum_b(source(cms_data_dir / "cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx"))
    )
    assert len(rows_2022) == 17192
    codes = {r.hcpcs for r in rows_2022}
    assert {"G0465", "J1429", "J9358", "0001U"} <= codes and len(codes) == 17192
    assert all(r.status_indicator == r.status_indicator.strip() for r in rows_2022)
    # Drug rates (K, G) carry fractions of a cent; they are kept as published, not rounded on import.
    rates = {r.hcpcs: r.payment_rate for r in rows_2022}
    assert rates["90371"] == D("135.593") and rates["A9543"] == D("59793.847")
    assert sum(1 for rate in rates.values() if rate is not None and rate != rate.quantize(D("0.01"))) == 390
    rows_2023 = list(
        opps_addendum_b.parse_addendum_b(source(cms_data_dir / "cms/2023/2023_January_Web_Addendum_B.12212022.xlsx"))
    )
    assert len(rows_2023) == 17559


@pytest.mark.cms_data
def test_real_asc_addenda(cms_data_dir):
    aa = list(asc_addenda.parse_asc_addendum(source(cms_data_dir / "cms/2022/ASC_Addendum_AA_2022_JAN.csv")))
    assert Counter(r.payment_indicator for r in aa) == {
        "A2": 2053,
        "G2": 550,
        "J8": 460,
        "N1": 430,
        "P3": 378,
        "P2": 91,
        "R2": 48,
    }
    bb = list(asc_addenda.parse_asc_addendum(source(cms_data_dir / "cms/2022/ASC_Addendum_BB_2022_JAN.csv")))
    duplicated = sorted(code for code, count in Counter(r.hcpcs for r in bb).items() if count > 1)
    assert duplicated == ["J0223", "J0791", "J1201", "J9034", "Q5120"]
    aa23 = source(cms_data_dir / "cms/2023/ASC_Addendum_AA_2023_JAN.csv")
    assert asc_addenda.read_release(aa23) == asc_addenda.tabular.ReleaseInfo(2023, 1)


@pytest.mark.cms_data
def test_real_gpci(cms_data_dir):
    rows = list(gpci.parse_gpci(source(cms_data_dir / "cms/2022/GPCI2022.xlsx")))
    assert len(rows) == 112 and len({r.state for r in rows}) == 53
    assert all(len(r.mac) == 5 and len(r.number) == 2 for r in rows)
    alaska = next(r for r in rows if r.state == "AK")
    assert (alaska.mac, alaska.number, alaska.work_gpci, alaska.footnote) == ("02102", "01", D("1.500"), "*")


@pytest.mark.cms_data
def test_real_xlsx_files_are_not_expanded_as_zip_archives(cms_data_dir):
    sources = registry.expand([cms_data_dir / "cms/2022/GPCI2022.xlsx"])
    assert [s.name for s in sources] == ["GPCI2022.xlsx"]
    assert Locality._meta.db_table  # the model the GPCI importer writes
    assert OppsRate._meta.db_table
