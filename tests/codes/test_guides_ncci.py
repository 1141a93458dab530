"""NCCI PTP importer on a small file written to CMS's practitioner layout (the code pairs are made up)."""

from datetime import date
from pathlib import Path

import pytest

from codes.importers import registry
from codes.importers.base import ImportFailure
from codes.importers.ncci import parse_ptp
from codes.models import NcciEdit

DATA = Path(__file__).parent / "data" / "ncci"
PTP_FILE = DATA / "ccipra-v281r0-f1.txt"


def test_parse_reads_rows_after_the_preamble_and_legend():
    rows = parse_ptp(PTP_FILE.read_text(encoding="latin-1"), file=PTP_FILE.name)
    assert len(rows) == 7
    first = rows[0]
    assert (first.column1, first.column2, first.effective_from, first.deleted_on, first.modifier_indicator) == (
        "62350",
        "62355",
        date(2004, 1, 1),
        None,
        "1",
    )
    old = rows[-1]
    assert old.existed_before_1996 and old.deleted_on == date(2003, 12, 31) and old.modifier_indicator == "9"


@pytest.mark.parametrize(
    ("bad_line", "column", "needle"),
    [
        ("62350\t6235\t\t20040101\t*\t1\tx", "Column 2", "not a CPT/HCPCS code"),
        ("62350\t62355\t\t2004-01-01\t*\t1\tx", "Effective Date", "YYYYMMDD"),
        ("62350\t62355\t\t20040101\t*\t2\tx", "Modifier", "0, 1 or 9"),
        ("62350\t62355\t\t20040101\t20031231\t1\tx", "Deletion Date", "before the effective date"),
    ],
)
def test_a_bad_row_names_file_line_and_column(bad_line, column, needle):
    text = PTP_FILE.read_text(encoding="latin-1").replace(
        "62362\t62365\t\t20040101\t*\t0\tMutually exclusive procedures", bad_line
    )
    with pytest.raises(ImportFailure) as error:
        parse_ptp(text, file="ccipra-test.txt")
    assert error.value.line == 9 and error.value.column == column and needle in str(error.value)


def test_a_file_without_the_header_is_refused():
    with pytest.raises(ImportFailure, match="not an NCCI PTP file"):
        parse_ptp("62350\t62355\t\t20040101\t*\t1\tx\r\n", file="ccipra-x.txt")


@pytest.mark.django_db
def test_import_is_recognised_by_the_registry_and_idempotent():
    results = registry.run_import([PTP_FILE])
    assert [r.kind for r in results] == ["ncci-ptp"]
    assert results[0].counts == {"added": 7, "changed": 0, "unchanged": 0}
    assert NcciEdit.objects.filter(table="practitioner").count() == 7
    again = registry.run_import([PTP_FILE])
    assert again[0].counts == {"added": 0, "changed": 0, "unchanged": 7}
    assert NcciEdit.objects.count() == 7


@pytest.mark.django_db
def test_a_bad_file_changes_nothing(tmp_path):
    bad = tmp_path / "ccipra-v281r0-f2.txt"
    bad.write_text(PTP_FILE.read_text(encoding="latin-1") + "62370\t62369\t\t20200101\t*\t7\tx\r\n", encoding="latin-1")
    with pytest.raises(ImportFailure, match="line 14, column Modifier"):
        registry.run_import([PTP_FILE, bad])
    assert NcciEdit.objects.count() == 0
