"""What every importer shares: the source file, the error that names the fault, the result."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

Progress = Callable[[int, int], None]


def no_progress(done: int, total: int) -> None:
    """Progress callback that does nothing."""


@dataclass
class SourceFile:
    """One file to import: from disk, or a member of a CMS zip archive (bytes in memory)."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    # A trimmed extract (the starter data): fills an empty release, never replaces or ends a complete one.
    extract: bool = False
    _sha256: str | None = field(default=None, repr=False)

    @property
    def basename(self) -> str:
        return self.name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]

    def open_binary(self):
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")  # noqa: SIM115 - the caller closes it

    def head(self, size: int = 65536) -> bytes:
        with self.open_binary() as handle:
            return handle.read(size)

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            digest = hashlib.sha256()
            with self.open_binary() as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            self._sha256 = digest.hexdigest()
        return self._sha256


class ImportFailure(Exception):
    """A file cannot be imported; the message names the file, line (or sheet and row) and column."""

    def __init__(self, message: str, *, file: str, line: int | None = None, column: str | None = None, sheet: str | None = None):
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.sheet = sheet
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.line is not None:
            where.append(f"{'row' if self.sheet is not None else 'line'} {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class ImportResult:
    """What one import job did: counts (added, changed, ended, unchanged, ...) and a change report."""

    kind: str
    source: str
    release: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    dry_run: bool = False
    skipped: str = ""  # why nothing was written (an extract where a complete release is loaded)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.source} ({self.kind}): skipped, {self.skipped}"
        counts = ", ".join(f"{key} {value:,}" for key, value in self.counts.items())
        prefix = "[dry run] " if self.dry_run else ""
        release = f" -> {self.release}" if self.release else ""
        return f"{prefix}{self.source} ({self.kind}{release}): {counts}"

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "release": self.release,
            "counts": self.counts,
            "report": self.report,
            "skipped": self.skipped,
        }


class Importer(Protocol):
    """One file format. Registered in `codes.importers.registry`.

    `claim(sources)` picks, from all files given to one `import_data` call, the groups this
    importer takes (usually one file per job; an ICD-10-CM code list goes with its tabular XML).
    Several importers may claim the same file; a file no importer claims is an error.
    `run(files, ...)` parses and writes inside the caller's transaction and returns the result.
    """

    kind: str
    priority: int  # lower runs first (code catalogs before fee schedules)

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]: ...

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult: ...
