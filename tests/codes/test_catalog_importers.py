"""Catalog importers on small files: the HCPCS annual file layout, ICD-10-CM parsers, bad input, idempotence."""

import datetime
import importlib
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection

from codes import catalog, search
from codes.importers import hcpcs_anweb, registry
from codes.importers.base import ImportFailure, SourceFile
from codes.models import Code, CodeVersion, Release, SearchWord

DATA = Path(__file__).resolve().parent / "data" / "catalog"
ANWEB = DATA / "HCPC2022_JAN_ANWEB_v2.txt"


def order_line(number: int, code: str, billable: int, short: str, long: str = "") -> str:
    """Return one order-file line in the NCHS fixed-width layout."""
    return f"{number:05d} {code:<7} {billable} {short:<60} {long or short}"


ORDER_LINES = [
    order_line(1, "G89", 0, "Pain, not elsewhere classified"),
    order_line(2, "G890", 1, "Central pain syndrome"),
    order_line(3, "G892", 0, "Chronic pain, not elsewhere classified"),
    order_line(4, "G8929", 1, "Other chronic pain"),
]
TABULAR = """<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
  <version>2030</version>
  <chapter>
    <name>6</name>
    <desc>Diseases of the nervous system (G00-G99)</desc>
    <section id="G89-G99">
      <desc>Other disorders of the nervous system (G89-G99)</desc>
      <diag>
        <name>G89</name>
        <desc>Pain, not elsewhere classified</desc>
        <diag>
          <name>G89.0</name>
          <desc>Central pain syndrome</desc>
        </diag>
        <diag>
          <name>G89.2</name>
          <desc>Chronic pain, not elsewhere classified</desc>
          <excludes1>
            <note>causalgia, lower limb (G57.7-)</note>
          </excludes1>
          <diag>
            <name>G89.29</name>
            <desc>Other chronic pain</desc>
          </diag>
        </diag>
      </diag>
    </section>
  </chapter>
</ICD10CM.tabular>
"""


