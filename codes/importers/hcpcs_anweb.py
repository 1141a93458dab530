"""CMS HCPCS Level II annual alpha-numeric file (HCPCyyyy_JAN_ANWEB*.txt), fixed-width records.

Built to CMS's published record layout (we hold no real copy: the tests use small files written to it).
Each record is one line of 320 characters; the fields the catalog uses:

    1-5     HCPCS code                 6-10   sequence number
    11      record identification: 3 first line of a procedure, 4 its continuation,
            7 first line of a modifier, 8 its continuation
    12-91   long description (continued on the following records with identification 4 or 8)
    92-119  short description (first record only)
    230     coverage code
    259-266 date the code was added (CCYYMMDD)   267-274 action effective date
    275-282 termination date (blank while active) 283 action code

A long description longer than 80 characters continues on records 4 (procedures) or 8 (modifiers) with
the same code and a higher sequence number; the parts are joined with a space. Modifier records are not
codes and are skipped. Text is cp1252 (CMS's Windows text files).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass

from codes.importers import catalog_load
from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress
from codes.models.catalog import CodeSystem

FILE_NAME = re.compile(r"HCPC(?P<year>\d{4})_(?P<month>[A-Z]{3})_ANWEB", re.IGNORECASE)
CODE = re.compile(r"^[A-Z]\d{4}$")
MONTHS = {"JAN": 1, "APR": 4, "JUL": 7, "OCT": 10}
MONTH_NAMES = {1: "January", 4: "April", 7: "July", 10: "October"}
# (start, end) 1-based inclusive, as the record layout gives them.
FIELDS = {
    "code": (1, 5),
    "sequence": (6, 10),
    "record_id": (11, 11),
    "long": (12, 91),
    "short": (92, 119),
    "coverage": (230, 230),
    "added": (259, 266),
    "action_effective": (267, 274),
    "terminated": (275, 282),
    "action": (283, 283),
}
PROCEDURE, PROCEDURE_MORE, MODIFIER, MODIFIER_MORE = "3", "4", "7", "8"
MIN_LENGTH = 119  # through the short description


@dataclass
class HcpcsRecord:
    line: int
    code: str
    long_description: str
    short_description: str
    coverage: str
    added: datetime.date | None
    terminated: datetime.date | None
    action: str


def _field(text: str, name: str) -> str:
    start, end = FIELDS[name]
    return text[start - 1 : end].strip()


def looks_like(source: SourceFile) -> bool:
    """Return whether a file is the HCPCS annual file: by name, and a first record of the layout."""
    if not FILE_NAME.search(source.basename):
        return False
    first = source.head(400).split(b"\n", 1)[0]
    return len(first) >= MIN_LENGTH and first[10:11] in (b"3", b"4", b"7", b"8") and first[5:10].isdigit()


def _decode(source: SourceFile) -> list[str]:
    with source.open_binary() as handle:
        data = handle.read()
    if b"\x00" in data:
        at = data.index(b"\x00")
        line = data.count(b"\n", 0, at) + 1
        column = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise ImportFailure(
            "NUL byte: the file is not cp1252 text (wrong encoding, e.g. UTF-16)", file=source.name, line=line, column=str(column)
        )
    text = data.decode("cp1252", errors="strict")
    lines = text.split("\n")
    if lines[-1] != "":
        # Every record ends in CRLF; a last one without it was cut off.
        raise ImportFailure(
            "the last record is cut short: the file looks truncated",
            file=source.name,
            line=len(lines),
            column=str(len(lines[-1]) + 1),
        )
    lines.pop()
    return [line.rstrip("\r") for line in lines]


def _date(text: str, *, source: SourceFile, line: int, name: str) -> datetime.date | None:
    if not text:
        return None
    try:
        return datetime.datetime.strptime(text, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date, not an instant
    except ValueError:
        raise ImportFailure(
            f"{text!r} is not a date (CCYYMMDD)", file=source.name, line=line, column=str(FIELDS[name][0])
        ) from None


def parse(source: SourceFile) -> Iterator[HcpcsRecord]:
    """Yield procedure codes with their long descriptions joined from continuation records."""
    current: HcpcsRecord | None = None
    for number, text in enumerate(_decode(source), start=1):
        if not text.strip():
            continue
        if len(text) < MIN_LENGTH:
            raise ImportFailure(
                f"record is {len(text)} characters, shorter than the layout's {MIN_LENGTH}",
                file=source.name,
                line=number,
                column=str(len(text) + 1),
            )
        code, record_id, sequence = _field(text, "code"), _field(text, "record_id"), _field(text, "sequence")
        if not sequence.isdecimal():
            raise ImportFailure(f"sequence number {sequence!r} is not numeric", file=source.name, line=number, column="6")
        if record_id not in (PROCEDURE, PROCEDURE_MORE, MODIFIER, MODIFIER_MORE):
            raise ImportFailure(
                f"record identification {record_id!r} is not 3, 4, 7 or 8", file=source.name, line=number, column="11"
            )
        if record_id in (MODIFIER, MODIFIER_MORE):
            continue
        if not CODE.match(code):
            raise ImportFailure(f"{code!r} is not a HCPCS Level II code", file=source.name, line=number, column="1")
        if record_id == PROCEDURE_MORE:
            if current is None or current.code != code:
                raise ImportFailure(
                    f"continuation record for {code} without its first record", file=source.name, line=number, column="11"
                )
            current.long_description = f"{current.long_description} {_field(text, 'long')}".strip()
            continue
        if current is not None:
            yield current
        current = HcpcsRecord(
            line=number,
            code=code,
            long_description=_field(text, "long"),
            short_description=_field(text, "short"),
            coverage=_field(text, "coverage"),
            added=_date(_field(text, "added"), source=source, line=number, name="added"),
            terminated=_date(_field(text, "terminated"), source=source, line=number, name="terminated"),
            action=_field(text, "action"),
        )
    if current is not None:
        yield current


def release_of(source: SourceFile) -> catalog_load.ReleaseSpec:
    match = FILE_NAME.search(source.basename)
    month = MONTHS.get(match.group("month").upper(), 1)
    year = int(match.group("year"))
    return catalog_load.ReleaseSpec(
        CodeSystem.HCPCS, f"{year} {MONTH_NAMES[month]}", datetime.date(year, month, 1), "hcpcs-anweb", merge=True
    )


class HcpcsAnnualImporter:
    """HCPCS Level II codes with full long descriptors; outranks the RVU file and Addendum B descriptors."""

    kind = "hcpcs-anweb"
    priority = 19

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]:
        return [[source] for source in sources if looks_like(source)]

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult:
        (source,) = files
        spec = release_of(source)
        entries = [
            catalog_load.CodeEntry(r.code, r.short_description, r.long_description or r.short_description, True)
            for r in parse(source)
            if r.terminated is None or r.terminated >= spec.effective_from
        ]
        return catalog_load.load_release(spec=spec, entries=entries, sources=files, kind=self.kind, user=user, progress=progress)


IMPORTERS = [HcpcsAnnualImporter()]
