"""CMS DMEPOS fee schedule CSV (quarterly): one row per HCPCS + modifiers, fees per state.

Layout (DOMAIN.md A4, Noridian column descriptors): HCPCS, Mod, Mod2, JURIS, CATG, Ceiling, Floor, then
per-state columns "AL (NR)" / "AL (R)" (non-rural and rural); an optional trailing Description column.
Stored one row per (code, modifiers, state) with both amounts; blank fees stay None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from codes.importers import tabular
from codes.importers.base import SourceFile
from codes.importers.fee_loader import FeeImporter

FIXED = ["HCPCS", "Mod", "Mod2", "JURIS", "CATG", "Ceiling", "Floor"]
STATE_COLUMN = re.compile(r"^([A-Z]{2})\s*\((NR|R)\)$")
QUARTER = re.compile(r"\b(Jan|January|Apr|April|Jul|July|Oct|October)[\s_-]*(\d{4}|\d{2})\b", re.IGNORECASE)
YEAR_FIRST = re.compile(r"\b(\d{4})\b.*?\b(Jan|January|Apr|April|Jul|July|Oct|October)\b", re.IGNORECASE)
NAME = re.compile(r"DMEPOS(\d{2})_?([A-Z]{3})", re.IGNORECASE)
HEADER_SEARCH_LINES = 20


@dataclass(frozen=True, slots=True)
class DmeposRow:
    """One HCPCS + modifiers fee for one state."""

    line: int
    hcpcs: str
    modifier: str
    modifier2: str
    jurisdiction: str
    category: str
    ceiling: Decimal | None
    floor: Decimal | None
    state: str
    non_rural_fee: Decimal | None
    rural_fee: Decimal | None


def looks_like_dmepos(source: SourceFile) -> bool:
    """Return whether a CSV file carries the DMEPOS header (JURIS, CATG and state columns)."""
    if not source.basename.lower().endswith(".csv"):
        return False
    head = source.head(16384).decode("cp1252", errors="replace").upper()
    return "JURIS" in head and "CATG" in head and "(NR)" in head


def read_release(source: SourceFile) -> tabular.ReleaseInfo:
    """Return the quarter from the title line ("2022 DMEPOS Fee Schedule January Update") or file name."""
    title = source.head(16384).decode("cp1252", errors="replace").split("HCPCS", 1)[0]
    match = YEAR_FIRST.search(title)
    if match:
        return tabular.ReleaseInfo(int(match.group(1)), tabular.quarter_month(match.group(2)))
    match = QUARTER.search(title)
    if match and len(match.group(2)) == 4:
        return tabular.ReleaseInfo(int(match.group(2)), tabular.quarter_month(match.group(1)))
    match = NAME.search(source.basename)
    if match and tabular.quarter_month(match.group(2)):
        return tabular.ReleaseInfo(2000 + int(match.group(1)), tabular.quarter_month(match.group(2)))
    raise tabular.Where(source.name).fail("cannot tell the quarter from the title line or the file name", line=1)


def _states(header: list[str], *, where: tabular.Where, line: int) -> list[tuple[str, int, int]]:
    """Return (state, non-rural column, rural column) for each state pair after the fixed columns."""
    columns: dict[str, dict[str, int]] = {}
    for index in range(len(FIXED), len(header)):
        name = tabular.text(header[index])
        match = STATE_COLUMN.match(name.upper())
        if match:
            columns.setdefault(match.group(1), {})[match.group(2)] = index
        elif name and name.lower() not in ("description", "short description"):
            raise where.fail(f"unknown header {name!r}; expected state columns such as 'AL (NR)'", line=line, column=name)
    for state, pair in columns.items():
        if set(pair) != {"NR", "R"}:
            missing = ({"NR", "R"} - set(pair)).pop()
            raise where.fail(f"state {state} lacks its {missing} column", line=line, column=f"{state} ({missing})")
    if not columns:
        raise where.fail("no state fee columns such as 'AL (NR)'", line=line)
    return [(state, pair["NR"], pair["R"]) for state, pair in columns.items()]


def parse_dmepos(source: SourceFile) -> Iterator[DmeposRow]:
    """Yield one row per (code, modifiers, state); raise ImportFailure naming line and column on a fault."""
    where = tabular.Where(source.name)
    rows = tabular.csv_rows(source, encoding="cp1252")
    states = None
    for number, cells in rows:
        if cells and tabular.normalise_header(cells[0]) == "hcpcs":
            tabular.check_header(cells, FIXED, where=where, line=number)
            states = _states(cells, where=where, line=number)
            break
        if number >= HEADER_SEARCH_LINES:
            break
    if states is None:
        raise where.fail("unknown layout: no 'HCPCS,Mod,Mod2,JURIS,CATG,...' header line", line=1)
    width = max(max(nr, r) for _, nr, r in states) + 1
    for number, cells in rows:
        if not any(tabular.text(c) for c in cells):
            continue
        if len(cells) < width:
            raise where.fail(f"row has {len(cells)} columns, expected {width}", line=number, column=f"#{len(cells) + 1}")
        hcpcs = tabular.code(cells[0])
        if not tabular.is_code(hcpcs):
            raise where.fail(f"not a HCPCS code: {tabular.text(cells[0])!r}", line=number, column="HCPCS")

        def money(index: int, column: str, number=number, cells=cells) -> Decimal | None:
            return tabular.decimal(cells[index], places=2, where=where, line=number, column=column)

        shared = {
            "hcpcs": hcpcs,
            "modifier": tabular.text(cells[1]).upper(),
            "modifier2": tabular.text(cells[2]).upper(),
            "jurisdiction": tabular.text(cells[3]).upper(),
            "category": tabular.text(cells[4]).upper(),
            "ceiling": money(5, "Ceiling"),
            "floor": money(6, "Floor"),
        }
        for state, non_rural, rural in states:
            yield DmeposRow(
                line=number,
                state=state,
                non_rural_fee=money(non_rural, f"{state} (NR)"),
                rural_fee=money(rural, f"{state} (R)"),
                **shared,
            )


def _fields(row: DmeposRow) -> dict:
    fields = {name: getattr(row, name) for name in DmeposRow.__slots__ if name not in ("line", "hcpcs")}
    fields["code"] = row.hcpcs
    return fields


IMPORTERS = [
    FeeImporter(
        kind="dmepos",
        looks_like=looks_like_dmepos,
        read_release=read_release,
        parse=parse_dmepos,
        model_name="DmeposFee",
        to_fields=_fields,
        key_fields=("code", "modifier", "modifier2", "state"),
    )
]