def write(tmp_path: Path, name: str, content, *, encoding="utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))
    return path


def order_file(tmp_path: Path, lines=ORDER_LINES, name="icd10cm-order-2030.txt") -> Path:
    return write(tmp_path, name, "\r\n".join(lines) + "\r\n")


# HCPCS annual file (CMS record layout with continuation records) ------------------------------


def test_hcpcs_annual_file_joins_continuation_records_and_skips_modifiers():
    records = {r.code: r for r in hcpcs_anweb.parse(SourceFile(name=ANWEB.name, path=ANWEB))}
    assert sorted(records) == ["A4220", "E0783", "E0786", "J2274", "Q9999"]  # modifier LT is not a code
    assert records["E0783"].long_description == (
        "Infusion pump system, implantable, programmable (includes all components, e.g., pump, catheter, connectors, etc.)"
    )
    assert records["J2274"].long_description.endswith("epidural or intrathecal use, 10 mg")
    assert records["E0783"].short_description == "Programmable infusion pump"
    assert records["Q9999"].terminated == datetime.date(2020, 12, 31)
    assert records["A4220"].added == datetime.date(1986, 1, 1) and records["A4220"].coverage == "C"


@pytest.mark.django_db
def test_hcpcs_annual_file_loads_hcpcs_release_without_terminated_codes():
    (result,) = registry.run_import([ANWEB])
    assert result.release == "HCPCS Level II 2022 January"
    assert result.counts["codes"] == 4 and result.counts["added"] == 4
    code = Code.objects.get(system="hcpcs", code="E0786")
    assert (
        code.long_description == "Implantable programmable infusion pump, replacement (excludes implantable intraspinal catheter)"
    )
    assert not Code.objects.filter(code="Q9999").exists()
    assert CodeVersion.objects.get(code=code).source == "hcpcs-anweb"


def test_hcpcs_record_with_a_bad_code_names_line_and_column(tmp_path):
    lines = ANWEB.read_text(encoding="cp1252").splitlines()
    lines[3] = "E07.6" + lines[3][5:]
    path = write(tmp_path, ANWEB.name, "\r\n".join(lines) + "\r\n")
    with pytest.raises(ImportFailure) as failure:
        list(hcpcs_anweb.parse(SourceFile(name=path.name, path=path)))
    assert str(failure.value) == f"{ANWEB.name}, line 4, column 1: 'E07.6' is not a HCPCS Level II code"


def test_hcpcs_continuation_without_first_record_is_an_error(tmp_path):
    lines = ANWEB.read_text(encoding="cp1252").splitlines()
    path = write(tmp_path, ANWEB.name, "\r\n".join([lines[0], lines[2]]) + "\r\n")
    with pytest.raises(ImportFailure, match=r"line 2, column 11: continuation record for E0783 without its first record"):
        list(hcpcs_anweb.parse(SourceFile(name=path.name, path=path)))


def test_hcpcs_truncated_and_utf16_files_are_refused(tmp_path):
    data = ANWEB.read_bytes()
    cut = write(tmp_path, ANWEB.name, data[: len(data) - 300])
    with pytest.raises(ImportFailure, match=r"line 8, column \d+: the last record is cut short"):
        list(hcpcs_anweb.parse(SourceFile(name=cut.name, path=cut)))
    wide = write(tmp_path, "HCPC2022_JAN_ANWEB_v3.txt", data.decode("cp1252").encode("utf-16-le"))
    with pytest.raises(ImportFailure, match=r"line 1, column 2: NUL byte"):
        list(hcpcs_anweb.parse(SourceFile(name=wide.name, path=wide)))


# ICD-10-CM: small releases, bad input, idempotence -------------------------------------------


@pytest.mark.django_db
def test_order_file_with_tabular_list_loads_codes_notes_and_hierarchy(tmp_path):
    files = [order_file(tmp_path), write(tmp_path, "icd10cm_tabular_2030.xml", TABULAR)]
    (result,) = registry.run_import(files)
    assert result.release == "ICD-10-CM FY2030"
    assert result.counts["billable"] == 2 and result.counts["header"] == 2
    release = Release.objects.get(system="icd10cm", label="FY2030")
    assert release.effective_from == datetime.date(2029, 10, 1) and release.effective_to is None
    assert "icd10cm-order-2030.txt" in release.source_files and len(release.sha256.splitlines()) == 2
    g8929 = Code.objects.get(code="G8929")
    assert g8929.parent.code == "G892" and g8929.parent.parent.code == "G89"
    assert g8929.get_absolute_url() == "/codes/icd10cm/G8929/" and g8929.display == "G89.29"
    assert Code.objects.get(code="G89").section.range_id == "G89-G99"
    note = CodeVersion.objects.get(code__code="G892").notes["excludes1"][0]
    assert note == {"text": "causalgia, lower limb (G57.7-)", "cited": [["G577", "G577"]]}


@pytest.mark.django_db
def test_reimporting_the_same_files_changes_nothing(tmp_path):
    files = [order_file(tmp_path), write(tmp_path, "icd10cm_tabular_2030.xml", TABULAR)]
    registry.run_import(files)
    before = list(
        CodeVersion.objects.values_list("pk", "short_description", "long_description", "billable", "notes").order_by("pk")
    )
    codes_before = list(Code.objects.values().order_by("pk"))
    vocabulary = sorted(SearchWord.objects.values_list("word", flat=True))
    assert {"central", "chronic", "pain", "syndrome"} <= set(vocabulary) and "g89" not in vocabulary
    (again,) = registry.run_import(files)
    assert sorted(SearchWord.objects.values_list("word", flat=True)) == vocabulary
    assert again.counts["versions written"] == 0
    assert (
        list(CodeVersion.objects.values_list("pk", "short_description", "long_description", "billable", "notes").order_by("pk"))
        == before
    )
    assert list(Code.objects.values().order_by("pk")) == codes_before


@pytest.mark.django_db
def test_dry_run_reports_but_writes_nothing(tmp_path):
    (result,) = registry.run_import([order_file(tmp_path)], dry_run=True)
    assert result.dry_run and result.counts["added"] == 4
    assert not Code.objects.exists() and not Release.objects.exists() and not SearchWord.objects.exists()


@pytest.mark.django_db
def test_a_later_release_reports_added_changed_ended(tmp_path):
    registry.run_import([order_file(tmp_path)])
    later = [
        order_line(1, "G89", 0, "Pain, not elsewhere classified"),
        order_line(2, "G892", 0, "Chronic pain, not elsewhere classified"),
        order_line(3, "G8929", 0, "Other chronic pain"),
        order_line(4, "G89291", 1, "Other chronic pain, new code"),
    ]
    (result,) = registry.run_import([order_file(tmp_path, later, name="icd10cm-order-2031.txt")])
    assert {k: result.counts[k] for k in ("added", "changed", "ended", "unchanged")} == {
        "added": 1,
        "changed": 1,
        "ended": 1,
        "unchanged": 2,
    }
    assert result.report["billable_to_header"] == ["G89.29"] and result.report["ended"] == ["G89.0"]
    assert Code.objects.get(code="G890").last_effective == datetime.date(2030, 9, 30)
    status = catalog.code_status("G89.0", on=datetime.date(2031, 1, 5))
    assert status.exists and not status.valid_on_date and "ended on 2030-09-30" in status.message
    assert catalog.code_status("G89.0", on=datetime.date(2030, 1, 5)).ok


BAD_ORDER_CASES = [
    # (description, content bytes, expected message)
    (
        "truncated",
        ("\r\n".join(ORDER_LINES) + "\r\n").encode()[:-60],
        "icd10cm-order-2030.txt, line 4, column 38: the last line has no line end: the file looks truncated",
    ),
    (
        "wrong encoding",
        (
            "\r\n".join(ORDER_LINES[:3] + [ORDER_LINES[3].replace("Other chronic pain  ", "Other chronic pain \xe9", 1)]) + "\r\n"
        ).encode("cp1252"),
        "icd10cm-order-2030.txt, line 4, column 36: byte 0xe9 is not UTF-8 text (wrong encoding; NCHS files are ASCII/UTF-8)",
    ),
    (
        "not a code",
        ("\r\n".join(ORDER_LINES[:2] + [ORDER_LINES[2].replace("G892   ", "G8#2   ")] + ORDER_LINES[3:]) + "\r\n").encode(),
        "icd10cm-order-2030.txt, line 3, column 7: 'G8#2' is not an ICD-10-CM code",
    ),
    (
        "bad flag",
        ("\r\n".join(ORDER_LINES[:1] + [ORDER_LINES[1][:14] + "X" + ORDER_LINES[1][15:]] + ORDER_LINES[2:]) + "\r\n").encode(),
        "icd10cm-order-2030.txt, line 2, column 15: header/billable flag 'X' is neither 0 nor 1",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "content", "message"), BAD_ORDER_CASES, ids=[c[0] for c in BAD_ORDER_CASES])
def test_bad_order_file_names_line_and_column_and_leaves_the_database_unchanged(tmp_path, case, content, message):
    registry.run_import([order_file(tmp_path, name="icd10cm-order-2029.txt")])
    before = (Code.objects.count(), CodeVersion.objects.count(), Release.objects.count())
    path = write(tmp_path, "icd10cm-order-2030.txt", content)
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([path, write(tmp_path, "icd10cm_tabular_2030.xml", TABULAR)])
    assert str(failure.value) == message
    assert (Code.objects.count(), CodeVersion.objects.count(), Release.objects.count()) == before


@pytest.mark.django_db
def test_truncated_tabular_xml_names_line_and_column(tmp_path):
    cut = TABULAR[: TABULAR.index("<name>G89.29</name>") + 12]
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([order_file(tmp_path), write(tmp_path, "icd10cm_tabular_2030.xml", cut)])
    assert str(failure.value).startswith("icd10cm_tabular_2030.xml, line 23, column ")
    assert "not well-formed XML: " in str(failure.value) and "truncated" in str(failure.value)
    assert not Code.objects.exists()


@pytest.mark.django_db
def test_tabular_xml_with_a_code_that_is_not_a_code(tmp_path):
    bad = TABULAR.replace("<name>G89.29</name>", "<name>G89.2Z9!</name>")
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([write(tmp_path, "icd10cm_tabular_2030.xml", bad)])
    assert str(failure.value) == "icd10cm_tabular_2030.xml, line 23, column 1: 'G89.2Z9!' is not an ICD-10-CM code"


@pytest.mark.django_db
def test_unknown_layout_is_refused(tmp_path):
    path = write(tmp_path, "notes.txt", "hello\r\n")
    with pytest.raises(ImportFailure, match=r"^notes.txt, line 1: unknown layout"):
        registry.run_import([path])
    xml = write(tmp_path, "icd10cm_tabular_2030.xml", "<?xml version='1.0'?>\n<other><ICD10CM.tabular/></other>\n")
    with pytest.raises(ImportFailure, match=r"line 2, column 1: unknown layout: root element <other>"):
        registry.run_import([xml])


@pytest.mark.django_db
def test_code_list_needs_its_tabular_list(tmp_path):
    path = write(tmp_path, "code-list-April-2030.txt", "G89\r\nG890\r\n")
    with pytest.raises(ImportFailure, match="needs the tabular list XML"):
        registry.run_import([path])


@pytest.mark.django_db
def test_code_list_with_a_code_that_is_not_a_code(tmp_path):
    path = write(tmp_path, "code-list-April-2030.txt", "6\r\nG89-G99\r\nG89\r\nG 890\r\n")
    tabular = write(tmp_path, "icd10cm-tabular-April-2030.xml", TABULAR)
    with pytest.raises(ImportFailure) as failure:
        registry.run_import([path, tabular])
    assert str(failure.value) == "code-list-April-2030.txt, line 4, column 1: 'G 890' is not an ICD-10-CM code"


# Code patterns (no database) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("note", "bounds"),
    [
        ("causalgia of lower limb (G57.7-)", [["G577", "G577"]]),
        ("reflex sympathetic dystrophy (G90.5-)", [["G905", "G905"]]),
        ("complex regional pain syndrome I (G90.50-G90.59)", [["G9050", "G9059"]]),
        ("code to identify resistance (Z16.-)", [["Z16", "Z16"]]),
        ("malignant neoplasms (C00-C14)", [["C00", "C14"]]),
        ("esophageal varices (I85.-), gastric ulcer (K25.-)", [["I85", "I85"], ["K25", "K25"]]),
        ("acute pain (G89.1, G89.0)", [["G891", "G891"], ["G890", "G890"]]),
        ("pain NOS (R52)", [["R52", "R52"]]),
        ("certain localized infections - see body system-related chapters", []),
    ],
)
def test_cited_codes_are_parsed_from_note_text(note, bounds):
    assert catalog.cited_codes(note) == bounds


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("C00-C14", ("C00", "C14")),
        ("G89.2 - G89.29", ("G892", "G8929")),
        ("62322-62327", ("62322", "62327")),
        ("62327-62322", ("62322", "62327")),  # typed the wrong way round
        ("C14-C00", ("C00", "C14")),
        ("G89.29-G89.2", ("G8929", "G892")),  # a code and the category above it: G89.29 and its children
        ("C7A-C7A", ("C7A", "C7A")),
        ("intrathecal catheter", None),
        ("G89.29", None),
    ],
)
def test_parse_range(text, bounds):
    assert catalog.parse_range(text) == bounds


