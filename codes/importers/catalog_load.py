"""Write one release of a code system: codes, per-release versions, effective dates and the change report.

Every importer of the catalog builds `CodeEntry` rows in memory (parsing has already validated them) and
calls `load_release`, which writes in the caller's transaction with batched bulk inserts, so an import
applies completely or not at all. Loading the same release again changes nothing.
"""

from __future__ import annotations

import datetime
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath

from django.db import connection, models
from django.db.models import Count, Max, Min, Q
from psycopg.types.json import Jsonb

from codes import search, synonyms
from codes.importers import pg_bulk
from codes.importers.base import ImportFailure, ImportResult, Progress, SourceFile, no_progress
from codes.models.catalog import Chapter, Code, CodeSystem, CodeVersion, Release, SearchWord, Section, display_code

BATCH = 5000
EMPTY_JSON = "{}"
REPORT_LIMIT = 20000  # codes listed per kind of change in the stored report (counts are always complete)
# When several files describe the same code of one release, the higher rank wins (CMS's HCPCS file
# carries the full long descriptors; the RVU file and Addendum B only short ones).
SOURCE_RANK = {"hcpcs-anweb": 3, "pprrvu": 2, "opps-addendum-b": 1}
DESCRIPTOR_FIELDS = ("short_description", "long_description", "billable")
VERSION_FIELDS = ["short_description", "long_description", "billable", "notes", "seventh_characters", "source"]


@dataclass(slots=True)
class CodeEntry:
    """One code of a release as a file describes it."""

    code: str
    short_description: str
    long_description: str
    billable: bool = True
    notes: dict = field(default_factory=dict)
    seventh_characters: dict = field(default_factory=dict)
    section: str = ""
    index_terms: list[str] = field(default_factory=list)  # terms of its notes that name it (synonyms.index_terms)

    def search_text(self, system: str) -> str:
        return synonyms.search_text(system, self.short_description, self.long_description, self.index_terms, code=self.code)


@dataclass
class ReleaseSpec:
    """Which release a set of files makes: system, label, first day in force, and how it combines."""

    system: str
    label: str
    effective_from: datetime.date
    source: str  # file format, e.g. "icd10cm-order"
    merge: bool = False  # True: add to the release's codes (several files make one release); False: replace them


def reserve_ids(model, count: int) -> list[int]:
    """Return `count` fresh primary keys for `model` (from its sequence on PostgreSQL)."""
    if count == 0:
        return []
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        return pg_bulk.reserve_id_range(table, count)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # SQLite: one writer at a time
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


def bulk_insert(model, fields: list[str], rows: list[tuple]) -> None:
    """Insert new rows given as tuples of `fields`: COPY on PostgreSQL (several times quicker than INSERT)."""
    if not rows:
        return
    meta = model._meta
    json_at = [i for i, name in enumerate(fields) if isinstance(meta.get_field(name), models.JSONField)]
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in fields)
    if connection.vendor != "postgresql":
        # executemany of plain tuples: several times quicker than bulk_create's model instances.
        placeholders = ", ".join(["%s"] * len(fields))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {meta.db_table} ({columns}) VALUES ({placeholders})",
                [[json.dumps(v) if i in json_at else v for i, v in enumerate(row)] for row in rows] if json_at else rows,
            )
        return
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            if json_at:
                # JSON as text (COPY parses it with the column's type): most notes are {}, dumped once.
                row = list(row)
                for i in json_at:
                    row[i] = EMPTY_JSON if row[i] == {} else json.dumps(row[i])
            copy.write_row(row)


def bulk_change(model, fields: list[str], rows: list[tuple]) -> None:
    """Update existing rows given as (pk, *values of fields): COPY into a temporary table and one UPDATE on PostgreSQL."""
    if not rows:
        return
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    json_at = [i + 1 for i, name in enumerate(fields) if isinstance(meta.get_field(name), models.JSONField)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
            cursor.executemany(
                f"UPDATE {meta.db_table} SET {assignments} WHERE id = %s",
                [(*[json.dumps(v) if i + 1 in json_at else v for i, v in enumerate(row[1:])], row[0]) for row in rows],
            )
            return
        listed = ", ".join(quote(c) for c in ["id", *columns])
        cursor.execute(f"CREATE TEMPORARY TABLE bulk_change ON COMMIT DROP AS SELECT {listed} FROM {meta.db_table} WITH NO DATA")
        with cursor.cursor.copy(f"COPY bulk_change ({listed}) FROM STDIN") as copy:
            for row in rows:
                if json_at:
                    row = [Jsonb(v) if i in json_at else v for i, v in enumerate(row)]
                copy.write_row(row)
        assignments = ", ".join(f"{quote(c)} = b.{quote(c)}" for c in columns)
        cursor.execute(f"UPDATE {meta.db_table} AS t SET {assignments} FROM bulk_change AS b WHERE t.id = b.id")
        cursor.execute("DROP TABLE bulk_change")


def _flush_pending_search_entries() -> None:
    """Merge the GIN indexes' pending lists into their trees (PostgreSQL).

    Rows written to an indexed table land in a GIN "fast update" pending list that every search scans
    linearly: after loading a release (27,000 pending rows) a word search took 25 ms instead of 0.5 ms until
    autovacuum got round to it. One bulk merge at the end of the import costs a fraction of a second.
    """
    with connection.cursor() as cursor:
        for name in search.GIN_INDEXES:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])


