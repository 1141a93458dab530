"""Find codes by code, prefix, range or words: the one search used by the lookup page and the API.

Ranking: exact code, then the code's descendants (prefix), then codes inside a range, then word matches
(short descriptor equal to the words, all words in the short descriptor, all words anywhere in the long
text and inclusion terms). Words match in any order, partially and case-insensitively. On PostgreSQL the
word match is PostgreSQL full-text search over the indexed search text (each word a prefix, stemmed:
"catheters" finds "catheter"), and a query nothing matches falls back to trigram similarity on the short
descriptor (both indexes in migration 0004). SQLite matches each word as a substring instead, without
stemming or fuzzy matching.
"""

from __future__ import annotations

import datetime
import re

from django.db import connection
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length

from codes import catalog
from codes.models.catalog import Code, CodeVersion, normalize_code

MAX_LIMIT = 500
FUZZY_THRESHOLD = 0.45  # pg_trgm's default 0.6 misses one-letter slips such as "cathter"
WORD = re.compile(r"[\w']+", re.UNICODE)
# Words too common in descriptors to narrow a search on their own.
STOP_WORDS = {"of", "and", "or", "the", "with", "without", "in", "for", "to", "a", "an", "by", "on"}

MATCH_EXACT, MATCH_PREFIX, MATCH_RANGE, MATCH_WORDS, MATCH_SIMILAR = "exact", "prefix", "range", "words", "similar"


def _filtered(codes: QuerySet, *, system: str | None, billable: bool | None, valid_on: datetime.date | None) -> QuerySet:
    codes = codes.of(system)
    if valid_on is not None:
        # One correlated EXISTS on the version in force that day (and its flag), not a semi-join over all codes.
        versions = CodeVersion.objects.effective_on(valid_on).filter(code=OuterRef("pk"))
        codes = codes.filter(Exists(versions if billable is None else versions.filter(billable=billable)))
        codes = codes.annotate(billable_on_date=Exists(versions.filter(billable=True)))
    elif billable is not None:
        codes = codes.filter(billable=billable)
    return codes


def _tag(codes, match: str) -> list[Code]:
    found = list(codes)
    for code in found:
        code.match = getattr(code, "match", None) or match
        if hasattr(code, "billable_on_date"):
            code.billable = code.billable_on_date  # as of the date asked about, not the latest release
    return found


def _code_search(token: str, codes: QuerySet, limit: int) -> list[Code]:
    ranked = codes.filter(code__startswith=token).annotate(
        rank=Case(When(code=token, then=Value(0)), default=Value(1), output_field=IntegerField())
    )
    found = _tag(ranked.order_by("rank", "code", "system")[:limit], MATCH_PREFIX)
    for code in found:
        code.match = MATCH_EXACT if code.rank == 0 else MATCH_PREFIX
    return found


def _words(query: str) -> list[str]:
    words = [w.lower() for w in WORD.findall(query)]
    meaningful = [w for w in words if w not in STOP_WORDS]
    return meaningful or words


def _tsquery(words: list[str]) -> str:
    """Return a prefix tsquery ("chron:* & pain:*") from words stripped of tsquery syntax."""
    cleaned = [re.sub(r"[^\w]", "", word) for word in words]
    return " & ".join(f"{word}:*" for word in cleaned if word)


def _word_search(query: str, codes: QuerySet, limit: int) -> list[Code]:
    words = _words(query)
    if not words:
        return []
    in_text = Q()
    in_short = Q()
    for word in words:
        in_text &= Q(search_text__icontains=word)
        in_short &= Q(short_description__icontains=word)
    phrase = " ".join(WORD.findall(query))
    matches = in_text
    postgres = connection.vendor == "postgresql"
    if postgres:
        # The full-text index answers the match (words as prefixes, stemmed); the LIKE tests only rank.
        fts = RawSQL("to_tsvector('english'::regconfig, search_text) @@ to_tsquery('english'::regconfig, %s)", (_tsquery(words),))
        matches = Q(fts_match=True)
        codes = codes.alias(fts_match=fts)
    ranked = codes.filter(matches).annotate(
        rank=Case(
            When(Q(short_description__iexact=phrase) | Q(long_description__iexact=phrase), then=Value(0)),
            When(in_short, then=Value(1)),
            When(in_text, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        text_length=Length("short_description"),
    )
    found = _tag(ranked.order_by("rank", "text_length", "code")[:limit], MATCH_WORDS)
    if not found and postgres:
        # Misspelt words: each word must be close to a word of the short descriptor (trigram index).
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(FUZZY_THRESHOLD)])
        close = Q()
        score = " + ".join(["word_similarity(%s, short_description)"] * len(words))
        for word in words:
            close &= Q(short_description__trigram_word_similar=word)
        similar = codes.filter(close).annotate(similarity=RawSQL(score, tuple(words)))
        found = _tag(similar.order_by("-similarity", "code")[:limit], MATCH_SIMILAR)
    return found


def search(
    query: str,
    *,
    system: str | None = None,
    billable: bool | None = None,
    valid_on: datetime.date | None = None,
    limit: int = 50,
) -> list[Code]:
    """Return up to `limit` codes for a query, best first; each carries `.match` (exact/prefix/range/words).

    `billable` and `valid_on` filter: with a date, billable means billable in the release in force that day,
    and each code's `billable` is reported as of that day.
    """
    query = (query or "").strip()
    limit = max(1, min(limit, MAX_LIMIT))
    if not query:
        return []
    # search_text is only matched on, never shown: leave it (descriptors and inclusion terms) in the database.
    codes = _filtered(Code.objects.defer("search_text"), system=system, billable=billable, valid_on=valid_on)
    if catalog.parse_range(query) is not None:
        low, high = catalog.parse_range(query)
        ranged = codes.filter(code__gte=low, code__lte=catalog.upper_bound(high))
        if system is None and catalog.range_system(query, low, high):
            ranged = ranged.filter(system=catalog.range_system(query, low, high))
        inside = [c for c in ranged.order_by("code", "system") if catalog.in_bounds(c.code, low, high)]
        return _tag(inside[:limit], MATCH_RANGE)
    if catalog.is_code_like(query):
        # A dot is how ICD-10-CM codes are written: "G89.2" must not list the HCPCS codes G8923, G8924.
        found = _code_search(normalize_code(query), codes.filter(system="icd10cm") if "." in query else codes, limit)
        if found:
            return found
    return _word_search(query, codes, limit)