def test_in_bounds_covers_descendants():
    assert catalog.in_bounds("C148", "C00", "C14") and not catalog.in_bounds("C15", "C00", "C14")
    assert catalog.in_bounds("G90521", "G9050", "G9059") and not catalog.in_bounds("G9060", "G9050", "G9059")


@pytest.mark.django_db
def test_migration_spells_out_abbreviations_of_codes_loaded_before_it():
    """Migration 0009 rewrites the search text of codes imported by earlier versions, with their latest notes."""
    from django.apps import apps

    migration = importlib.import_module("codes.migrations.0009_cpt_hcpcs_search_synonyms")
    old = "Implant spinal canal cath"
    cpt = Code.objects.create(system="cpt", code="62350", short_description=old, long_description=old, search_text=old)
    icd = Code.objects.create(system="icd10cm", code="B02", long_description="Zoster [herpes zoster]", search_text="Zoster")
    release = Release.objects.create(system="icd10cm", label="FY2021", effective_from=datetime.date(2020, 10, 1))
    notes = {"includes": [{"text": "shingles", "cited": []}]}
    CodeVersion.objects.create(code=icd, release=release, effective_from=release.effective_from, billable=False, notes=notes)
    # What RunPython hands the function: the app registry and a schema editor (only its connection and execute()).
    editor = SimpleNamespace(connection=connection, execute=lambda sql: connection.cursor().execute(sql))
    migration.rewrite_search_text(apps, editor)
    cpt.refresh_from_db()
    icd.refresh_from_db()
    assert cpt.search_text == "Implant spinal canal cath | catheter catheterization intrathecal epidural"
    assert icd.search_text == "Zoster [herpes zoster] | shingles"
    assert [c.display for c in search.search("intrathecal catheter")] == ["62350"]
    assert [c.display for c in search.search("shingles")] == ["B02"]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the first load drops and rebuilds PostgreSQL indexes")
