"""ICD-10-CM releases from NCHS files: the order file, or the code list, with the tabular list XML.

Files of one release are imported together (one job): the order file gives codes, billable flags and
both descriptors; a code list gives the codes of an update whose descriptors come from the tabular list
(7-character codes built from the seventh-character definitions); the tabular list adds chapters,
sections and notes. Fiscal-year releases take effect on October 1 of the previous calendar year; an
April update ("April-2025") on April 1.
"""

from __future__ import annotations

import datetime
import re

from codes import synonyms
from codes.importers import catalog_load, icd10cm_codes, icd10cm_order, icd10cm_tabular
from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress
from codes.models.catalog import CodeSystem

MONTHS = {"jan": 1, "january": 1, "apr": 4, "april": 4, "jul": 7, "july": 7, "oct": 10, "october": 10}
MONTH_NAMES = {4: "April", 7: "July"}
VERSION = re.compile(rb"<version>\s*(\d{4})\s*</version>")


def _role(source: SourceFile) -> tuple[str, re.Match | None] | None:
    if icd10cm_order.looks_like(source):
        return "order", icd10cm_order.FILE_NAME.search(source.basename)
    if icd10cm_codes.looks_like(source):
        return "codes", icd10cm_codes.FILE_NAME.search(source.basename)
    if icd10cm_tabular.looks_like(source):
        return "tabular", icd10cm_tabular.FILE_NAME.search(source.basename)
    return None


def release_of(source: SourceFile) -> tuple[str, int, int | None] | None:
    """Return (role, fiscal year, update month or None) for an ICD-10-CM file, or None if it is not one."""
    found = _role(source)
    if found is None:
        return None
    role, name = found
    if name is not None:
        year = int(name.group("year"))
        month = MONTHS.get((name.group("month") or "").lower())
    else:
        version = VERSION.search(source.head(4096))
        if version is None:
            return None
        year, month = int(version.group(1)), None
    # The January posting of a fiscal year's files is that fiscal year's release (in force since October 1).
    return role, year, month if month in MONTH_NAMES else None


def spec_for(year: int, month: int | None) -> catalog_load.ReleaseSpec:
    """Return the release a fiscal year (and update month) makes: "FY2021" from 2020-10-01, "FY2025 April" from 2025-04-01."""
    if month is None:
        return catalog_load.ReleaseSpec(CodeSystem.ICD10CM, f"FY{year}", datetime.date(year - 1, 10, 1), "icd10cm")
    return catalog_load.ReleaseSpec(
        CodeSystem.ICD10CM, f"FY{year} {MONTH_NAMES[month]}", datetime.date(year, month, 1), "icd10cm"
    )


def _entry_notes(tabular: icd10cm_tabular.Tabular | None, code: str) -> dict:
    if tabular is None or code not in tabular.codes:
        return {"notes": {}, "seventh_characters": {}, "index_terms": []}
    node = tabular.codes[code]
    return {"notes": node.notes, "seventh_characters": node.seventh, "index_terms": synonyms.index_terms(node.notes)}


def _section_of(tabular: icd10cm_tabular.Tabular | None, code: str) -> str:
    node = tabular.codes.get(code[:3]) if tabular else None
    return node.section if node else ""


def entries_from_order(source: SourceFile, tabular: icd10cm_tabular.Tabular | None) -> list[catalog_load.CodeEntry]:
    """Return the codes of an order file, with notes from the tabular list when given."""
    if tabular is None:
        return [
            catalog_load.CodeEntry(row.code, row.short_description, row.long_description, row.billable)
            for row in icd10cm_order.parse(source)
        ]
    entries = []
    for row in icd10cm_order.parse(source):
        entries.append(
            catalog_load.CodeEntry(
                row.code,
                row.short_description,
                row.long_description,
                row.billable,
                section=_section_of(tabular, row.code),
                **_entry_notes(tabular, row.code),
            )
        )
    return entries


