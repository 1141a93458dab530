"""Catalog questions other parts ask: is this code valid and billable on a date, do two diagnoses exclude
each other, which codes does a range cover.

Code patterns (`G57.7-`, `G90.50-G90.59`, `C00-C14`, `62322-62327`) are read by the same functions the
importers use to parse cited codes in Excludes1 notes, so a note, a guide and a search agree on a range.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from codes.models.catalog import Code, CodeSystem, CodeVersion, display_code, normalize_code

# A code as written in CMS files and notes: ICD-10-CM (letter, digit, alnum, optional dot and up to four
# more), CPT (five characters, digits with a trailing letter for Category II/III and PLA), HCPCS II.
CODE_TOKEN = r"[A-Za-z0-9]{1,3}(?:\.[A-Za-z0-9]{0,4}|[A-Za-z0-9]{0,4})"
RANGE = re.compile(rf"^\s*({CODE_TOKEN})\s*-?\s*[-\u2013]\s*({CODE_TOKEN})\s*-?\s*$")
# A code cited inside a note, optionally with a trailing "-" (and its descendants) or as "X-Y".
CITED = re.compile(
    r"(?<![A-Za-z0-9.])([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{0,4})?)(?:\.?-(?:\s*([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{0,4})?))?)?"
)
PARENTHESES = re.compile(r"\(([^()]*)\)")
ICD_CODE = re.compile(r"^[A-Z]\d[0-9A-Z]{1,5}$")
CPT_CODE = re.compile(r"^\d{4}[0-9A-Z]$")
HCPCS_CODE = re.compile(r"^[A-V]\d{4}$")


@dataclass(frozen=True)
class CodeStatus:
    """What the catalog says about one code on one date (for claim checks and the estimator)."""

    code: str  # normalized, dotless
    display: str
    system: str | None
    exists: bool  # in any loaded release
    valid_on_date: bool
    billable: bool
    is_header: bool
    needs_seventh_character: bool
    descriptor: str
    ended_on: datetime.date | None  # last day of validity, when it has ended
    starts_on: datetime.date | None  # first day of validity
    children_billable: list[str] = field(default_factory=list)  # example billable codes below a header (display form)
    message: str = ""  # one sentence for people, e.g. "T85.610 needs a 7th character."

    @property
    def ok(self) -> bool:
        return self.exists and self.valid_on_date and self.billable


@dataclass(frozen=True)
class Excludes1Conflict:
    """Two diagnoses that an Excludes1 note says are never reported together."""

    code: str  # display form of the diagnosis whose (or whose ancestor's) note excludes the other
    note_code: str  # display form of the code, section or chapter carrying the note (e.g. "G89.2")
    note: str  # the note text, e.g. "causalgia, lower limb (G57.7-)"
    other: str  # display form of the excluded diagnosis
    pattern: str  # the cited pattern that matched, e.g. "G57.7-"


def is_code_like(text: str) -> bool:
    """Return whether text looks like a (possibly partial) code rather than words."""
    token = normalize_code(text)
    if not token or not token.isalnum() or len(token) > 7:
        return False
    return bool(re.match(r"^[A-Z]\d", token) or re.match(r"^\d{1,4}[0-9A-Z]?$", token))


def parse_range(text: str) -> tuple[str, str] | None:
    """Return (low, high) dotless bounds of "C00-C14" / "G89.2 - G89.29" / "62322-62327", or None.

    Bounds typed the wrong way round ("62327-62322") are put in order.
    """
    match = RANGE.match(text)
    if not match:
        return None
    low, high = normalize_code(match.group(1)), normalize_code(match.group(2))
    if not (is_code_like(low) and is_code_like(high)):
        return None
    if low > high and not high.startswith(low[: len(high)]):
        low, high = high, low
    return low, high


def upper_bound(high: str) -> str:
    """Return the greatest code that still starts with `high` ("C14" -> "C14ZZZZ"), so a range is one index scan.

    Codes are digits and upper-case letters, which sort the same in the C and the usual locale collations.
    """
    return high.ljust(7, "Z")


def in_bounds(code: str, low: str, high: str) -> bool:
    """Return whether a dotless code falls in [low, high], each bound covering its descendants."""
    return code[: len(low)] >= low and code[: len(high)] <= high


def cited_codes(note: str) -> list[list[str]]:
    """Return the dotless [low, high] bounds of the codes cited in a note's parentheses.

    "causalgia of lower limb (G57.7-)" -> [["G577", "G577"]]; "(G90.50-G90.59)" -> [["G9050", "G9059"]];
    "(K22.8, K22.9)" -> two bounds. A code cited without "-" still covers its descendants, as in the
    tabular list a category stands for every code below it.
    """
    bounds: list[list[str]] = []
    for group in PARENTHESES.findall(note):
        for match in CITED.finditer(group):
            low = normalize_code(match.group(1))
            high = normalize_code(match.group(2)) if match.group(2) else low
            if [low, high] not in bounds:
                bounds.append([low, high])
    return bounds


def pattern_text(low: str, high: str) -> str:
    """Return bounds the way a note writes them: "G57.7-" or "G90.50-G90.59"."""
    low_display, high_display = display_code(CodeSystem.ICD10CM, low), display_code(CodeSystem.ICD10CM, high)
    return f"{low_display}-" if low == high else f"{low_display}-{high_display}"


def guess_system(code: str) -> str | None:
    """Return the system a dotless code's shape suggests (ICD-10-CM when it could be either)."""
    if CPT_CODE.match(code):
        return CodeSystem.CPT
    if ICD_CODE.match(code) and len(code) != 5:
        return CodeSystem.ICD10CM
    if HCPCS_CODE.match(code):
        return None  # J1100 is both an ICD-10-CM and a HCPCS code: let the data decide
    return CodeSystem.ICD10CM if ICD_CODE.match(code) else None


