"""Cell readers shared by the fee-schedule parsers: CMS CSV and xlsx rows, Decimal cells, release labels.

Parsers stay pure (no ORM): they read a SourceFile and yield dataclasses, raising ImportFailure that
names the file, the line (CSV) or sheet and row (xlsx), and the column at fault.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from codes.importers.base import ImportFailure, SourceFile

QUARTER_MONTHS = {
    "jan": 1,
    "january": 1,
    "apr": 4,
    "april": 4,
    "jul": 7,
    "july": 7,
    "oct": 10,
    "october": 10,
}
MONTH_NAMES = {1: "January", 4: "April", 7: "July", 10: "October"}
EOF_MARKS = {"\x1a", "_x001A_"}
FLOAT_NOISE = Decimal("1e-9")  # what a binary float adds to a decimal read from xlsx


@dataclass(frozen=True)
class ReleaseInfo:
    """Which release a file is: year, quarter month and the label shown to users ("2022 January")."""

    year: int
    month: int = 1

    @property
    def label(self) -> str:
        return f"{self.year} {MONTH_NAMES.get(self.month, str(self.month))}"

    @property
    def effective_from(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class Where:
    """Where a row came from, for error messages and the explanation of an amount."""

    file: str
    sheet: str | None = None

    def fail(self, message: str, *, line: int | None = None, column: str | None = None) -> ImportFailure:
        return ImportFailure(message, file=self.file, line=line, column=column, sheet=self.sheet)


def quarter_month(word: str) -> int | None:
    """Return 1/4/7/10 for a quarter word such as "Jan", "July" or "October"."""
    return QUARTER_MONTHS.get(word.strip().lower())


def csv_rows(source: SourceFile, *, encoding: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) of a CSV (or tab-separated) file decoded strictly with `encoding`."""
    where = Where(source.name)
    with source.open_binary() as handle:
        raw = handle.read()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise where.fail(f"cannot be read as {encoding}: byte 0x{raw[exc.start]:02x}", line=line) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise where.fail(f"malformed CSV: {exc}", line=reader.line_num) from exc


def xlsx_rows(source: SourceFile) -> tuple[str, Iterator[tuple[int, tuple]]]:
    """Return the first sheet's title and an iterator of (row number, values) of an xlsx workbook.

    Read with python-calamine (Rust): about 10x faster than openpyxl on the 17,000-row RVU and Addendum B
    workbooks. Empty cells come back as "", numbers as float or int, exactly as the cells hold them.
    """
    from python_calamine import CalamineWorkbook

    try:
        with source.open_binary() as handle:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(handle.read()))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)  # keep leading empty rows: numbers match Excel's
    except Exception as exc:  # noqa: BLE001 - calamine raises its own error types for a bad workbook
        raise ImportFailure(f"not a readable xlsx workbook ({exc.__class__.__name__})", file=source.name) from exc
    return sheet.name, ((number, tuple(values)) for number, values in enumerate(rows, start=1))


def text(value) -> str:
    """Return a cell as stripped text; xlsx integers (modifier 26) become "26", None becomes ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\xa0", " ").strip()


def normalise_header(value) -> str:
    """Collapse spaces and case so drifting CMS headers (" Jan 2022 Payment Weight  ") compare equal."""
    return re.sub(r"\s+", " ", text(value)).lower()


def decimal(value, *, places: int | None, where: Where, line: int, column: str, blank_ok: bool = True) -> Decimal | None:
    """Return a cell as Decimal (via str, never float arithmetic), quantized to `places` when given.

    Text such as "$3,484.62 " is accepted (dollar sign, thousands commas, spaces). Blank gives None,
    or an error when `blank_ok` is False; anything else non-numeric is an error naming the column.
    """
    if isinstance(value, bool):
        raise where.fail(f"expected a number, found {value!r}", line=line, column=column)
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        cleaned = text(value).replace("$", "").replace(",", "").strip()
        if cleaned == "":
            if blank_ok:
                return None
            raise where.fail("value is missing", line=line, column=column)
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise where.fail(f"expected a number, found {text(value)!r}", line=line, column=column) from None
        if not number.is_finite():
            raise where.fail(f"expected a number, found {text(value)!r}", line=line, column=column)
    if places is not None:
        # Only binary-float noise is cut (xlsx 24.830000000000002 is 24.83): a value written with more decimals
        # than the file publishes is an error, not rounded here (money is rounded once, in codes.pricing).
        try:
            quantized = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise where.fail(f"number {text(value)!r} is too large", line=line, column=column) from None
        if abs(quantized - number) > FLOAT_NOISE:
            raise where.fail(
                f"{text(value)!r} has more than the {places} decimal places this column holds", line=line, column=column
            )
        number = quantized
    return number


def code(value) -> str:
    """Return a HCPCS/CPT code as dotless upper-case text with stray and non-breaking spaces removed."""
    return text(value).replace(" ", "").replace(".", "").upper()


def is_code(value: str) -> bool:
    """Return whether text looks like a 5-character HCPCS/CPT code (footers and notes do not)."""
    return len(value) == 5 and value.isalnum()


def check_header(actual: list, expected: list[str], *, where: Where, line: int, prefix_ok: bool = False) -> None:
    """Fail on the first header cell that is not the expected name (compared normalised).

    Expected names ending in "*" match any cell starting with the rest; "~" at the start matches any
    cell containing the rest (drifting CMS names such as "Drug and Device Pass-Through ...").
    """
    for index, name in enumerate(expected):
        found = normalise_header(actual[index]) if index < len(actual) else ""
        wanted = name.lower()
        if wanted.startswith("~"):
            ok = wanted[1:] in found
        elif wanted.endswith("*"):
            ok = found.startswith(wanted[:-1])
        else:
            ok = found == wanted or (prefix_ok and found.endswith(wanted))
        if not ok:
            shown = text(actual[index]) if index < len(actual) else "(missing)"
            raise where.fail(
                f"unknown header {shown!r} in column {index + 1}; expected {name.strip('~*')!r}",
                line=line,
                column=shown or f"#{index + 1}",
            )
