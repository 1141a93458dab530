"""Starter data for `make run`: the intrathecal drug delivery guide and a small extract of real CMS rows.

The extract (codes/data/starter/) is generated from the real CMS/NCHS files by
`python manage.py make_starter_extract --from ../shared/data`: trimmed copies in the files' own layouts
(preambles, headers, encodings, workbook sheets), holding only the rows of the guide's codes, so
`load_starter_data()` imports them through the same `registry.run_import` as the full files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.db import transaction
from lxml import etree
from openpyxl import Workbook, load_workbook

from codes import catalog
from codes.importers import registry
from codes.models.catalog import normalize_code

DATA_DIR = Path(__file__).resolve().parent / "data"
GUIDE_FILES = sorted((DATA_DIR / "guides").glob("*.json"))
STARTER_DIR = DATA_DIR / "starter"

# Source file (relative to the CMS data folder) -> how to trim it. Order matters for loading: catalog first.
EXTRACT = [
    ("icd10cm/fy2021/icd10cm-order-Jan-2021.txt", "icd10cm-order"),
    ("icd10cm/fy2021/icd10cm_tabular_2021.xml", "icd10cm-tabular"),
    ("cms/2022/PPRRVU22_JAN.csv", "pprrvu-csv"),
    ("cms/2022/GPCI2022.xlsx", "whole-workbook"),
    ("cms/2022/ASC_Addendum_AA_2022_JAN.csv", "asc-csv"),
    ("cms/2022/ASC_Addendum_BB_2022_JAN.csv", "asc-csv"),
    ("cms/2022/January_2022_Web_Addendum_B.01.10.22.xlsx", "opps-xlsx"),
    ("cms/2023/PPRRVU23_JAN.csv", "pprrvu-csv"),
    ("cms/2023/ASC_Addendum_AA_2023_JAN.csv", "asc-csv"),
    ("cms/2023/ASC_Addendum_BB_2023_JAN.csv", "asc-csv"),
    ("cms/2023/2023_January_Web_Addendum_B.12212022.xlsx", "opps-xlsx"),
]
# Codes the claim-check examples cite besides the guide's own (Excludes1 targets of the guide's notes).
EXTRA_DIAGNOSIS_PATTERNS = ["G56.4-", "G90.5-"]


def guide_data(path: Path) -> dict:
    """Return one guide file as data."""
    return json.loads(path.read_text(encoding="utf-8"))


def guide_codes(guide: dict) -> tuple[list[str], list[str]]:
    """Return (diagnosis patterns, procedure and HCPCS codes) a guide file lists, dotless."""
    diagnoses, procedures = [], []
    for section in guide["sections"]:
        for group in section["groups"]:
            for entry in group["entries"]:
                target = diagnoses if section["kind"] == "diagnoses" else procedures
                target.append(entry["code"] if target is diagnoses else normalize_code(entry["code"]))
    return diagnoses, sorted(set(procedures))


def _diagnosis_wanted(all_codes: list[str], patterns: list[str]) -> set[str]:
    """Return the ICD-10-CM codes to keep: the patterns' codes, with cancer ranges cut to their categories."""
    keep: set[str] = set()
    for pattern in patterns:
        bounds = catalog.parse_range(pattern) or (normalize_code(pattern.rstrip("-")),) * 2
        # A chapter-wide range such as C00-C14 would pull in ~1,500 codes; its categories are enough here.
        categories_only = bounds[0] != bounds[1] and len(bounds[0]) == 3 and len(bounds[1]) == 3
        keep.update(c for c in all_codes if catalog.in_bounds(c, *bounds) and (len(c) == 3 or not categories_only))
    existing = set(all_codes)
    keep.update(code[:n] for code in list(keep) for n in range(3, len(code)) if code[:n] in existing)
    return keep


def _trim_order_file(source: Path, target: Path, patterns: list[str]) -> set[str]:
    lines = source.read_bytes().split(b"\r\n")
    codes = [line[6:13].decode("ascii").strip() for line in lines if line.strip()]
    keep = _diagnosis_wanted(codes, patterns)
    kept = [line for line in lines if line.strip() and line[6:13].decode("ascii").strip() in keep]
    target.write_bytes(b"\r\n".join(kept) + b"\r\n")
    return keep


def _trim_tabular(source: Path, target: Path, keep: set[str]) -> None:
    tree = etree.parse(str(source))
    root = tree.getroot()
    for diag in list(root.iter("diag")):
        if diag.getparent() is None:
            continue
        if normalize_code(diag.findtext("name", "")) not in keep:
            diag.getparent().remove(diag)
    for container in list(root.iter("section")) + list(root.iter("chapter")):
        if container.find(".//diag") is None and container.getparent() is not None:
            container.getparent().remove(container)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")


def _trim_csv(source: Path, target: Path, codes: set[str], *, header_lines: int) -> None:
    """Keep the preamble, the rows of the codes, and the footer (notes, EOF row) in the file's own bytes."""
    lines = source.read_bytes().split(b"\r\n")
    head, body = lines[:header_lines], lines[header_lines:]
    code_row = re.compile(rb"^([0-9A-Z]{5}),")
    data_end = max(i for i, line in enumerate(body) if code_row.match(line)) + 1
    rows = [line for line in body[:data_end] if (m := code_row.match(line)) and m.group(1).decode() in codes]
    target.write_bytes(b"\r\n".join(head + rows + body[data_end:]))


