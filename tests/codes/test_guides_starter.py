"""The starter data: the guide file, and the extract regenerated from the real files by its command."""

from pathlib import Path

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from codes import starter
from codes.models import CodingRule, Guide, GuideEntry, GuideNote, GuideSection, PhysicianFee


def test_the_extract_is_small_and_in_the_cms_layouts():
    files = starter.starter_files()
    assert len(files) == len(starter.EXTRACT)
    assert sum(path.stat().st_size for path in files) < 500_000
    rvu = (starter.STARTER_DIR / "cms/2022/PPRRVU22_JAN.csv").read_bytes()
    assert rvu.startswith(b",,2022 National Physician Fee Schedule Relative Value File") and b"\r\n\x1a," in rvu
    asc = (starter.STARTER_DIR / "cms/2022/ASC_Addendum_AA_2022_JAN.csv").read_bytes()
    assert b"\x92" in asc or b"\xa0" in asc  # still cp1252, as CMS ships it
    assert b'62362,,Implant spine infusion pump,Y,J8,289.8644,"$14,468.87 "' in asc


@pytest.mark.slow
def test_the_command_regenerates_the_extract_from_the_real_files(cms_data_dir, tmp_path):
    call_command("make_starter_extract", "--from", str(cms_data_dir), "--to", str(tmp_path))
    for relative, _ in starter.EXTRACT:
        made, shipped = tmp_path / relative, starter.STARTER_DIR / relative
        if relative.endswith(".xlsx"):  # workbooks carry a creation time: compare the cells
            assert _cells(made) == _cells(shipped), relative
        else:
            assert made.read_bytes() == shipped.read_bytes(), relative


def _cells(path: Path) -> list[tuple]:
    book = load_workbook(path, read_only=True)
    rows = [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


@pytest.mark.django_db
def test_load_starter_data_twice_changes_nothing():
    first = starter.load_starter_data()
    counts = [model.objects.count() for model in (Guide, GuideSection, GuideEntry, GuideNote, CodingRule, PhysicianFee)]
    assert counts[:2] == [1, 5] and counts[2] > 80 and counts[4] == 4 and counts[5] == 42
    assert first[0] == "Guide intrathecal-drug-delivery: loaded"
    second = starter.load_starter_data()
    assert second[0] == "Guide intrathecal-drug-delivery: already there (kept as edited)"
    assert [model.objects.count() for model in (Guide, GuideSection, GuideEntry, GuideNote, CodingRule, PhysicianFee)] == counts


@pytest.mark.django_db
def test_the_guide_keeps_every_category_and_rule_of_domain_section_0():
    guide, _ = starter.load_guide(starter.guide_data(starter.GUIDE_FILES[0]))
    entries = GuideEntry.objects.filter(section__guide=guide, section__kind="diagnoses")
    groups = list(dict.fromkeys(entries.values_list("group", flat=True)))
    assert groups == [
        "Chronic pain disorders",
        "Complex regional pain syndrome (CRPS)",
        "Underlying causes (non-cancer)",
        "Underlying causes (cancer)",
        "Device complications",
        "Attention to device",
    ]
    physician = list(
        GuideEntry.objects.filter(section__guide=guide, section__kind="physician").values_list("code_text", flat=True)
    )
    assert physician == [
        "62322",
        "62323",
        "62326",
        "62327",
        "62350",
        "62362",
        "62355",
        "62365",
        "64999",
        "J2274",
        "A4220",
        "62367",
        "62368",
        "62369",
        "62370",
        "61070",
        "75809",
    ]
    rule = CodingRule.objects.get(name="g89-not-with-crps")
    assert rule.note.text.startswith("G89 codes should not be assigned with causalgia")
