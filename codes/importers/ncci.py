"""NCCI procedure-to-procedure (PTP) edit files: practitioner (`ccipra-*`) and outpatient hospital (`ccioph-*`).

Layout (CMS, per quarterly part file): tab-delimited text with a short preamble (copyright line,
"Column1/Column2 Edits", the header `Column 1, Column 2, *=in existence prior to 1996, Effective Date,
Deletion Date, Modifier, PTP Edit Rationale` and legend lines such as `*=no data`, `0=not allowed`),
then one edit per line: column 1, column 2, `*` or blank, effective date YYYYMMDD, deletion date
YYYYMMDD or `*` (none), modifier indicator 0/1/9, rationale. A CMS zip holds several part files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress

HEADER = re.compile(r"column\s*1\b.*column\s*2\b.*effective", re.IGNORECASE)
CODE = re.compile(r"^[0-9A-Z]{4}[0-9A-Z]$")
COLUMNS = [
    "Column 1",
    "Column 2",
    "*=in existence prior to 1996",
    "Effective Date",
    "Deletion Date",
    "Modifier",
    "PTP Edit Rationale",
]


@dataclass(frozen=True)
class PtpRow:
    column1: str
    column2: str
    existed_before_1996: bool
    effective_from: date
    deleted_on: date | None
    modifier_indicator: str
    rationale: str


def _table_for(name: str) -> str | None:
    lowered = name.lower()
    if "ccipra" in lowered or "practitioner" in lowered:
        return "practitioner"
    if "ccioph" in lowered or "hospital" in lowered:
        return "hospital"
    return None


def _date(text: str, *, file: str, line: int, column: str) -> date:
    if not re.fullmatch(r"\d{8}", text):
        raise ImportFailure(f"expected a date YYYYMMDD, found {text!r}", file=file, line=line, column=column)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as exc:
        raise ImportFailure(f"not a calendar date: {text!r}", file=file, line=line, column=column) from exc


def parse_ptp(text: str, *, file: str) -> list[PtpRow]:
    """Parse one PTP part file; raise ImportFailure naming the line and column of the first fault."""
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines[:20]) if HEADER.search(line)), None)
    if header_at is None:
        raise ImportFailure("no 'Column 1 / Column 2' header in the first 20 lines: not an NCCI PTP file", file=file, line=1)
    rows: list[PtpRow] = []
    for number, line in enumerate(lines[header_at + 1 :], start=header_at + 2):
        fields = [field.strip() for field in line.split("\t")]
        if not fields[0] and not (len(fields) > 1 and fields[1]):
            continue  # legend lines under the header (`*=no data`, `1=allowed`) and blank lines
        if line.strip() in ("", "\x1a"):
            continue
        if len(fields) < 6:
            raise ImportFailure(f"expected 7 tab-separated columns, found {len(fields)}", file=file, line=number)
        for index in (0, 1):
            if not CODE.match(fields[index]):
                raise ImportFailure(f"not a CPT/HCPCS code: {fields[index]!r}", file=file, line=number, column=COLUMNS[index])
        if fields[2] not in ("", "*"):
            raise ImportFailure(f"expected '*' or blank, found {fields[2]!r}", file=file, line=number, column=COLUMNS[2])
        effective = _date(fields[3], file=file, line=number, column=COLUMNS[3])
        deleted = None if fields[4] in ("*", "") else _date(fields[4], file=file, line=number, column=COLUMNS[4])
        if deleted is not None and deleted < effective:
            raise ImportFailure("deletion date before the effective date", file=file, line=number, column=COLUMNS[4])
        if fields[5] not in ("0", "1", "9"):
            raise ImportFailure(
                f"modifier indicator must be 0, 1 or 9, found {fields[5]!r}", file=file, line=number, column=COLUMNS[5]
            )
        rationale = fields[6] if len(fields) > 6 else ""
        rows.append(PtpRow(fields[0], fields[1], fields[2] == "*", effective, deleted, fields[5], rationale[:200]))
    if not rows:
        raise ImportFailure("no edit rows after the header (truncated file?)", file=file, line=len(lines))
    return rows


def load_ptp(rows: list[PtpRow], *, table: str, source_name: str) -> dict[str, int]:
    """Upsert PTP rows keyed by (table, column 1, column 2, effective date); return added/changed/unchanged."""
    from codes.models import NcciEdit

    existing = {
        (edit.column1, edit.column2, edit.effective_from): edit
        for edit in NcciEdit.objects.filter(table=table, column1__in={row.column1 for row in rows})
    }
    counts = {"added": 0, "changed": 0, "unchanged": 0}
    to_write = []
    for row in rows:
        edit = existing.get((row.column1, row.column2, row.effective_from))
        values = {
            "existed_before_1996": row.existed_before_1996,
            "deleted_on": row.deleted_on,
            "modifier_indicator": row.modifier_indicator,
            "rationale": row.rationale,
        }
        if edit is None:
            counts["added"] += 1
        elif all(getattr(edit, key) == value for key, value in values.items()):
            counts["unchanged"] += 1
            continue
        else:
            counts["changed"] += 1
        to_write.append(
            NcciEdit(
                table=table,
                column1=row.column1,
                column2=row.column2,
                effective_from=row.effective_from,
                source_name=source_name,
                **values,
            )
        )
    NcciEdit.objects.bulk_create(
        to_write,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["table", "column1", "column2", "effective_from"],
        update_fields=["existed_before_1996", "deleted_on", "modifier_indicator", "rationale", "source_name"],
    )
    return counts


class PtpImporter:
    """NCCI PTP part files, recognised by name (`ccipra`/`ccioph`) and by their header line."""

    kind = "ncci-ptp"
    priority = 50

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]:
        claimed = []
        for source in sources:
            if not source.basename.lower().endswith(".txt") or _table_for(source.basename) is None:
                continue
            head = source.head(4096).decode("latin-1")
            if HEADER.search(head) and "1996" in head:
                claimed.append([source])
        return claimed

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult:
        (source,) = files
        with source.open_binary() as handle:
            raw = handle.read()
        # CMS ships these as plain ASCII; latin-1 never fails, so a stray byte shows up in the row check instead.
        rows = parse_ptp(raw.decode("latin-1"), file=source.name)
        table = _table_for(source.basename)
        counts = load_ptp(rows, table=table, source_name=source.name)
        progress(len(rows), len(rows))
        return ImportResult(kind=self.kind, source=source.name, release=f"NCCI PTP {table}", counts=counts)


IMPORTERS = [PtpImporter()]
