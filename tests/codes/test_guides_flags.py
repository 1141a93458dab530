"""Flags for diagnosis codes that end, are not yet valid or changed meaning in a guide year (no database)."""

import datetime
from dataclasses import dataclass

from codes.guides import _diagnosis_flags


@dataclass
class Version:
    effective_from: datetime.date
    effective_to: datetime.date | None
    billable: bool
    description: str


FY2021 = datetime.date(2020, 10, 1)
FY2025 = datetime.date(2024, 10, 1)


def test_a_code_valid_all_year_has_no_flag():
    assert _diagnosis_flags("G8929", [Version(FY2021, None, True, "Other chronic pain")], year=2022) == []


def test_a_code_that_became_a_header_is_flagged_as_changed():
    versions = [Version(FY2021, datetime.date(2024, 9, 30), True, "Low back pain"), Version(FY2025, None, False, "Low back pain")]
    assert _diagnosis_flags("M545", versions, year=2024) == [
        "Changed meaning on 2024-10-01: M54.5 is now a header (not billable)."
    ]
    assert _diagnosis_flags("M545", versions, year=2025) == [
        "Changed meaning on 2024-10-01: M54.5 is now a header (not billable)."
    ]
    assert _diagnosis_flags("M545", versions, year=2026) == []


def test_a_code_that_ended_is_flagged():
    versions = [Version(FY2021, datetime.date(2024, 9, 30), True, "Maternal care")]
    assert _diagnosis_flags("O350XX0", versions, year=2024) == ["O35.0XX0 ends on 2024-09-30."]
    assert _diagnosis_flags("O350XX0", versions, year=2025) == ["No longer exists in 2025: O35.0XX0 ended on 2024-09-30."]


def test_a_code_not_yet_valid_or_unknown_is_flagged():
    assert _diagnosis_flags("M5450", [Version(FY2025, None, True, "Low back pain, unspecified")], year=2023) == [
        "Not yet valid in 2023: M54.50 takes effect on 2024-10-01."
    ]
    assert _diagnosis_flags("G899", [], year=2022) == ["G89.9 is not in the loaded ICD-10-CM releases."]


def test_a_changed_descriptor_is_flagged():
    versions = [
        Version(FY2021, datetime.date(2021, 9, 30), True, "Old words"),
        Version(datetime.date(2021, 10, 1), None, True, "New"),
    ]
    assert _diagnosis_flags("G890", versions, year=2022) == ['Changed meaning on 2021-10-01: now "New".']
