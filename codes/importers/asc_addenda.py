"""CMS ASC Addenda AA (covered surgical procedures) and BB (covered ancillary services), any quarter.

Traps (DOMAIN.md section C): cp1252 text, three preamble lines and the header on line 4, an unnamed
empty second column, header names that drift between quarters (" Jan 2022 Payment Weight  ",
"Jan 2023  Payment Indicator", Apr/July/October), rates as text ("$3,484.62 "), blank rates for
packaged codes, NOTE footer rows, verbatim duplicate rows in BB 2022, tab-separated quarterly .txt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from codes.importers import tabular
from codes.importers.base import SourceFile
from codes.importers.fee_loader import FeeImporter

AA_HEADER = [
    "HCPCS Code",
    "",
    "Short Descriptor",
    "Subject to Multiple Procedure Discounting",
    "~Payment Indicator",
    "~Payment Weight",
    "~Payment Rate",
]
BB_HEADER = [
    "HCPCS Code",
    "",
    "Short Descriptor",
    "~Pass-Through Expiration",
    "~Payment Indicator",
    "~Payment Weight",
    "~Payment Rate",
]
NAMES = {
    "AA": [
        "HCPCS Code",
        "(unnamed)",
        "Short Descriptor",
        "Subject to Multiple Procedure Discounting",
        "Payment Indicator",
        "Payment Weight",
        "Payment Rate",
    ],
    "BB": [
        "HCPCS Code",
        "(unnamed)",
        "Short Descriptor",
        "Pass-Through Expiration",
        "Payment Indicator",
        "Payment Weight",
        "Payment Rate",
    ],
}
QUARTER = re.compile(r"([A-Za-z]+)\s+(\d{4})\s+Payment Indicator", re.IGNORECASE)
TITLE = re.compile(r"Addendum\s+(AA|BB)\b", re.IGNORECASE)
HEADER_SEARCH_LINES = 15


@dataclass(frozen=True, slots=True)
class AscRow:
    """One code of Addendum AA or BB; weight and rate are None where the file leaves them blank."""

    line: int
    hcpcs: str
    addendum: str
    short_descriptor: str
    multiple_procedure_discount: bool | None
    pass_through_expiration: str
    payment_indicator: str
    payment_weight: Decimal | None
    payment_rate: Decimal | None


def addendum_of(source: SourceFile) -> str | None:
    """Return "AA" or "BB" when the file's title line names that addendum, else None."""
    name = source.basename.lower()
    if not name.endswith((".csv", ".txt")):
        return None
    first = source.head(4096).split(b"\n", 1)[0].decode("cp1252", errors="replace")
    match = TITLE.search(first)
    return match.group(1).upper() if match else None


def _rows(source: SourceFile):
    delimiter = "\t" if b"\t" in source.head(4096).split(b"\n", 1)[0] else ","
    return tabular.csv_rows(source, encoding="cp1252", delimiter=delimiter)


def _header(source: SourceFile):
    addendum = addendum_of(source) or "AA"
    where = tabular.Where(source.name)
    rows = _rows(source)
    for number, cells in rows:
        if cells and tabular.normalise_header(cells[0]) == "hcpcs code":
            tabular.check_header(cells, AA_HEADER if addendum == "AA" else BB_HEADER, where=where, line=number)
            return addendum, where, number, cells, rows
        if number >= HEADER_SEARCH_LINES:
            break
    raise where.fail("unknown layout: no 'HCPCS Code' header line in the first 15 lines", line=1)


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return year and quarter from the indicator header ("Jan 2022 Payment Indicator")."""
    _addendum, where, number, header, _rows_left = _header(source)
    match = QUARTER.search(re.sub(r"\s+", " ", header[4]))
    month = tabular.quarter_month(match.group(1)) if match else None
    if not match or month is None:
        raise where.fail(f"cannot tell the quarter from {header[4].strip()!r}", line=number, column="Payment Indicator")
    return tabular.ReleaseInfo(int(match.group(2)), month)


def parse_asc_addendum(source: SourceFile) -> Iterator[AscRow]:
    """Yield every code row of Addendum AA or BB (duplicates included; the loader drops verbatim ones)."""
    addendum, where, _number, _header_cells, rows = _header(source)
    names = NAMES[addendum]
    for number, cells in rows:
        cells = cells + [""] * (7 - len(cells))
        first = tabular.text(cells[0])
        if not any(tabular.text(c) for c in cells) or first.upper().startswith("NOTE"):
            continue
        hcpcs = tabular.code(first)
        if not tabular.is_code(hcpcs):
            raise where.fail(f"not a HCPCS/CPT code: {first!r}", line=number, column=names[0])
        indicator = tabular.text(cells[4]).upper()
        if not indicator:
            raise where.fail("payment indicator is missing", line=number, column=names[4])
        discount = None
        if addendum == "AA":
            flag = tabular.text(cells[3]).upper()
            if flag not in ("Y", "N"):
                raise where.fail(f"expected Y or N, found {flag!r}", line=number, column=names[3])
            discount = flag == "Y"
        yield AscRow(
            line=number,
            hcpcs=hcpcs,
            addendum=addendum,
            short_descriptor=tabular.text(cells[2]),
            multiple_procedure_discount=discount,
            pass_through_expiration="" if addendum == "AA" else tabular.text(cells[3]),
            payment_indicator=indicator,
            payment_weight=tabular.decimal(cells[5], places=4, where=where, line=number, column=names[5]),
            payment_rate=tabular.decimal(cells[6], places=2, where=where, line=number, column=names[6]),
        )


def _fields(row: AscRow) -> dict:
    fields = {name: getattr(row, name) for name in AscRow.__slots__ if name not in ("line", "hcpcs", "addendum")}
    fields["code"] = row.hcpcs
    fields["short_descriptor"] = row.short_descriptor[:100]
    return fields


def _importer(addendum: str) -> FeeImporter:
    return FeeImporter(
        kind=f"asc_{addendum.lower()}",
        looks_like=lambda source: addendum_of(source) == addendum,
        read_release=read_release,
        parse=parse_asc_addendum,
        model_name="AscRate",
        to_fields=_fields,
        exact_duplicates_ok=True,
    )


IMPORTERS = [_importer("AA"), _importer("BB")]