def _trim_workbook(source: Path, target: Path, codes: set[str] | None, *, header_rows: int) -> None:
    """Write a workbook with the same sheet, preamble rows and cell values, keeping only the codes' rows."""
    book = load_workbook(source, read_only=True)
    sheet = book.worksheets[0]
    out = Workbook(write_only=True)
    out_sheet = out.create_sheet(sheet.title)
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        code = str(row[0]).replace("\xa0", " ").strip() if row and row[0] is not None else ""
        if codes is None or number <= header_rows or code in codes:
            out_sheet.append(list(row))
    book.close()
    out.save(target)


def make_extract(*, source_dir: Path, target_dir: Path = STARTER_DIR) -> list[Path]:
    """Write the starter extract of the guides' codes from the real CMS/NCHS files; return the files written."""
    diagnoses: list[str] = list(EXTRA_DIAGNOSIS_PATTERNS)
    procedures: set[str] = set()
    for path in GUIDE_FILES:
        guide_diagnoses, guide_procedures = guide_codes(guide_data(path))
        diagnoses += guide_diagnoses
        procedures.update(guide_procedures)
    written = []
    keep_icd: set[str] = set()
    for relative, how in EXTRACT:
        source, target = source_dir / relative, target_dir / relative
        if not source.exists():
            raise FileNotFoundError(f"{source} is missing: the extract needs every file of the list in codes/starter.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        if how == "icd10cm-order":
            keep_icd = _trim_order_file(source, target, diagnoses)
        elif how == "icd10cm-tabular":
            _trim_tabular(source, target, keep_icd)
        elif how == "pprrvu-csv":
            _trim_csv(source, target, procedures, header_lines=10)
        elif how == "asc-csv":
            _trim_csv(source, target, procedures, header_lines=4)
        elif how == "opps-xlsx":
            _trim_workbook(source, target, procedures, header_rows=4)
        else:
            _trim_workbook(source, target, None, header_rows=0)
        written.append(target)
    return written


def starter_files() -> list[Path]:
    """Return the extract's files in loading order (those present)."""
    return [STARTER_DIR / relative for relative, _ in EXTRACT if (STARTER_DIR / relative).exists()]


@transaction.atomic
def load_guide(data: dict, *, replace: bool = False):
    """Create a guide with its sections, entries, notes and rules from guide data; keep an existing one unless replace."""
    from codes.models import CodingRule, Guide, GuideEntry, GuideNote, GuideSection

    existing = Guide.objects.filter(slug=data["slug"]).first()
    if existing is not None:
        if not replace:
            return existing, False
        existing.delete()
    fields = {key: data[key] for key in ("slug", "therapy", "title", "introduction", "disclaimer", "status")}
    guide = Guide.objects.create(**fields)
    notes_by_text = {}
    for section_position, section_data in enumerate(data["sections"], start=1):
        section = GuideSection.objects.create(
            guide=guide,
            position=section_position * 10,
            kind=section_data["kind"],
            title=section_data["title"],
            introduction=section_data.get("introduction", ""),
        )
        entries, notes = [], []
        for group in section_data["groups"]:
            for entry in group["entries"]:
                entries.append(
                    GuideEntry(
                        section=section,
                        position=(len(entries) + 1) * 10,
                        group=group["label"],
                        code_text=entry["code"],
                        label=entry.get("label", ""),
                        note=entry.get("note", ""),
                    )
                )
            notes += [GuideNote(section=section, group=group["label"], text=text) for text in group.get("notes", [])]
        notes += [GuideNote(section=section, text=text) for text in section_data.get("notes", [])]
        for position, note in enumerate(notes, start=1):
            note.position = position * 10
        # Saved one by one so each row gets its creation record in the change history.
        for row in entries + notes:
            row.save()
        notes_by_text.update({note.text: note for note in notes})
    for rule in data.get("rules", []):
        note = next((n for text, n in notes_by_text.items() if text.startswith(rule.get("note", "\0"))), None)
        CodingRule.objects.create(
            guide=guide,
            note=note,
            name=rule["name"],
            kind=rule["kind"],
            severity=rule["severity"],
            codes=rule["codes"],
            other_codes=rule.get("other_codes", ""),
            message=rule["message"],
        )
    return guide, True


def load_starter_data() -> list[str]:
    """Load the guides and import the starter extract (both idempotent); return lines to print."""
    lines = []
    for path in GUIDE_FILES:
        guide, created = load_guide(guide_data(path))
        lines.append(f"Guide {guide.slug}: {'loaded' if created else 'already there (kept as edited)'}")
    files = starter_files()
    if files:
        # As extracts: they fill only releases not loaded from the complete files, and never end codes.
        for result in registry.run_import(files, extract=True):
            lines.append(f"Starter extract: {result.summary()}")
    else:
        lines.append("No starter extract found: run `python manage.py make_starter_extract --from ../shared/data`.")
    return lines
