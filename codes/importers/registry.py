"""Recognise files and run their importers: the one way in for `import_data` and the admin upload."""

from __future__ import annotations

import importlib
import zipfile
from pathlib import Path

from django.db import transaction

from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress

# Each module defines IMPORTERS = [ImporterInstance, ...]. Add a line when adding a format.
IMPORTER_MODULES: list[str] = [
    "codes.importers.icd10cm_release",
    "codes.importers.hcpcs_descriptors",
    "codes.importers.hcpcs_anweb",
    "codes.importers.pprrvu",
    "codes.importers.gpci",
    "codes.importers.asc_addenda",
    "codes.importers.opps_addendum_b",
    "codes.importers.asp",
    "codes.importers.dmepos",
    "codes.importers.ncci",
]


def importers() -> list:
    found = []
    for module_name in IMPORTER_MODULES:
        found.extend(importlib.import_module(module_name).IMPORTERS)
    return sorted(found, key=lambda imp: imp.priority)


def _files(paths: list[Path]) -> list[Path]:
    """Return the files named, with a folder standing for every visible file inside it."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        elif path.exists():
            files.append(path)
        else:
            raise ImportFailure("no such file or folder", file=str(path))
    return files


def expand(paths: list[Path]) -> list[SourceFile]:
    """Return the files to import: plain files as they are, zip archives as their members, folders as their files."""
    sources = []
    for path in _files(paths):
        if zipfile.is_zipfile(path) and path.suffix.lower() not in (".xlsx", ".xlsm"):  # a workbook is a zip too
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir() or info.filename.startswith("__MACOSX/"):
                        continue
                    sources.append(SourceFile(name=f"{path.name}:{info.filename}", data=archive.read(info)))
        else:
            sources.append(SourceFile(name=path.name, path=path))
    return sources


class _DryRunRollback(Exception):
    pass


def plan(sources: list[SourceFile], *, ignore_unknown: bool = False) -> list[tuple[object, list[SourceFile]]]:
    """Match every file to an importer; an unrecognised file is an error unless it sits in a zip."""
    jobs = []
    claimed: set[int] = set()
    # One file may feed several importers (the RVU file gives CPT/HCPCS descriptors and PFS rows).
    for importer in importers():
        for group in importer.claim(list(sources)):
            jobs.append((importer, group))
            claimed.update(id(source) for source in group)
    for source in (s for s in sources if id(s) not in claimed):
        if ignore_unknown or ":" in source.name:
            continue  # documentation members of a CMS zip (PDFs, READMEs) are not data
        raise ImportFailure("unknown layout: not a file format this application imports", file=source.name, line=1)
    return jobs


def run_import(
    paths_or_sources: list,
    *,
    dry_run: bool = False,
    user=None,
    progress_for=None,
    extract: bool = False,
) -> list[ImportResult]:
    """Import files completely or not at all; with dry_run, compute the same report and roll back.

    `progress_for(job_name)` returns a Progress callback for one job (None: no progress shown).
    With extract, the files are partial extracts: they only fill releases not loaded from complete files,
    never end codes, and a later complete file of the same release replaces them.
    """
    sources = [s if isinstance(s, SourceFile) else None for s in paths_or_sources]
    if any(s is None for s in sources):
        sources = expand([Path(p) for p in paths_or_sources])
    for source in sources:
        source.extract = source.extract or extract
    jobs = plan(sources)
    results: list[ImportResult] = []
    try:
        with transaction.atomic():
            for importer, group in jobs:
                progress: Progress = progress_for(", ".join(s.basename for s in group)) if progress_for else no_progress
                result = importer.run(group, user=user, progress=progress)
                result.dry_run = dry_run
                results.append(result)
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    return results