def range_system(text: str, low: str, high: str) -> str | None:
    """Return the code set a range is written in: a dot or a 3-character bound means ICD-10-CM ("C00-C14").

    "G89.2 - G89.29" must not pick up the HCPCS quality codes G8923/G8924; five characters without a dot
    are CPT ("62322-62327") or HCPCS Level II ("E0782-E0786").
    """
    if "." in text or len(low) != 5 or len(high) != 5:
        return CodeSystem.ICD10CM if ICD_CODE.match(low) or re.match(r"^[A-Z]\d[0-9A-Z]$", low) else None
    if CPT_CODE.match(low) and CPT_CODE.match(high):
        return CodeSystem.CPT
    if HCPCS_CODE.match(low) and HCPCS_CODE.match(high):
        return CodeSystem.HCPCS
    return None


def expand_range(text: str, *, system: str | None = None, on: datetime.date | None = None) -> list[Code]:
    """Return the codes a range covers ("C00-C14", "G89.2 - G89.29", "62322-62327", "C7A-C7A"), by code.

    Each bound covers its descendants, as in the tabular list: "C00-C14" includes C14.8. A single code is
    treated as the range of itself and its descendants. With `on`, only codes valid on that day.
    """
    bounds = parse_range(text)
    if bounds is None:
        code = normalize_code(text)
        if not is_code_like(code):
            return []
        bounds = (code, code)
    low, high = bounds
    codes = Code.objects.of(system or range_system(text, low, high)).filter(code__gte=low, code__lte=upper_bound(high))
    if on is not None:
        codes = codes.valid_on(on)
    # Database collations may order digits and letters differently from CMS; the bound test decides.
    return [c for c in codes.order_by("system", "code") if in_bounds(c.code, low, high)]


def _versions_on(codes: list[str], *, system: str, on: datetime.date) -> dict[str, CodeVersion]:
    """Return {dotless code: version in force on `on`} for the given codes of one system."""
    rows = CodeVersion.objects.effective_on(on).filter(code__system=system, code__code__in=codes).select_related("code")
    return {row.code.code: row for row in rows}