def _add_to_vocabulary(texts) -> None:
    """Add the words of new search texts (codes just added) to the search vocabulary (SearchWord)."""
    words = search.vocabulary(texts) - set(SearchWord.objects.values_list("word", flat=True))
    SearchWord.objects.bulk_create([SearchWord(word=w) for w in sorted(words)], batch_size=BATCH, ignore_conflicts=True)


def _sync_vocabulary() -> None:
    """Make the search vocabulary exactly the words of every code's search text, after texts were rewritten.

    A word no code has any more ("sjogren" once FY2025 spells "Sjögren") would otherwise pass as correctly
    spelt, so the search neither finds it nor corrects it.
    """
    live = search.vocabulary(Code.objects.values_list("search_text", flat=True).iterator(chunk_size=BATCH))
    stored = set(SearchWord.objects.values_list("word", flat=True))
    SearchWord.objects.filter(word__in=sorted(stored - live)).delete()
    SearchWord.objects.bulk_create([SearchWord(word=w) for w in sorted(live - stored)], batch_size=BATCH)


def _plain(descriptors: tuple) -> tuple:
    """Return descriptors without accents: NCHS order files spell "Sezary" where the tabular list has "Sézary"."""
    return tuple(
        "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
        if isinstance(value, str)
        else value
        for value in descriptors
    )


def _report_codes(system: str, codes: list[str]) -> list[str]:
    return [display_code(system, c) for c in sorted(codes)[:REPORT_LIMIT]]


def _release_for(spec: ReleaseSpec, sources: list[SourceFile], user, *, supersede: bool = False) -> Release:
    clash = Release.objects.filter(system=spec.system, effective_from=spec.effective_from).exclude(label=spec.label).first()
    if clash is not None:
        raise ImportFailure(
            f"{clash} already starts on {spec.effective_from:%Y-%m-%d}; a second release cannot start the same day",
            file=sources[0].name,
        )
    release, created = Release.objects.get_or_create(
        system=spec.system, label=spec.label, defaults={"effective_from": spec.effective_from}
    )
    if not created and release.effective_from != spec.effective_from:
        raise ImportFailure(
            f"{release} is recorded as starting {release.effective_from:%Y-%m-%d}, this file says {spec.effective_from:%Y-%m-%d}",
            file=sources[0].name,
        )
    names = set(filter(None, release.source_files.splitlines()))
    hashes = set(filter(None, release.sha256.splitlines()))
    if supersede:
        # Complete files replacing an extract replace its provenance too: all of it, or in a release that several
        # files make (spec.merge) that of the extract of the same file only.
        replaced = {s.basename for s in sources}
        names = {n for n in names if spec.merge and PurePath(n).name not in replaced}
        hashes = {h for h in hashes if spec.merge and h.split("  ", 1)[-1] not in replaced}
    names |= {s.name for s in sources}
    hashes |= _hashes(sources)
    release.extract = all(s.extract for s in sources)  # an extract never reaches a complete release (load_release)
    release.source_files = "\n".join(sorted(names))
    release.sha256 = "\n".join(sorted(hashes))
    release.loaded_by = user if getattr(user, "pk", None) else release.loaded_by
    return release


def _hashes(sources: list[SourceFile]) -> set[str]:
    return {f"{s.sha256}  {s.basename}" for s in sources}


