"""CMS National Physician Fee Schedule Relative Value File (PPRRVUyy_QQQ.csv / .xlsx).

Layout (DOMAIN.md section C): a 5-line preamble, a header stacked over lines 6-10 whose line-10
names repeat (PE RVU, INDICATOR, TOTAL, AMOUNT), so columns are read by position; data from line 11;
a Ctrl-Z EOF row (`_x001A_` in the xlsx). Rows are keyed by (HCPCS, MOD), never HCPCS alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from codes.importers import tabular
from codes.importers.base import SourceFile
from codes.importers.fee_loader import FeeImporter

# Line 10 of the stacked header, position by position, with the meaning used in messages.
COLUMNS: list[tuple[str, str]] = [
    ("HCPCS", "HCPCS"),
    ("MOD", "MOD"),
    ("DESCRIPTION", "DESCRIPTION"),
    ("CODE", "STATUS CODE"),
    ("PAYMENT", "NOT USED FOR MEDICARE PAYMENT"),
    ("RVU", "WORK RVU"),
    ("PE RVU", "NON-FAC PE RVU"),
    ("INDICATOR", "NON-FAC NA INDICATOR"),
    ("PE RVU", "FACILITY PE RVU"),
    ("INDICATOR", "FACILITY NA INDICATOR"),
    ("RVU", "MP RVU"),
    ("TOTAL", "NON-FACILITY TOTAL"),
    ("TOTAL", "FACILITY TOTAL"),
    ("IND", "PCTC IND"),
    ("DAYS", "GLOB DAYS"),
    ("OP", "PRE OP"),
    ("OP", "INTRA OP"),
    ("OP", "POST OP"),
    ("PROC", "MULT PROC"),
    ("SURG", "BILAT SURG"),
    ("SURG", "ASST SURG"),
    ("SURG", "CO-SURG"),
    ("SURG", "TEAM SURG"),
    ("BASE", "ENDO BASE"),
    ("FACTOR", "CONV FACTOR"),
    ("PROCEDURES", "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES"),
    ("FLAG", "CALCULATION FLAG"),
    ("INDICATOR", "DIAGNOSTIC IMAGING FAMILY INDICATOR"),
    ("AMOUNT", "NON-FACILITY PE USED FOR OPPS PAYMENT AMOUNT"),
    ("AMOUNT", "FACILITY PE USED FOR OPPS PAYMENT AMOUNT"),
    ("AMOUNT", "MP USED FOR OPPS PAYMENT AMOUNT"),
]
NAMES = [meaning for _, meaning in COLUMNS]
TITLE = re.compile(r"(\d{4}) National Physician Fee Schedule Relative Value File (\w+) Release", re.IGNORECASE)
FILE_NAME = re.compile(r"PPRRVU(\d{2})_?([A-Z]{3})?", re.IGNORECASE)
HEADER_SEARCH_ROWS = 20


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One (HCPCS, modifier) row of the RVU file; RVUs are Decimal at 2 places, NA flags are booleans."""

    line: int
    hcpcs: str
    modifier: str
    description: str
    status_code: str
    not_used_for_medicare: str
    work_rvu: Decimal
    non_facility_pe_rvu: Decimal
    non_facility_na: bool
    facility_pe_rvu: Decimal
    facility_na: bool
    mp_rvu: Decimal
    non_facility_total: Decimal
    facility_total: Decimal
    pctc_indicator: str
    global_days: str
    pre_op: Decimal
    intra_op: Decimal
    post_op: Decimal
    multiple_procedure: str
    bilateral_surgery: str
    assistant_surgery: str
    co_surgeons: str
    team_surgery: str
    endoscopic_base: str
    conversion_factor: Decimal | None
    physician_supervision: str
    calculation_flag: str
    diagnostic_imaging_family: str
    opps_non_facility_pe: Decimal | None
    opps_facility_pe: Decimal | None
    opps_mp: Decimal | None


def looks_like_pprrvu(source: SourceFile) -> bool:
    """Return whether a file is a PPRRVU RVU file (by name, confirmed by its content for CSV)."""
    name = source.basename.upper()
    if not name.startswith("PPRRVU") or not name.endswith((".CSV", ".XLSX", ".TXT")):
        return False
    if name.endswith(".XLSX"):
        return True
    return b"HCPCS,MOD,DESCRIPTION" in source.head(8192)


