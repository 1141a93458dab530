"""CPT and HCPCS Level II codes of a calendar-year release, from the files that carry descriptors.

The PFS RVU file (PPRRVUyy) and OPPS Addendum B list every payable code with a short descriptor; the fee
importers read the same files for their amounts (the registry lets several importers claim one file).
This importer reuses their parsers and loads the code versions: CPT (HCPCS Level I: five characters, four
digits first, e.g. 62322, 0001U, 1111F) and HCPCS Level II (a letter and four digits, e.g. J2274). Files of
one release fill in for each other (`ReleaseSpec.merge`): Addendum B adds the PLA codes the RVU file lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from codes.importers import catalog_load, opps_addendum_b, pprrvu
from codes.importers.base import ImportResult, Progress, SourceFile, no_progress
from codes.models.catalog import CodeSystem

CPT = re.compile(r"^\d{4}[0-9A-Z]$")
HCPCS = re.compile(r"^[A-Z]\d{4}$")


def system_of(code: str) -> str | None:
    """Return CPT or HCPCS Level II for a five-character code, None for anything else."""
    if CPT.match(code):
        return CodeSystem.CPT
    if HCPCS.match(code):
        return CodeSystem.HCPCS
    return None


def entries_by_system(descriptors: dict[str, str]) -> dict[str, list[catalog_load.CodeEntry]]:
    """Split {code: short descriptor} into CPT and HCPCS Level II entries."""
    found: dict[str, list[catalog_load.CodeEntry]] = {CodeSystem.CPT: [], CodeSystem.HCPCS: []}
    for code, text in descriptors.items():
        system = system_of(code)
        if system is not None:
            found[system].append(catalog_load.CodeEntry(code, text[:100], text, True))
    return found


def load_systems(
    descriptors: dict[str, str],
    *,
    label: str,
    effective_from,
    source: str,
    files: list[SourceFile],
    kind: str,
    user,
    progress: Progress,
) -> ImportResult:
    """Load the CPT and HCPCS Level II releases a file describes; return one result with both counts."""
    results = []
    for system, entries in entries_by_system(descriptors).items():
        if entries:
            spec = catalog_load.ReleaseSpec(system, label, effective_from, source, merge=True)
            results.append(
                catalog_load.load_release(spec=spec, entries=entries, sources=files, kind=kind, user=user, progress=progress)
            )
    source = ", ".join(f.basename for f in files)
    release = " + ".join(r.release for r in results)
    loaded = [r for r in results if not r.skipped]  # an extract where complete files are loaded writes nothing
    if results and not loaded:
        return ImportResult(kind=kind, source=source, release=release, skipped=results[0].skipped)
    counts: dict[str, int] = {}
    for result in loaded:
        system = result.report["system"]
        for key, value in result.counts.items():
            counts[f"{system} {key}"] = value
    return ImportResult(
        kind=kind, source=source, release=release, counts=counts, report={r.report["system"]: r.report for r in loaded}
    )


@dataclass(frozen=True)
class DescriptorImporter:
    """CPT/HCPCS code versions from one file format whose rows carry a code and a short descriptor."""

    source: str  # file format, ranks the descriptors (catalog_load.SOURCE_RANK)
    looks_like: Callable[[SourceFile], bool]
    read_release: Callable[[SourceFile], object]  # -> tabular.ReleaseInfo (label, effective_from)
    descriptors: Callable[[SourceFile], dict[str, str]]
    priority: int  # catalog before fee schedules (50)
    kind: str = "hcpcs-descriptors"

    def claim(self, sources: list[SourceFile]) -> list[list[SourceFile]]:
        return [[source] for source in sources if self.looks_like(source)]

    def run(self, files: list[SourceFile], *, user=None, progress: Progress = no_progress) -> ImportResult:
        (source,) = files
        release = self.read_release(source)
        return load_systems(
            self.descriptors(source),
            label=release.label,
            effective_from=release.effective_from,
            source=self.source,
            files=files,
            kind=self.kind,
            user=user,
            progress=progress,
        )


IMPORTERS = [
    # The RVU file: rows without a modifier (the 26/TC/53 rows repeat the code).
    DescriptorImporter(
        source="pprrvu",
        looks_like=pprrvu.looks_like_pprrvu,
        read_release=pprrvu.read_release,
        descriptors=lambda source: {row.hcpcs: row.description for row in pprrvu.parse_pprrvu(source) if not row.modifier},
        priority=20,
    ),
    # Addendum B: adds the codes the RVU file lacks (e.g. PLA 0001U).
    DescriptorImporter(
        source="opps-addendum-b",
        looks_like=opps_addendum_b.looks_like_addendum_b,
        read_release=opps_addendum_b.read_release,
        descriptors=lambda source: {row.hcpcs: row.short_descriptor for row in opps_addendum_b.parse_addendum_b(source)},
        priority=21,
    ),
]
