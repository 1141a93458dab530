"""ICD-10-CM order file (icd10cm_order_YYYY.txt, icd10cm-order-Mon-YYYY.txt), fixed width.

Layout (NCHS "ICD-10-CM order file format"): columns 1-5 order number, 7-13 code without the dot,
15 "0" header (not valid for HIPAA transactions) / "1" valid for submission, 17-76 short description,
78 onwards long description. Lines end in CRLF; a last line without its line end means the file was cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from codes.importers.base import ImportFailure, SourceFile
from codes.importers.icd10cm_text import decoded_lines

FILE_NAME = re.compile(r"icd10cm[-_]order[-_](?:(?P<month>[a-z]+)[-_])?(?P<year>\d{4})", re.IGNORECASE)
CODE = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")
LINE = re.compile(r"^\d{5} [A-Z0-9]{3,7} *[ ][01] ")


class OrderRow(NamedTuple):  # a tuple: 95,000 of them are made per file
    line: int
    order: int
    code: str
    billable: bool
    short_description: str
    long_description: str


def looks_like(source: SourceFile) -> bool:
    """Return whether a file is an order file: by name, and by the layout of its first line."""
    first = source.head(200).split(b"\n", 1)[0].decode("ascii", "replace")
    return bool(FILE_NAME.search(source.basename)) and bool(LINE.match(first))


def parse(source: SourceFile) -> Iterator[OrderRow]:
    """Yield the rows of an order file; raise ImportFailure naming line and column at the first bad one."""
    for number, text in decoded_lines(source):
        if not text.strip():
            continue
        if len(text) < 17:
            raise ImportFailure(
                f"line is too short ({len(text)} characters): the file looks truncated",
                file=source.name,
                line=number,
                column=str(len(text) + 1),
            )
        order = text[0:5]
        if not order.isdecimal() or text[5] != " ":
            raise ImportFailure(f"order number {order!r} is not five digits", file=source.name, line=number, column="1")
        code = text[6:13].strip()
        if not CODE.match(code):
            raise ImportFailure(f"{code!r} is not an ICD-10-CM code", file=source.name, line=number, column="7")
        flag = text[14]
        if flag not in "01":
            raise ImportFailure(f"header/billable flag {flag!r} is neither 0 nor 1", file=source.name, line=number, column="15")
        short = text[16:76].strip()
        long = text[77:].strip()
        if not short:
            raise ImportFailure(f"{code} has no short description", file=source.name, line=number, column="17")
        yield OrderRow(number, int(order), code, flag == "1", short, long or short)