def _rows(source: SourceFile) -> tuple[tabular.Where, Iterator[tuple[int, list]]]:
    if source.basename.lower().endswith(".xlsx"):
        sheet, rows = tabular.xlsx_rows(source)
        return tabular.Where(source.name, sheet), ((n, list(values)) for n, values in rows)
    return tabular.Where(source.name), tabular.csv_rows(source, encoding="cp1252")


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return the release (year, quarter) from the title line, else from the file name (PPRRVU22_APR)."""
    where, rows = _rows(source)
    for number, cells in rows:
        joined = " ".join(tabular.text(c) for c in cells)
        match = TITLE.search(joined)
        if match:
            return tabular.ReleaseInfo(int(match.group(1)), tabular.quarter_month(match.group(2)) or 1)
        if number >= HEADER_SEARCH_ROWS:
            break
    match = FILE_NAME.match(source.basename)
    if match:
        return tabular.ReleaseInfo(2000 + int(match.group(1)), tabular.quarter_month(match.group(2) or "jan") or 1)
    raise where.fail("cannot tell the release year: no title line and no PPRRVUyy file name", line=1)


def parse_pprrvu(source: SourceFile) -> Iterator[RvuRow]:
    """Yield every (HCPCS, MOD) row of a PPRRVU CSV or xlsx file; raise ImportFailure on the first fault."""
    where, rows = _rows(source)
    header_line = None
    for number, cells in rows:
        first = [tabular.text(c).upper() for c in cells[:3]]
        if first[:2] == ["HCPCS", "MOD"]:
            header_line = number
            tabular.check_header(cells, [name for name, _ in COLUMNS], where=where, line=number)
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header_line is None:
        raise where.fail("unknown layout: no 'HCPCS,MOD,DESCRIPTION,...' header line in the first 20 lines", line=1)
    for number, cells in rows:
        first = tabular.text(cells[0]) if cells else ""
        if first in tabular.EOF_MARKS or not any(tabular.text(c) for c in cells):
            continue
        yield _row(cells, number, where)


def _row(cells: list, line: int, where: tabular.Where) -> RvuRow:
    if len(cells) < len(COLUMNS):
        raise where.fail(f"row has {len(cells)} columns, expected {len(COLUMNS)}", line=line, column=NAMES[len(cells)])
    hcpcs = tabular.code(cells[0])
    if not tabular.is_code(hcpcs):
        raise where.fail(f"not a HCPCS/CPT code: {tabular.text(cells[0])!r}", line=line, column="HCPCS")

    def rvu(index: int) -> Decimal:
        return tabular.decimal(cells[index], places=2, where=where, line=line, column=NAMES[index], blank_ok=False)

    def optional(index: int, places: int) -> Decimal | None:
        return tabular.decimal(cells[index], places=places, where=where, line=line, column=NAMES[index])

    def na(index: int) -> bool:
        value = tabular.text(cells[index]).upper()
        if value not in ("", "NA"):
            raise where.fail(f"NA indicator must be blank or NA, found {value!r}", line=line, column=NAMES[index])
        return value == "NA"

    status = tabular.text(cells[3]).upper()
    if len(status) != 1 or not status.isalpha():
        raise where.fail(f"status code must be one letter, found {status!r}", line=line, column=NAMES[3])
    return RvuRow(
        line=line,
        hcpcs=hcpcs,
        modifier=tabular.text(cells[1]).upper(),
        description=tabular.text(cells[2]),
        status_code=status,
        not_used_for_medicare=tabular.text(cells[4]),
        work_rvu=rvu(5),
        non_facility_pe_rvu=rvu(6),
        non_facility_na=na(7),
        facility_pe_rvu=rvu(8),
        facility_na=na(9),
        mp_rvu=rvu(10),
        non_facility_total=rvu(11),
        facility_total=rvu(12),
        pctc_indicator=tabular.text(cells[13]),
        global_days=tabular.text(cells[14]).zfill(3) if tabular.text(cells[14]).isdecimal() else tabular.text(cells[14]),
        pre_op=rvu(15),
        intra_op=rvu(16),
        post_op=rvu(17),
        multiple_procedure=tabular.text(cells[18]),
        bilateral_surgery=tabular.text(cells[19]),
        assistant_surgery=tabular.text(cells[20]),
        co_surgeons=tabular.text(cells[21]),
        team_surgery=tabular.text(cells[22]),
        endoscopic_base=tabular.text(cells[23]),
        conversion_factor=optional(24, 4),
        physician_supervision=tabular.text(cells[25]).zfill(2) if tabular.text(cells[25]) else "",
        calculation_flag=tabular.text(cells[26]),
        diagnostic_imaging_family=tabular.text(cells[27]).zfill(2) if tabular.text(cells[27]) else "",
        opps_non_facility_pe=optional(28, 2),
        opps_facility_pe=optional(29, 2),
        opps_mp=optional(30, 2),
    )


def _fields(row: RvuRow) -> dict:
    fields = {name: getattr(row, name) for name in RvuRow.__slots__ if name not in ("line", "hcpcs", "conversion_factor")}
    fields["code"] = row.hcpcs
    fields["file_conversion_factor"] = row.conversion_factor
    fields["description"] = row.description[:100]
    return fields


IMPORTERS = [
    FeeImporter(
        kind="pfs",
        looks_like=looks_like_pprrvu,
        read_release=read_release,
        parse=parse_pprrvu,
        model_name="PhysicianFee",
        to_fields=_fields,
        key_fields=("code", "modifier"),
        not_compared=("file_conversion_factor",),
    )
]
