"""ICD-10-CM code list (e.g. code-list-April-2025.txt): every code, header and billable, one per line.

Codes are dotless; section ranges such as "A00-A09" appear among them and are skipped. The file has no
flags or descriptions: a code with another code below it is a header, and descriptions come from the
tabular list loaded with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from codes.importers.base import ImportFailure, SourceFile
from codes.importers.icd10cm_text import decoded_lines

FILE_NAME = re.compile(r"(?:icd10cm[-_])?code[-_]list[-_](?:(?P<month>[a-z]+)[-_])?(?P<year>\d{4})", re.IGNORECASE)
CODE = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
SECTION = re.compile(r"^[A-Z][0-9][0-9A-Z]-[A-Z][0-9][0-9A-Z]$")


def looks_like(source: SourceFile) -> bool:
    """Return whether a file is a code list: by name, and by its first lines holding codes."""
    if not FILE_NAME.search(source.basename):
        return False
    lines = [line.strip() for line in source.head(200).decode("ascii", "replace").splitlines()[:4]]
    return any(CODE.match(line) or SECTION.match(line) for line in lines)


def parse(source: SourceFile) -> Iterator[tuple[int, str]]:
    """Yield (line, code); section ranges are skipped; anything else that is not a code is an error."""
    for number, text in decoded_lines(source, final_line_end=False):
        value = text.strip()
        if not value or SECTION.match(value):
            continue
        if value.isdecimal() and 1 <= int(value) <= 30:
            continue  # chapter markers ("1" ... "22") sit before each chapter's codes
        if not CODE.match(value):
            column = len(text) - len(text.lstrip()) + 1
            raise ImportFailure(f"{value!r} is not an ICD-10-CM code", file=source.name, line=number, column=str(column))
        yield number, value
