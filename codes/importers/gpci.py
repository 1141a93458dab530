"""CMS GPCI file (Addendum E, GPCIyyyy.xlsx): work, PE and MP GPCIs per MAC and locality.

Traps (DOMAIN.md section C): header on row 3 after a title, footnote rows after the data, locality
numbers mixed text '01' and integer 54, MAC ids with leading zeros, names with floor markers (ALASKA*).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from codes.importers import tabular
from codes.importers.base import SourceFile
from codes.importers.fee_loader import FeeImporter

HEADER = ["Medicare Administrative Contractor", "State", "Locality Number", "Locality Name", "~PW GPCI", "~PE GPCI", "~MP GPCI"]
NAMES = ["Medicare Administrative Contractor", "State", "Locality Number", "Locality Name", "PW GPCI", "PE GPCI", "MP GPCI"]
YEAR = re.compile(r"(\d{4})")
HEADER_SEARCH_ROWS = 15


@dataclass(frozen=True, slots=True)
class GpciRow:
    """One MAC + locality with its three GPCIs (3 decimals)."""

    line: int
    mac: str
    state: str
    number: str
    name: str
    footnote: str
    work_gpci: Decimal
    pe_gpci: Decimal
    mp_gpci: Decimal


def looks_like_gpci(source: SourceFile) -> bool:
    """Return whether a file is a GPCI workbook (GPCIyyyy.xlsx)."""
    name = source.basename.upper()
    return name.startswith("GPCI") and name.endswith(".XLSX")


def _header(source: SourceFile):
    sheet, rows = tabular.xlsx_rows(source)
    where = tabular.Where(source.name, sheet)
    for number, values in rows:
        if tabular.normalise_header(values[0] if values else "") == "medicare administrative contractor":
            tabular.check_header(list(values), HEADER, where=where, line=number)
            return where, number, list(values), rows
        if number >= HEADER_SEARCH_ROWS:
            break
    raise where.fail("unknown layout: no 'Medicare Administrative Contractor' header row in the first 15 rows", line=1)


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return the release year from the GPCI column header ("2022 PW GPCI (with 1.0 Floor)")."""
    where, number, header, _rows = _header(source)
    match = YEAR.search(tabular.text(header[4]))
    if not match:
        match = YEAR.search(source.basename)
    if not match:
        raise where.fail("cannot tell the year from the PW GPCI header or the file name", line=number, column=NAMES[4])
    return tabular.ReleaseInfo(int(match.group(1)), 1)


def parse_gpci(source: SourceFile) -> Iterator[GpciRow]:
    """Yield every locality row; footnote rows (text in the first cell only) end the data."""
    where, _number, _header_values, rows = _header(source)
    for number, values in rows:
        values = list(values) + [None] * (len(HEADER) - len(values))
        cells = [tabular.text(v) for v in values[: len(HEADER)]]
        if not any(cells):
            continue
        mac = cells[0].zfill(5) if cells[0].isdecimal() else cells[0]
        if not re.fullmatch(r"\d{5}", mac):
            if any(cells[1:]):
                raise where.fail(f"MAC must be 5 digits, found {cells[0]!r}", line=number, column=NAMES[0])
            continue  # footnote such as "MAC Assignments as of ..." or "*Work GPCI reflects ..."
        for index, cell in enumerate(cells):
            if cell == "":
                raise where.fail("value is missing", line=number, column=NAMES[index])
        if not cells[2].isdecimal():
            raise where.fail(f"locality number must be digits, found {cells[2]!r}", line=number, column=NAMES[2])
        name = cells[3]
        footnote = name[len(name.rstrip("*")) :]

        def gpci(index: int, values=values, number=number) -> Decimal:
            return tabular.decimal(values[index], places=3, where=where, line=number, column=NAMES[index], blank_ok=False)

        yield GpciRow(
            line=number,
            mac=mac,
            state=cells[1].upper(),
            number=cells[2].zfill(2),
            name=name.rstrip("*").strip(),
            footnote=footnote,
            work_gpci=gpci(4),
            pe_gpci=gpci(5),
            mp_gpci=gpci(6),
        )


def _fields(row: GpciRow) -> dict:
    return {name: getattr(row, name) for name in GpciRow.__slots__ if name != "line"}


IMPORTERS = [
    FeeImporter(
        kind="gpci",
        looks_like=looks_like_gpci,
        read_release=read_release,
        parse=parse_gpci,
        model_name="Locality",
        to_fields=_fields,
        key_fields=("mac", "number"),
    )
]
