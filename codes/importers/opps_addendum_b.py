"""CMS OPPS Addendum B (hospital outpatient payment by HCPCS code), quarterly xlsx.

Layout (DOMAIN.md section C): three preamble rows, header on row 4 with stray spaces (' SI', 'APC '),
a column-9 name carrying the inpatient deductible and a column-10 name that drifts between years,
so columns are read by position. SI values and some codes carry trailing or non-breaking spaces, APC
is sometimes an integer, copayments can be the string '.', and weights are floats like 24.830000000000002.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from codes.importers import tabular
from codes.importers.base import SourceFile
from codes.importers.fee_loader import FeeImporter

HEADER = [
    "HCPCS Code",
    "Short Descriptor",
    "SI",
    "APC",
    "Relative Weight",
    "Payment Rate",
    "National Unadjusted Copayment",
    "Minimum Unadjusted Copayment",
    "Note*",
    "~Pass-Through Expiration",
    "* Indicates a Change",
]
NAMES = [name.strip("~*").strip() for name in HEADER]
NAMES[8] = "Note (copayment cap)"
SHEET = re.compile(r"(\d{4})\s+(\w+)\s+Addendum B", re.IGNORECASE)
TITLE_YEAR = re.compile(r"Addendum B.*CY\s*(\d{4})", re.IGNORECASE)
HEADER_SEARCH_ROWS = 15


@dataclass(frozen=True, slots=True)
class AddendumBRow:
    """One HCPCS row of Addendum B; payment fields are None where the file has none (packaged, not paid)."""

    line: int
    hcpcs: str
    short_descriptor: str
    status_indicator: str
    apc: str
    relative_weight: Decimal | None
    payment_rate: Decimal | None
    national_copayment: Decimal | None
    minimum_copayment: Decimal | None
    pass_through_expiration: str
    changed: bool


def looks_like_addendum_b(source: SourceFile) -> bool:
    """Return whether a file is OPPS Addendum B (an xlsx named *Addendum_B*, not AA/BB)."""
    name = source.basename.upper().replace(" ", "_")
    return name.endswith(".XLSX") and bool(re.search(r"ADDENDUM_?B(?![A-Z])", name))


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return the release from the sheet name ("2022 January Addendum B"), else the title row."""
    sheet, rows = tabular.xlsx_rows(source)
    match = SHEET.search(sheet)
    if match and tabular.quarter_month(match.group(2)):
        return tabular.ReleaseInfo(int(match.group(1)), tabular.quarter_month(match.group(2)))
    for number, values in rows:
        for value in values:
            found = TITLE_YEAR.search(tabular.text(value))
            if found:
                month = next((m for w, m in tabular.QUARTER_MONTHS.items() if w in source.basename.lower()), 1)
                return tabular.ReleaseInfo(int(found.group(1)), month)
        if number >= HEADER_SEARCH_ROWS:
            break
    raise tabular.Where(source.name, sheet).fail("cannot tell the release year from the sheet name or title", line=1)


def parse_addendum_b(source: SourceFile) -> Iterator[AddendumBRow]:
    """Yield every code row of an Addendum B workbook; raise ImportFailure (sheet, row, column) on a fault."""
    sheet, rows = tabular.xlsx_rows(source)
    where = tabular.Where(source.name, sheet)
    header_row = None
    for number, values in rows:
        if tabular.normalise_header(values[0] if values else "") == "hcpcs code":
            tabular.check_header(list(values), HEADER, where=where, line=number)
            header_row = number
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if header_row is None:
        raise where.fail("unknown layout: no 'HCPCS Code' header row in the first 15 rows", line=1)
    for number, values in rows:
        values = list(values) + [None] * (len(HEADER) - len(values))
        hcpcs = tabular.code(values[0])
        if not hcpcs and not any(tabular.text(v) for v in values):
            continue
        if not tabular.is_code(hcpcs):
            raise where.fail(f"not a HCPCS/CPT code: {tabular.text(values[0])!r}", line=number, column=NAMES[0])
        yield _row(values, number, where, hcpcs)


def _row(values: list, line: int, where: tabular.Where, hcpcs: str) -> AddendumBRow:
    def amount(index: int, places: int) -> Decimal | None:
        if tabular.text(values[index]) == ".":
            return None  # CMS prints '.' where no national copayment applies
        return tabular.decimal(values[index], places=places, where=where, line=line, column=NAMES[index])

    apc = tabular.text(values[3])
    if apc and not apc.isdecimal():
        raise where.fail(f"APC must be digits, found {apc!r}", line=line, column=NAMES[3])
    status = tabular.text(values[2]).upper()
    if not status:
        raise where.fail("status indicator is missing", line=line, column=NAMES[2])
    return AddendumBRow(
        line=line,
        hcpcs=hcpcs,
        short_descriptor=tabular.text(values[1]),
        status_indicator=status,
        apc=apc.zfill(4) if apc else "",
        relative_weight=amount(4, 4),
        payment_rate=amount(5, 4),
        national_copayment=amount(6, 2),
        minimum_copayment=amount(7, 2),
        pass_through_expiration=tabular.text(values[9]),
        changed=tabular.text(values[10]) == "*",
    )


def _fields(row: AddendumBRow) -> dict:
    fields = {name: getattr(row, name) for name in AddendumBRow.__slots__ if name not in ("line", "hcpcs")}
    fields["code"] = row.hcpcs
    fields["short_descriptor"] = row.short_descriptor[:100]
    return fields


IMPORTERS = [
    FeeImporter(
        kind="opps",
        looks_like=looks_like_addendum_b,
        read_release=read_release,
        parse=parse_addendum_b,
        model_name="OppsRate",
        to_fields=_fields,
    )
]
