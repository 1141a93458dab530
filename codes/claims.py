"""The claim check: a planned claim against the code set, ICD-10-CM Excludes1, the guide's rules and NCCI.

Every rule is data (CodingRule rows, the tabular notes the catalog loaded, NcciEdit rows); this module
only applies them. Findings say what is wrong, which source says so, and the codes involved.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field

from django.db.models import Q

from codes import catalog
from codes.models import CodingRule, NcciEdit
from codes.models.catalog import CodeSystem, normalize_code

SETTINGS = ["office", "facility", "asc", "hospital_outpatient"]
SOURCES = ["guide", "icd10cm", "ncci", "code_set", "fee_schedule"]
# Modifiers that bypass an NCCI PTP edit with modifier indicator 1 (NCCI policy manual, ch. I; DOMAIN.md B).
NCCI_MODIFIERS = frozenset(
    {"E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT", "LC", "LD", "RC", "LM", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
    | {"24", "25", "57", "58", "78", "79", "27", "59", "91", "XE", "XS", "XP", "XU"}
)


class ClaimCheckError(ValueError):
    """The claim cannot be checked as given (e.g. no fee schedule loaded for the date or locality)."""


@dataclass(frozen=True)
class ProcedureLine:
    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1


@dataclass(frozen=True)
class Finding:
    severity: str  # error, warning, info
    source: str  # guide, icd10cm, ncci, code_set
    codes: list[str]
    message: str
    rule: str = ""


@dataclass
class ClaimCheck:
    findings: list[Finding] = field(default_factory=list)
    estimate: dict | None = None

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def as_dict(self) -> dict:
        return {"findings": [asdict(f) for f in self.findings], "estimate": self.estimate}


def matches(code: str, patterns: str) -> bool:
    """Return whether a dotless code matches comma-separated patterns (`G89`, `G56.4-`, `G89.2 - G89.29`)."""
    for pattern in (p.strip() for p in patterns.split(",")):
        if not pattern:
            continue
        bounds = catalog.parse_range(pattern)
        if bounds is None:
            single = normalize_code(pattern.rstrip("-"))
            bounds = (single, single)
        if catalog.in_bounds(code, *bounds):
            return True
    return False


def malformed_diagnoses(diagnoses: list[str]) -> str:
    """Return why a diagnosis list cannot be checked (entries that are no code at all), or "" when it can."""
    bad = [code for code in diagnoses if not catalog.is_code_like(code)]
    return f"Not ICD-10-CM codes: {', '.join(bad)}." if bad else ""


def code_set_findings(diagnoses: list[str], procedures: list[ProcedureLine], *, on: datetime.date) -> list[Finding]:
    """Flag codes that do not exist, were not valid on the date, are headers or lack their 7th character."""
    from codes.models import Release

    loaded = set(Release.objects.values_list("system", flat=True).distinct())
    findings = []
    checked = []
    for text in diagnoses:
        if catalog.ICD_CODE.match(normalize_code(text)):
            checked.append((text, CodeSystem.ICD10CM))
            continue
        message = f"{text} is not an ICD-10-CM code: diagnoses are ICD-10-CM, procedures go on the procedure lines."
        findings.append(Finding("error", "code_set", [text], message, rule="not-a-diagnosis-code"))
    for text, system in [*checked, *((line.code, None) for line in procedures)]:
        status = catalog.code_status(text, on=on, system=system)
        if status.system not in loaded:
            continue  # no release of that code system is loaded: the catalog cannot say anything about it
        if status.ok:
            continue
        findings.append(Finding("error", "code_set", [status.display], status.message, rule=_code_set_rule(status)))
    return findings


def _code_set_rule(status: catalog.CodeStatus) -> str:
    if not status.exists:
        return "needs-seventh-character" if status.needs_seventh_character else "unknown-code"
    if not status.valid_on_date:
        return "not-valid-on-date"
    return "needs-seventh-character" if status.needs_seventh_character else "header-not-billable"


def excludes1_findings(diagnoses: list[str], *, on: datetime.date) -> list[Finding]:
    """Turn the catalog's Excludes1 conflicts into findings, one per pair, citing the notes and their code."""
    by_pair: dict[tuple[str, str, str], list[str]] = {}
    for conflict in catalog.excludes1_conflicts(diagnoses, on=on):
        by_pair.setdefault((conflict.code, conflict.other, conflict.note_code), []).append(f'"{conflict.note}"')
    return [
        Finding(
            "error",
            "icd10cm",
            [code, other],
            f"ICD-10-CM Excludes1 at {carrier}: {'; '.join(notes)}. {code} and {other} are not reported together.",
            rule="excludes1",
        )
        for (code, other, carrier), notes in by_pair.items()
    ]


