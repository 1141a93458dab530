"""CMS quarterly ASP drug pricing file (Part B drugs; payment limit = 106% of ASP, already applied).

Layout (DOMAIN.md A4): a few preamble lines, then the header HCPCS Code, Short Description, HCPCS Code
Dosage, Payment Limit, Co-insurance Percentage, Vaccine AWP%, Vaccine Limit, Blood AWP%, Blood Limit,
Clotting Factor, Notes. Percentages may carry a '%' sign; blank limits stay None (never zero).
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
    "Short Description",
    "HCPCS Code Dosage",
    "Payment Limit",
    "Co-insurance Percentage",
    "Vaccine AWP%",
    "Vaccine Limit",
    "Blood AWP%",
    "Blood Limit",
    "Clotting Factor",
    "Notes",
]
QUARTER = re.compile(r"\b(Jan|January|Apr|April|Jul|July|Oct|October)[\s_-]*(\d{4}|\d{2})\b", re.IGNORECASE)
HEADER_SEARCH_LINES = 20


@dataclass(frozen=True, slots=True)
class AspRow:
    """One HCPCS drug row of the ASP file."""

    line: int
    hcpcs: str
    short_description: str
    dosage: str
    payment_limit: Decimal | None
    coinsurance_percentage: Decimal | None
    vaccine_awp_percentage: Decimal | None
    vaccine_limit: Decimal | None
    blood_awp_percentage: Decimal | None
    blood_limit: Decimal | None
    clotting_factor: str
    notes: str


def _text_head(source: SourceFile) -> str:
    return source.head(16384).decode("cp1252", errors="replace")


def looks_like_asp(source: SourceFile) -> bool:
    """Return whether a CSV file carries the ASP header (HCPCS Code Dosage, Payment Limit)."""
    if not source.basename.lower().endswith(".csv"):
        return False
    head = _text_head(source).lower()
    return "hcpcs code dosage" in head and "payment limit" in head


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return the quarter from the title lines ("January 2022 ASP Pricing File") or the file name."""
    for text in (_text_head(source).split("HCPCS Code", 1)[0], source.basename.replace("_", " ")):
        match = QUARTER.search(text)
        if match:
            year = int(match.group(2))
            return tabular.ReleaseInfo(year if year > 999 else 2000 + year, tabular.quarter_month(match.group(1)))
    raise tabular.Where(source.name).fail("cannot tell the quarter: no 'January 2022'-style title or file name", line=1)


def parse_asp(source: SourceFile) -> Iterator[AspRow]:
    """Yield every drug row; raise ImportFailure naming line and column on a fault."""
    where = tabular.Where(source.name)
    rows = tabular.csv_rows(source, encoding="cp1252")
    for number, cells in rows:
        if cells and tabular.normalise_header(cells[0]) == "hcpcs code":
            tabular.check_header(cells, HEADER, where=where, line=number)
            break
        if number >= HEADER_SEARCH_LINES:
            raise where.fail("unknown layout: no 'HCPCS Code,Short Description,...' header line", line=1)
    else:
        raise where.fail("unknown layout: no 'HCPCS Code,Short Description,...' header line", line=1)
    for number, cells in rows:
        cells = cells + [""] * (len(HEADER) - len(cells))
        if not any(tabular.text(c) for c in cells):
            continue
        hcpcs = tabular.code(cells[0])
        if not tabular.is_code(hcpcs):
            raise where.fail(f"not a HCPCS code: {tabular.text(cells[0])!r}", line=number, column=HEADER[0])

        def number_at(index: int, places: int, number=number, cells=cells) -> Decimal | None:
            return tabular.decimal(cells[index].replace("%", ""), places=places, where=where, line=number, column=HEADER[index])

        yield AspRow(
            line=number,
            hcpcs=hcpcs,
            short_description=tabular.text(cells[1]),
            dosage=tabular.text(cells[2]),
            payment_limit=number_at(3, 3),
            coinsurance_percentage=number_at(4, 2),
            vaccine_awp_percentage=number_at(5, 2),
            vaccine_limit=number_at(6, 3),
            blood_awp_percentage=number_at(7, 2),
            blood_limit=number_at(8, 3),
            clotting_factor=tabular.text(cells[9]),
            notes=tabular.text(cells[10]),
        )


def _fields(row: AspRow) -> dict:
    fields = {name: getattr(row, name) for name in AspRow.__slots__ if name not in ("line", "hcpcs")}
    fields["code"] = row.hcpcs
    fields["short_description"] = row.short_description[:100]
    return fields


IMPORTERS = [
    FeeImporter(
        kind="asp",
        looks_like=looks_like_asp,
        read_release=read_release,
        parse=parse_asp,
        model_name="AspPrice",
        to_fields=_fields,
    )
]