def _prefixes(code: str) -> list[str]:
    return [code[:n] for n in range(3, len(code) + 1)]


def code_status(code_text: str, *, on: datetime.date, system: str | None = None) -> CodeStatus:
    """Return whether a code exists, was valid and billable on `on`, and why not ("header code, not billable")."""
    code = normalize_code(code_text)
    candidates = list(Code.objects.filter(code=code).of(system))
    if len(candidates) > 1:
        preferred = guess_system(code) or CodeSystem.ICD10CM
        candidates.sort(key=lambda c: c.system != preferred)
    found = candidates[0] if candidates else None
    system = found.system if found else (system or guess_system(code))
    shown = display_code(system or "", code)
    if found is None:
        needs_seventh = False
        if system == CodeSystem.ICD10CM and len(code) < 7:
            needs_seventh = any(v.seventh_characters for v in _versions_on(_prefixes(code), system=system, on=on).values())
        message = f"{shown} is not a code in any loaded release" + (" (it needs a 7th character)." if needs_seventh else ".")
        return CodeStatus(code, shown, system, False, False, False, False, needs_seventh, "", None, None, [], message)

    versions = _versions_on(_prefixes(code) if system == CodeSystem.ICD10CM else [code], system=system, on=on)
    version = versions.get(code)
    valid = version is not None
    billable = version.billable if valid else found.billable
    descriptor = version.description if valid else found.description
    needs_seventh = (
        system == CodeSystem.ICD10CM and not billable and len(code) < 7 and any(v.seventh_characters for v in versions.values())
    )
    children: list[str] = []
    if not billable:
        below = Code.objects.filter(system=system, code__startswith=code).exclude(code=code)
        below = below.billable_on(on) if valid else below.filter(billable=True)
        children = [display_code(system, c) for c in below.order_by("code").values_list("code", flat=True)[:5]]
    ended_on = found.last_effective if found.last_effective and found.last_effective < on else None
    starts_on = found.first_effective
    if not valid:
        if starts_on and on < starts_on:
            message = f"{shown} was not valid on {on:%Y-%m-%d}: it took effect on {starts_on:%Y-%m-%d}."
        elif ended_on:
            message = f"{shown} was not valid on {on:%Y-%m-%d}: it ended on {ended_on:%Y-%m-%d}."
        else:
            message = f"{shown} was not valid on the date of service {on:%Y-%m-%d}."
    elif needs_seventh:
        message = f"{shown} needs a 7th character" + (f", e.g. {children[0]}." if children else ".")
    elif not billable:
        message = f"{shown} is a header code, not billable" + (f"; use a code below it, e.g. {children[0]}." if children else ".")
    else:
        message = f"{shown} is billable on {on:%Y-%m-%d}."
    return CodeStatus(
        code,
        shown,
        system,
        True,
        valid,
        billable and valid,
        not billable,
        needs_seventh,
        descriptor,
        ended_on,
        starts_on,
        children,
        message,
    )


def _notes_above(version: CodeVersion) -> list[tuple[str, dict]]:
    """Return (carrier display, note) for the section and chapter Excludes1 notes above a code."""
    found = []
    section = version.code.section
    if section is not None:
        found += [(section.range_id, note) for note in section.notes.get("excludes1", [])]
        found += [(f"Chapter {section.chapter.number}", note) for note in section.chapter.notes.get("excludes1", [])]
    return found