def _chain_dates(system: str) -> None:
    """Set each release's effective_to to the day before the next complete release, and copy dates to versions.

    A partial extract (starter data) ends no code: it only takes over the codes it has, from its first day.
    """
    releases = list(Release.objects.filter(system=system).order_by("effective_from"))
    for index, release in enumerate(releases):
        later = releases[index + 1 :]
        following = next((r for r in later if not r.extract), None)
        end = following.effective_from - datetime.timedelta(days=1) if following else None
        if release.effective_to != end:
            release.effective_to = end
            release.save(update_fields=["effective_to"])
        stale = CodeVersion.objects.filter(release=release).exclude(effective_from=release.effective_from, effective_to=end)
        if end is None:
            stale = CodeVersion.objects.filter(release=release).exclude(
                effective_from=release.effective_from, effective_to__isnull=True
            )
        stale.update(effective_from=release.effective_from, effective_to=end)
        for extract in later[: later.index(following)] if following else later:
            cut = extract.effective_from - datetime.timedelta(days=1)
            CodeVersion.objects.filter(
                Q(effective_to__isnull=True) | Q(effective_to__gt=cut),
                release=release,
                code__in=CodeVersion.objects.filter(release=extract).values("code"),
            ).update(effective_to=cut)


def _sync_hierarchy(chapters: list[dict], sections: list[dict]) -> dict[str, int]:
    """Create or update ICD-10-CM chapters and sections (only those that differ); return {section range: pk}."""
    current = {c.number: c for c in Chapter.objects.all()}
    for values in chapters:
        chapter = current.get(values["number"]) or Chapter(number=values["number"])
        if chapter.pk is None or any(getattr(chapter, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(chapter, key, value)
            chapter.save()
            current[chapter.number] = chapter
    existing = {s.range_id: s for s in Section.objects.all()}
    for values in sections:
        values = {**values, "chapter_id": current[values["chapter"]].pk}
        del values["chapter"]
        section = existing.get(values["range_id"]) or Section(range_id=values["range_id"])
        if section.pk is None or any(getattr(section, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(section, key, value)
            section.save()
            existing[section.range_id] = section
    return {range_id: section.pk for range_id, section in existing.items()}


def _parent_of(code: str, known: set[str]) -> str | None:
    for length in range(len(code) - 1, 2, -1):
        if code[:length] in known:
            return code[:length]
    return None


def load_release(
    *,
    spec: ReleaseSpec,
    entries: list[CodeEntry],
    sources: list[SourceFile],
    kind: str,
    user=None,
    progress: Progress = no_progress,
    chapters: list[dict] | None = None,
    sections: list[dict] | None = None,
) -> ImportResult:
    """Write a release and return added/changed/ended/unchanged counts against the previous release."""
    system = spec.system
    current = Release.objects.filter(system=system, label=spec.label).first()
    extract = any(s.extract for s in sources)
    if extract and current is not None and (not current.extract or _hashes(sources) <= set(current.sha256.splitlines())):
        # Starter data only fills an empty release: never replace codes from complete files, nor reload itself.
        why = "complete files of this release are loaded" if not current.extract else "this extract is already loaded"
        return ImportResult(kind=kind, source=", ".join(s.basename for s in sources), release=str(current), skipped=why)
    # Complete files replace an extract of the same release entirely (not merged into it).
    supersede = not extract and current is not None and current.extract
    release = _release_for(spec, sources, user, supersede=supersede)
    total = len(entries) * 2
    progress(0, total)
    section_pks = _sync_hierarchy(chapters or [], sections or []) if system == CodeSystem.ICD10CM else {}

    # {code: (pk, short, long, billable, notes, seventh, source)}: tuples, not model instances (100k rows).
    existing_versions = {
        row[0]: row[1:] for row in CodeVersion.objects.filter(release=release).values_list("code__code", "pk", *VERSION_FIELDS)
    }
    by_code = {entry.code: entry for entry in entries}
    if spec.merge:
        # Files of one release fill in for each other; a lower-ranked file never overwrites a higher one. A complete
        # file replacing an extract replaces the codes of its own format's extract, not those another file gave.
        rank = SOURCE_RANK.get(spec.source, 0)
        by_code, source_for = {}, {}
        for code, (_, short, long, billable, notes, seventh, source) in existing_versions.items():
            if supersede and source == spec.source:
                continue
            by_code[code] = CodeEntry(code, short, long, billable, notes, seventh, index_terms=synonyms.index_terms(notes))
            source_for[code] = source
        for entry in entries:
            if entry.code not in source_for or SOURCE_RANK.get(source_for[entry.code], 0) <= rank:
                by_code[entry.code] = entry
                source_for[entry.code] = spec.source
    else:
        source_for = dict.fromkeys(by_code, spec.source)

    previous = Release.objects.filter(system=system, effective_from__lt=spec.effective_from).order_by("-effective_from").first()
    previous_state = {}
    if previous is not None:
        rows = CodeVersion.objects.filter(release=previous).values_list(
            "code__code", "short_description", "long_description", "billable"
        )
        previous_state = {code: (short, long, billable) for code, short, long, billable in rows}
    # The report compares with the state before this load: the release itself when it has codes already (a second
    # file of it, a reload, an extract replaced), else the previous release.
    before = {code: v[1:4] for code, v in existing_versions.items()} if existing_versions else previous_state

    # Files without short descriptors (code list + tabular XML) keep the previous release's, unchanged text permitting.
    for entry in by_code.values():
        if not entry.short_description:
            old = previous_state.get(entry.code)
            if old and old[1] == entry.long_description:
                entry.short_description = old[0]
            elif len(entry.long_description) <= 100:
                entry.short_description = entry.long_description

    # Codes: new ones get their ids up front, so parents and children go in with one bulk write.
    codes = dict(Code.objects.filter(system=system).values_list("code", "pk"))
    pre_existing = set(codes)
    latest = not Release.objects.filter(system=system, effective_from__gt=spec.effective_from).exists()
    known = set(by_code) | pre_existing
    missing = sorted((entry for code, entry in by_code.items() if code not in codes), key=lambda e: (len(e.code), e.code))
    codes.update(zip((e.code for e in missing), reserve_ids(Code, len(missing)), strict=True))
    # A load that more than doubles the table (a first release) builds the indexes once afterwards (a bulk
    # build is several times quicker than keeping them up row by row) and checks its foreign keys once, by a join.
    rebuild = connection.vendor == "postgresql" and len(missing) > len(pre_existing) + Code.objects.exclude(system=system).count()
    texts = {entry.code: entry.search_text(system) for entry in missing}
    if rebuild:
        tables = [Code._meta.db_table, CodeVersion._meta.db_table]
        indexes = pg_bulk.drop_indexes(tables)
        foreign_keys = pg_bulk.drop_foreign_keys(tables)
    bulk_insert(
        Code,
        [
            "id",
            "system",
            "code",
            "short_description",
            "long_description",
            "billable",
            "parent",
            "section",
            "search_text",
            "first_effective",
            "last_effective",
        ],
        [
            (
                codes[entry.code],
                system,
                entry.code,
                entry.short_description[:100],
                entry.long_description,
                entry.billable,
                codes.get(_parent_of(entry.code, known) or ""),
                section_pks.get(entry.section),
                texts[entry.code],
                spec.effective_from,
                None,
            )
            for entry in missing
        ],
    )
    _add_to_vocabulary(texts.values())
    progress(len(entries), total)

    # Versions of this release: create, update what changed, drop codes a replacing file no longer has.
    create, update = [], []
    for code, entry in by_code.items():
        values = (
            entry.short_description[:100],
            entry.long_description,
            entry.billable,
            entry.notes,
            entry.seventh_characters,
            source_for[code],
        )
        version = existing_versions.get(code)
        if version is None:
            create.append((codes[code], release.pk, spec.effective_from, None, *values))
        elif version[1:] != values:
            update.append((version[0], *values))
    dropped = [v[0] for code, v in existing_versions.items() if code not in by_code]
    bulk_insert(CodeVersion, ["code", "release", "effective_from", "effective_to", *VERSION_FIELDS], create)
    if rebuild:
        pg_bulk.create_indexes(indexes)
        pg_bulk.restore_foreign_keys(foreign_keys)
    bulk_change(CodeVersion, VERSION_FIELDS, update)
    CodeVersion.objects.filter(pk__in=dropped).delete()
    release.save()
    _chain_dates(system)

    # The Code rows carry their latest release's text for search: refresh those this release touched.
    if latest and pre_existing & set(by_code):
        fields = [
            "short_description",
            "long_description",
            "billable",
            "search_text",
            "last_effective",
            "section",
            "parent",
            "first_effective",
        ]
        current = {row[0]: row[1:] for row in Code.objects.filter(system=system).values_list("code", "pk", *fields)}
        refresh, texts_changed = [], False
        for code, entry in by_code.items():
            if code not in pre_existing:
                continue  # just written with these values
            pk, *old = current[code]
            new = [
                entry.short_description[:100],
                entry.long_description,
                entry.billable,
                entry.search_text(system),
                None,
                section_pks.get(entry.section, old[5]),
                codes.get(_parent_of(code, known) or "", old[6]),
                min(old[7] or spec.effective_from, spec.effective_from),
            ]
            if new != old:
                refresh.append((pk, *new))
                texts_changed = texts_changed or new[3] != old[3]
        bulk_change(Code, fields, refresh)
        if texts_changed:  # not for dates or parents only: the sync reads every code's text
            _sync_vocabulary()
    _refresh_validity(
        system, [code for code in set(previous_state) | set(existing_versions) if code not in by_code] if latest else None
    )
    progress(total, total)

    added = [code for code in by_code if code not in before]
    ended = [code for code in before if code not in by_code]
    changed, unchanged, details = [], 0, []
    for code, entry in by_code.items():
        old = before.get(code)
        if old is None:
            continue
        new = (entry.short_description[:100], entry.long_description, entry.billable)
        if old == new or _plain(old) == _plain(new):
            unchanged += 1
            continue
        changed.append(code)
        if len(details) < REPORT_LIMIT // 10:
            what = {name: {"from": a, "to": b} for name, a, b in zip(DESCRIPTOR_FIELDS, old, new, strict=True) if a != b}
            details.append({"code": display_code(system, code), **what})
    billable = sum(1 for e in by_code.values() if e.billable)
    counts = {
        "codes": len(by_code),
        "billable": billable,
        "header": len(by_code) - billable,
        "added": len(added),
        "changed": len(changed),
        "ended": len(ended),
        "unchanged": unchanged,
        "versions written": len(create) + len(update) + len(dropped),
    }
    report = {
        "system": str(system),
        "release": spec.label,
        "effective_from": spec.effective_from.isoformat(),
        "previous_release": previous.label if previous else None,
        "compared_with": "this release as loaded before" if existing_versions else (previous.label if previous else None),
        "added": _report_codes(system, added),
        "ended": _report_codes(system, ended),
        "changed": details,
        "billable_to_header": _report_codes(system, [c for c in changed if before[c][2] and not by_code[c].billable]),
        "header_to_billable": _report_codes(system, [c for c in changed if not before[c][2] and by_code[c].billable]),
    }
    if connection.vendor == "postgresql" and (create or update or dropped):
        _flush_pending_search_entries()
        # Fresh statistics: without them the planner misjudges the version lookups of search right after a load.
        with connection.cursor() as cursor:
            # Only the columns search filters on: sampling the long text and JSON columns costs seconds.
            cursor.execute(
                "ANALYZE codes_code (system, code, billable, last_effective), "
                "codes_codeversion (code_id, release_id, effective_from, effective_to, billable)"
            )
    release.counts = {k: counts[k] for k in ("codes", "billable", "header")}
    release.report = report
    release.save(update_fields=["counts", "report"])
    return ImportResult(
        kind=kind, source=", ".join(s.basename for s in sources), release=str(release), counts=counts, report=report
    )


def _refresh_validity(system: str, codes: list[str] | None) -> None:
    """Recompute first/last effective dates of codes from their versions (None: every code of the system)."""
    rows = Code.objects.filter(system=system)
    if codes is not None:
        if not codes:
            return
        rows = rows.filter(code__in=codes)
    spans = rows.values_list("pk", "first_effective", "last_effective").annotate(
        first=Min("versions__effective_from"),
        last=Max("versions__effective_to"),
        open_versions=Count("versions", filter=Q(versions__effective_to__isnull=True)),
    )
    changed = []
    for pk, first_effective, last_effective, first, last, open_versions in spans:
        last = None if open_versions else last
        if (first_effective, last_effective) != (first, last):
            changed.append((pk, first, last))
    bulk_change(Code, ["first_effective", "last_effective"], changed)


def rebuild_search_text() -> int:
    """Recompute every code's search text from its latest version, as an import writes it; return how many changed.

    For after a change to the synonym table (codes/synonyms.py) or to how search text is made: codes keep the
    text of the import that wrote them until then. The vocabulary follows the new text.
    """
    latest = CodeVersion.objects.filter(code=models.OuterRef("pk")).order_by("-effective_from").values("notes")[:1]
    rows = Code.objects.annotate(latest_notes=models.Subquery(latest, output_field=models.JSONField())).values_list(
        "pk", "system", "code", "short_description", "long_description", "search_text", "latest_notes"
    )
    changed = []
    for pk, system, code, short, long, old, notes in rows.iterator(chunk_size=BATCH):
        text = synonyms.search_text(system, short, long, synonyms.index_terms(notes), code=code)
        if text != old:
            changed.append((pk, text))
    bulk_change(Code, ["search_text"], changed)
    if changed:
        _sync_vocabulary()
        if connection.vendor == "postgresql":
            _flush_pending_search_entries()
    return len(changed)