def test_first_load_rebuilds_exactly_the_indexes_it_dropped(tmp_path):
    def indexes():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('codes_code', 'codes_codeversion') ORDER BY 1"
            )
            return cursor.fetchall()

    before = indexes()
    assert {"codes_code_search_fts", "codes_code_code_pattern", "unique_code"} <= {name for name, _ in before}
    (result,) = registry.run_import([order_file(tmp_path)])
    assert result.counts["added"] == 4 and indexes() == before


@pytest.mark.django_db
def test_rebuild_search_text_command_rewrites_stale_text_and_adds_its_words():
    """After a change to codes/synonyms.py, `manage.py rebuild_search_text` brings codes loaded before up to date."""
    short = "Implant spinal canal cath"
    Code.objects.create(system="cpt", code="62350", short_description=short, long_description=short, search_text=short)
    Code.objects.create(
        system="icd10cm",
        code="G8929",
        short_description="Oth chronic pain",
        long_description="Other chronic pain",
        search_text="Other chronic pain",
    )
    out = StringIO()
    call_command("rebuild_search_text", stdout=out)
    assert "Search text rewritten for 2 codes." in out.getvalue()
    assert Code.objects.get(code="62350").search_text == f"{short} | catheter catheterization intrathecal epidural"
    assert Code.objects.get(code="G8929").search_text == "Other chronic pain | Oth chronic pain"
    assert {"intrathecal", "catheterization", "chronic"} <= set(SearchWord.objects.values_list("word", flat=True))
    call_command("rebuild_search_text", stdout=out)
    assert out.getvalue().endswith("Search text rewritten for 0 codes.\n")
