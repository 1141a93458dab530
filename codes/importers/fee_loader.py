"""Write one parsed fee-schedule file as a release: validate all rows, then replace in one bulk write.

Shared by the PPRRVU, GPCI, ASC, OPPS, ASP and DMEPOS importers. Runs inside the caller's transaction
(`registry.run_import`), so a failure anywhere leaves nothing half-imported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress
from codes.importers.tabular import ReleaseInfo

BATCH = 2000
REPORT_LIMIT = 200


@dataclass
class FeeImporter:
    """A fee-schedule format for the registry: recognise files, parse rows, load them as a release."""

    kind: str
    looks_like: Callable[[SourceFile], bool]
    read_release: Callable[[SourceFile], ReleaseInfo]
    parse: Callable[[SourceFile], Iterable]
    model_name: str
    to_fields: Callable[[object], dict]
    key_fields: tuple[str, ...] = ("code",)
    exact_duplicates_ok: bool = False
    priority: int = 50  # after the code catalogs
    not_compared: tuple[str, ...] = ()  # file-wide constants that would mark every row "changed"

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]:
        return [[source] for source in sources if self.looks_like(source)]

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult:
        (source,) = files
        info = self.read_release(source)
        rows = [(row.line, self.to_fields(row)) for row in self.parse(source)]
        return load_release(
            kind=self.kind,
            info=info,
            source=source,
            model_name=self.model_name,
            rows=rows,
            key_fields=self.key_fields,
            exact_duplicates_ok=self.exact_duplicates_ok,
            not_compared=self.not_compared,
            user=user,
            progress=progress,
        )


def load_release(
    *,
    kind: str,
    info: ReleaseInfo,
    source: SourceFile,
    model_name: str,
    rows: list[tuple[int, dict]],
    key_fields: tuple[str, ...],
    exact_duplicates_ok: bool = False,
    not_compared: tuple[str, ...] = (),
    user=None,
    progress: Progress = no_progress,
) -> ImportResult:
    """Replace the rows of release (kind, info) with `rows`; report what changed against the previous rows."""
    from django.apps import apps

    from codes.models import FeeRelease

    model = apps.get_model("codes", model_name)
    unique = _deduplicate(rows, key_fields=key_fields, exact_ok=exact_duplicates_ok, file=source.name)
    if not unique:
        raise ImportFailure("no data rows found", file=source.name)
    _check_sizes(model, unique, file=source.name)
    release = FeeRelease.objects.filter(kind=kind, effective_from=info.effective_from).first()
    if source.extract and release is not None and (not release.extract or release.sha256 == source.sha256):
        # Starter data only fills an empty release: never replace rows from a complete file, nor reload itself.
        why = "a complete file of this release is loaded" if not release.extract else "this extract is already loaded"
        return ImportResult(kind=kind, source=source.name, release=str(release), skipped=why)
    baseline = release or FeeRelease.objects.filter(kind=kind, effective_from__lt=info.effective_from).first()
    compare_fields = [f for f in unique[0][1] if f != "line" and f not in not_compared]
    before = _snapshot(model, baseline, key_fields, compare_fields) if baseline else {}
    if release is None:
        release = FeeRelease(kind=kind, effective_from=info.effective_from)
    release.year = info.year
    release.label = info.label
    release.source_name = source.basename
    release.sha256 = source.sha256
    release.row_count = len(unique)
    release.extract = source.extract
    release.imported_by = user if getattr(user, "pk", None) else None
    release.save()
    model.objects.filter(release=release).delete()
    _insert(model, release, unique, progress)
    _renumber_effective_to(kind)
    counts, report = _compare(before, unique, key_fields, compare_fields)
    report["baseline"] = str(baseline) if baseline else None
    return ImportResult(kind=kind, source=source.name, release=str(release), counts=counts, report=report)


def _insert(model, release, rows: list[tuple[int, dict]], progress: Progress) -> None:
    """Write the rows: COPY on PostgreSQL (psycopg 3's copy protocol, ~10x bulk INSERT), bulk_create elsewhere."""
    from django.db import connection

    total = len(rows)
    if connection.vendor == "postgresql":
        names = ["release", "line", *rows[0][1]]
        columns = ", ".join(connection.ops.quote_name(model._meta.get_field(name).column) for name in names)
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for done, (line, fields) in enumerate(rows, start=1):
                copy.write_row([release.pk, line, *fields.values()])
                if done % BATCH == 0:
                    progress(done, total)
        progress(total, total)
        return
    for start in range(0, total, BATCH):
        model.objects.bulk_create([model(release=release, line=line, **fields) for line, fields in rows[start : start + BATCH]])
        progress(min(start + BATCH, total), total)


def _check_sizes(model, rows: list[tuple[int, dict]], *, file: str) -> None:
    """Fail on the first value too long or too large for its column, naming line and field.

    The database would refuse the whole COPY with "value too long", naming no line of the file.
    """
    from django.db import models

    limits = []
    for name in rows[0][1]:
        field = model._meta.get_field(name)
        if isinstance(field, models.DecimalField):
            limits.append((name, "digits", field.max_digits - field.decimal_places))
        elif isinstance(field, models.CharField) and field.max_length:
            limits.append((name, "length", field.max_length))
    for line, fields in rows:
        for name, kind, limit in limits:
            value = fields[name]
            if value is None:
                continue
            if kind == "length" and len(value) > limit:
                message = f"{value!r} is longer than the {limit} characters of {name}"
                raise ImportFailure(message, file=file, line=line, column=name)
            if kind == "digits" and abs(value) >= 10**limit:
                raise ImportFailure(f"{value} is too large for {name}", file=file, line=line, column=name)


def _deduplicate(rows, *, key_fields, exact_ok: bool, file: str) -> list[tuple[int, dict]]:
    seen: dict[tuple, tuple[int, dict]] = {}
    unique = []
    for line, fields in rows:
        key = tuple(fields[f] for f in key_fields)
        if key in seen:
            first_line, first = seen[key]
            if exact_ok and first == fields:
                continue  # CMS repeats a few rows verbatim (BB 2022: J0223, J0791, ...)
            shown = " ".join(str(k) for k in key if k) or str(key)
            raise ImportFailure(
                f"duplicate row for {shown} (first on line {first_line}); the key is ({', '.join(key_fields)})",
                file=file,
                line=line,
                column=key_fields[0],
            )
        seen[key] = (line, fields)
        unique.append((line, fields))
    return unique


def _snapshot(model, release, key_fields, compare_fields) -> dict[tuple, dict]:
    names = list(dict.fromkeys([*key_fields, *compare_fields]))
    snapshot = {}
    for values in model.objects.filter(release=release).values(*names).iterator(chunk_size=BATCH):
        snapshot[tuple(values[f] for f in key_fields)] = values
    return snapshot


def _compare(before: dict, unique, key_fields, compare_fields) -> tuple[dict, dict]:
    added, changed, unchanged = [], [], 0
    after_keys = set()
    for _line, fields in unique:
        key = tuple(fields[f] for f in key_fields)
        after_keys.add(key)
        old = before.get(key)
        if old is None:
            added.append(key)
            continue
        diff = {f: [str(old[f]), str(fields[f])] for f in compare_fields if old[f] != fields[f]}
        if diff:
            changed.append({"key": " ".join(k for k in key if k), "fields": diff})
        else:
            unchanged += 1
    removed = [key for key in before if key not in after_keys] if before else []
    counts = {"rows": len(unique), "added": len(added) if before else len(unique), "changed": len(changed)}
    counts.update({"removed": len(removed), "unchanged": unchanged})
    report = {
        "added": [" ".join(k for k in key if k) for key in added[:REPORT_LIMIT]] if before else [],
        "removed": [" ".join(k for k in key if k) for key in removed[:REPORT_LIMIT]],
        "changed": changed[:REPORT_LIMIT],
    }
    return counts, report


def _renumber_effective_to(kind: str) -> None:
    """Each release is in force until the day before the next release of its kind starts.

    A partial extract (starter data) ends no complete release: only the next complete one does.
    """
    from datetime import timedelta

    from codes.models import FeeRelease

    releases = list(FeeRelease.objects.filter(kind=kind).order_by("effective_from"))
    for index, current in enumerate(releases):
        following = next((r for r in releases[index + 1 :] if current.extract or not r.extract), None)
        end = following.effective_from - timedelta(days=1) if following else None
        if current.effective_to != end:
            current.effective_to = end
            current.save(update_fields=["effective_to"])