def entries_from_code_list(source: SourceFile, tabular: icd10cm_tabular.Tabular) -> list[catalog_load.CodeEntry]:
    """Return the codes of a code list; a code with another code below it is a header."""
    listed = list(icd10cm_codes.parse(source))
    ordered = sorted(code for _, code in listed)
    headers = {code for code, following in zip(ordered, ordered[1:], strict=False) if following.startswith(code)}
    entries = []
    for line, code in listed:
        node = tabular.codes.get(code)
        description = node.description if node else tabular.seventh_character_description(code)
        if not description:
            raise ImportFailure(
                f"{code} has no description in the tabular list loaded with it", file=source.name, line=line, column="1"
            )
        entries.append(
            catalog_load.CodeEntry(
                code, "", description, code not in headers, section=_section_of(tabular, code), **_entry_notes(tabular, code)
            )
        )
    return entries


def entries_from_tabular(tabular: icd10cm_tabular.Tabular) -> list[catalog_load.CodeEntry]:
    """Return the codes of the tabular list alone (leaves billable, 7th-character codes built)."""
    entries = []
    for code, billable in tabular.all_codes():
        node = tabular.codes.get(code)
        description = node.description if node else tabular.seventh_character_description(code)
        entries.append(
            catalog_load.CodeEntry(
                code, "", description or "", billable, section=_section_of(tabular, code), **_entry_notes(tabular, code)
            )
        )
    return entries


def hierarchy(tabular: icd10cm_tabular.Tabular) -> tuple[list[dict], list[dict]]:
    """Return chapters and sections as rows for the loader."""
    chapters = []
    for number, chapter in tabular.chapters.items():
        span = re.search(r"\(([A-Z0-9]{3})-([A-Z0-9]{3})\)\s*$", chapter.description)
        chapters.append(
            {
                "number": number,
                "description": chapter.description,
                "first": span.group(1) if span else "",
                "last": span.group(2) if span else "",
                "notes": chapter.notes,
            }
        )
    sections = []
    for range_id, section in tabular.sections.items():
        first, _, last = range_id.partition("-")
        sections.append(
            {
                "range_id": range_id,
                "description": re.sub(r"\s*\([A-Z0-9-]+\)\s*$", "", section.description) or range_id,
                "chapter": section.chapter,
                "first": first,
                "last": last or first,
                "notes": section.notes,
            }
        )
    return chapters, sections


class Icd10cmImporter:
    """One ICD-10-CM release from its NCHS files (order file or code list, and/or tabular XML)."""

    kind = "icd10cm"
    priority = 10

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]:
        groups: dict[tuple[int, int | None], list[SourceFile]] = {}
        for source in sources:
            found = release_of(source)
            if found is not None:
                groups.setdefault(found[1:], []).append(source)
        return list(groups.values())

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult:
        roles: dict[str, SourceFile] = {}
        year = month = None
        for source in files:
            role, year, month = release_of(source)
            if role in roles:
                raise ImportFailure(f"two {role} files for the same release ({roles[role].name})", file=source.name)
            roles[role] = source
        tabular = icd10cm_tabular.parse(roles["tabular"]) if "tabular" in roles else None
        if tabular is not None and tabular.version and tabular.version != str(year):
            raise ImportFailure(f"the tabular list is version {tabular.version}, not {year}", file=roles["tabular"].name, line=3)
        if "order" in roles:
            entries = entries_from_order(roles["order"], tabular)
        elif "codes" in roles:
            if tabular is None:
                raise ImportFailure(
                    "a code list needs the tabular list XML of the same release for its descriptions", file=roles["codes"].name
                )
            entries = entries_from_code_list(roles["codes"], tabular)
        else:
            entries = entries_from_tabular(tabular)
        chapters, sections = hierarchy(tabular) if tabular else ([], [])
        return catalog_load.load_release(
            spec=spec_for(year, month),
            entries=entries,
            sources=files,
            kind=self.kind,
            user=user,
            progress=progress,
            chapters=chapters,
            sections=sections,
        )


IMPORTERS = [Icd10cmImporter()]
