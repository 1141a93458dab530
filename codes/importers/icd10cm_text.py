"""Reading NCHS text files line by line: strict UTF-8 with the fault located, truncation detected."""

from __future__ import annotations

from collections.abc import Iterator

from codes.importers.base import ImportFailure, SourceFile


def decode(source: SourceFile) -> str:
    """Return the file's text; a byte that is not UTF-8 is an error naming its line and column."""
    with source.open_binary() as handle:
        data = handle.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ImportFailure(
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text (wrong encoding; NCHS files are ASCII/UTF-8)",
            file=source.name,
            line=line,
            column=str(column),
        ) from exc


def decoded_lines(source: SourceFile, *, final_line_end: bool = True) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its line end).

    With `final_line_end`, a last line without its line end means the file was cut (order files end
    in CRLF); code lists as shipped end without one.
    """
    text = decode(source)
    if not text:
        raise ImportFailure("the file is empty", file=source.name, line=1)
    lines = text.split("\n")
    if not final_line_end and lines[-1] != "":
        lines.append("")
    if lines[-1] != "":
        raise ImportFailure(
            "the last line has no line end: the file looks truncated",
            file=source.name,
            line=len(lines),
            column=str(len(lines[-1]) + 1),
        )
    for number, line in enumerate(lines[:-1], start=1):
        yield number, line.rstrip("\r")