def excludes1_conflicts(diagnoses: list[str], *, on: datetime.date) -> list[Excludes1Conflict]:
    """Return the pairs of ICD-10-CM diagnoses an Excludes1 note forbids together on `on`.

    A note on a category, section or chapter applies to every code below it; each cited code covers its
    descendants ("G57.7-" covers G57.71).
    """
    codes = list(dict.fromkeys(normalize_code(d) for d in diagnoses if d.strip()))
    wanted = {prefix for code in codes for prefix in _prefixes(code)}
    rows = (
        CodeVersion.objects.effective_on(on)
        .filter(code__system=CodeSystem.ICD10CM, code__code__in=wanted)
        .select_related("code__section__chapter")
    )
    versions = {row.code.code: row for row in rows}
    conflicts: list[Excludes1Conflict] = []
    seen: set[tuple[str, str, str]] = set()
    for code in codes:
        carriers: list[tuple[str, dict]] = []
        for prefix in _prefixes(code):
            version = versions.get(prefix)
            if version is not None:
                carriers += [(display_code(CodeSystem.ICD10CM, prefix), note) for note in version.notes_of("excludes1")]
        category = versions.get(code[:3])
        if category is not None:
            carriers += _notes_above(category)
        for other in codes:
            if other == code:
                continue
            for carrier, note in carriers:
                for low, high in note.get("cited", []):
                    key = (code, other, note["text"])
                    if in_bounds(other, low, high) and key not in seen:
                        seen.add(key)
                        conflicts.append(
                            Excludes1Conflict(
                                code=display_code(CodeSystem.ICD10CM, code),
                                note_code=carrier,
                                note=note["text"],
                                other=display_code(CodeSystem.ICD10CM, other),
                                pattern=pattern_text(low, high),
                            )
                        )
    return conflicts


@dataclass
class CodePage:
    """Everything the code page and the API detail show about one code."""

    code: Code
    versions: list[CodeVersion]  # newest first
    current: CodeVersion | None  # the newest version (its notes are shown)
    ancestors: list[Code]  # category first
    children: list[Code]
    seventh_characters: dict[str, str]  # in force for this code (defined here or above)
    inherited_notes: list[tuple[str, str, list[dict]]]  # (carrier display, kind, notes) from ancestors

    @property
    def chapter(self):
        section = self.ancestors[0].section if self.ancestors else self.code.section
        return section.chapter if section else None

    @property
    def section(self):
        return self.ancestors[0].section if self.ancestors else self.code.section

    @property
    def inherited_for_display(self) -> list[tuple[str, str, list[dict]]]:
        labels = dict(CodeVersion.NOTE_KINDS)
        return [(carrier, labels.get(kind, kind), notes) for carrier, kind, notes in self.inherited_notes]


def code_page(system: str, code_text: str) -> CodePage | None:
    """Return a code with its release history, hierarchy, children and notes (dotted or dotless input)."""
    code = normalize_code(code_text)
    found = Code.objects.filter(system=system, code=code).select_related("section__chapter").first()
    if found is None:
        return None
    versions = list(found.versions.select_related("release").order_by("-effective_from"))
    ancestors = []
    if system == CodeSystem.ICD10CM:
        ancestors = list(
            Code.objects.filter(system=system, code__in=_prefixes(code)[:-1]).select_related("section__chapter").order_by("code")
        )
    children = list(found.children.order_by("code"))
    seventh: dict[str, str] = {}
    inherited: list[tuple[str, str, list[dict]]] = []
    if ancestors:
        rows = CodeVersion.objects.filter(code__in=ancestors).select_related("code").order_by("-effective_from")
        newest: dict[str, CodeVersion] = {}
        for row in rows:
            newest.setdefault(row.code.code, row)
        for ancestor in ancestors:
            version = newest.get(ancestor.code)
            if version is None:
                continue
            seventh = version.seventh_characters or seventh
            for kind in ("excludes1", "excludes2", "code_first", "use_additional_code", "code_also", "includes"):
                if version.notes.get(kind):
                    inherited.append((ancestor.display, kind, version.notes[kind]))
    current = versions[0] if versions else None
    if current is not None and current.seventh_characters:
        seventh = current.seventh_characters
    return CodePage(found, versions, current, ancestors, children, seventh, inherited)