def guide_findings(diagnoses: list[str], *, rules: list[CodingRule] | None = None) -> list[Finding]:
    """Apply the active coding rules of the guides (`not_with` pairs, `confirm` documentation prompts)."""
    if rules is None:
        rules = list(CodingRule.objects.filter(active=True).select_related("guide"))
    codes = [(normalize_code(text), text) for text in diagnoses]
    shown = {code: catalog.display_code("icd10cm", code) for code, _ in codes}
    findings = []
    for rule in rules:
        hits = [code for code, _ in codes if matches(code, rule.codes)]
        if not hits:
            continue
        if rule.kind == CodingRule.Kind.NOT_WITH:
            others = [code for code, _ in codes if code not in hits and matches(code, rule.other_codes)]
            if others:
                involved = [shown[c] for c in hits + others]
                findings.append(Finding(rule.severity, "guide", involved, f"{_guide_name(rule)}: {rule.message}", rule=rule.name))
        else:
            findings.append(
                Finding(rule.severity, "guide", [shown[c] for c in hits], f"{_guide_name(rule)}: {rule.message}", rule=rule.name)
            )
    return findings


def _guide_name(rule: CodingRule) -> str:
    return f"{rule.guide.title.split(':')[0]} guide"


def ncci_findings(procedures: list[ProcedureLine], *, setting: str, on: datetime.date) -> list[Finding]:
    """Look up the PTP edit in force on the date for every pair of procedure codes (one query)."""
    codes = {normalize_code(line.code) for line in procedures}
    if len(codes) < 2:
        return []
    table = NcciEdit.Table.HOSPITAL if setting == "hospital_outpatient" else NcciEdit.Table.PRACTITIONER
    edits = NcciEdit.objects.filter(
        Q(deleted_on__isnull=True) | Q(deleted_on__gte=on),
        table=table,
        column1__in=codes,
        column2__in=codes,
        effective_from__lte=on,
    ).exclude(modifier_indicator=NcciEdit.ModifierIndicator.NOT_APPLICABLE)
    modifiers = {normalize_code(line.code): {m.upper() for m in line.modifiers} for line in procedures}
    findings = []
    for edit in edits:
        if edit.column1 == edit.column2:
            continue
        bypass = sorted((modifiers[edit.column1] | modifiers[edit.column2]) & NCCI_MODIFIERS)
        table = edit.get_table_display().lower()
        pair = f"{edit.column2} is bundled into {edit.column1} (NCCI PTP, {table}, {edit.rationale or 'no rationale given'})"
        if edit.modifier_indicator == NcciEdit.ModifierIndicator.NOT_ALLOWED:
            findings.append(
                Finding("error", "ncci", [edit.column1, edit.column2], f"{pair}: no modifier allows both.", rule="ncci-ptp")
            )
        elif bypass:
            findings.append(
                Finding(
                    "info",
                    "ncci",
                    [edit.column1, edit.column2],
                    f"{pair}: modifier {', '.join(bypass)} bypasses the edit.",
                    rule="ncci-ptp",
                )
            )
        else:
            findings.append(
                Finding(
                    "warning",
                    "ncci",
                    [edit.column1, edit.column2],
                    f"{pair}: {edit.column2} is denied unless an NCCI-associated modifier (e.g. 59, XS, XU) applies.",
                    rule="ncci-ptp",
                )
            )
    return findings


def check_claim(
    *,
    diagnoses: list[str],
    procedures: list[ProcedureLine],
    setting: str,
    date_of_service: datetime.date,
    locality: str = "national",
) -> ClaimCheck:
    """Check a planned claim and estimate its payment; findings come in order code set, ICD-10-CM, guide, NCCI."""
    from codes import pricing

    diagnoses = [d.strip() for d in diagnoses if d.strip()]
    try:  # the same checks as the estimator, before any finding: a bad locality or line is an error, not a guess
        locality = pricing.check_locality(locality, on=date_of_service)
        pricing.check_lines([pricing.EstimateLine(p.code, tuple(p.modifiers), p.units) for p in procedures])
    except pricing.PricingError as exc:
        raise ClaimCheckError(pricing.sentence(exc)) from exc
    result = ClaimCheck()
    result.findings += code_set_findings(diagnoses, procedures, on=date_of_service)
    result.findings += excludes1_findings(diagnoses, on=date_of_service)
    result.findings += guide_findings(diagnoses)
    result.findings += ncci_findings(procedures, setting=setting, on=date_of_service)
    if note := pricing.locality_note(setting=setting, locality=locality):
        result.findings.append(Finding("info", "fee_schedule", [locality], note, rule="locality-not-applicable"))
    if procedures:
        result.estimate = estimate_for(procedures, setting=setting, date_of_service=date_of_service, locality=locality)
    return result


def estimate_for(procedures: list[ProcedureLine], *, setting: str, date_of_service: datetime.date, locality: str) -> dict:
    """Return the fee-schedule estimate of the procedure lines as JSON-ready data (amounts as strings)."""
    from codes import pricing

    lines = [pricing.EstimateLine(line.code, tuple(line.modifiers), line.units) for line in procedures]
    try:
        result = pricing.estimate(setting=setting, date_of_service=date_of_service, locality=locality, lines=lines)
    except pricing.PricingError as exc:
        raise ClaimCheckError(f"No payment estimate: {exc}.") from exc
    return result.as_dict()
