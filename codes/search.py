"""Find codes by code, prefix, range or words: the one search used by the lookup page and the API.

Ranking: exact code, then the code's descendants (prefix), then codes inside a range, then word matches
(short descriptor equal to the words, all words in the short descriptor, all words anywhere in the long
text and inclusion terms). Words match in any order, partially and case-insensitively. On PostgreSQL the
word match is PostgreSQL full-text search over the indexed search text (each word a prefix, stemmed:
"catheters" finds "catheter"); a query nothing matches is tried again with each word replaced by its closest
words in the catalog's vocabulary (pg_trgm similarity over SearchWord, the spelling-suggestion method of the
PostgreSQL pg_trgm documentation), so "cathter breakdwn" finds "catheter breakdown" (indexes: GIN_INDEXES
below). SQLite matches each word as a substring instead, without stemming or fuzzy matching.
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
CORRECTIONS_PER_WORD = 3  # vocabulary words a misspelt query word may stand for (pg_trgm similarity >= 0.3)
WORD = re.compile(r"[\w']+", re.UNICODE)
# The vocabulary's words: letters only, three or more (shorter words and numbers are matched as typed).
VOCABULARY_WORD = re.compile(r"[^\W\d_]{3,40}")
# The GIN indexes of the search: full-text on codes_code (migration 0004) and trigrams on the vocabulary
# (migration 0010). The catalog loader merges their pending lists after a load.
GIN_INDEXES = ["codes_code_search_fts", "codes_searchword_trgm"]
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


def _tsquery(groups: list[list[str]]) -> str:
    """Return a prefix tsquery, all groups and any word of each ("(chron:*) & (pain:* | paint:*)"), stripped of tsquery syntax."""
    terms = []
    for group in groups:
        cleaned = [word for word in (re.sub(r"[^\w]", "", word) for word in group) if word]
        if cleaned:
            terms.append("(" + " | ".join(f"{word}:*" for word in cleaned) + ")")
    return " & ".join(terms)


def _any_word(field: str, group: list[str]) -> Q:
    found = Q()
    for word in group:
        found |= Q(**{f"{field}__icontains": word})
    return found


def _matching(codes: QuerySet, groups: list[list[str]], phrase: str) -> QuerySet:
    """Codes with a word of every group in their search text, ranked: phrase, all in short descriptor, all in text."""
    in_text = Q()
    in_short = Q()
    for group in groups:
        in_text &= _any_word("search_text", group)
        in_short &= _any_word("short_description", group)
    matches = in_text
    if connection.vendor == "postgresql":
        # The full-text index answers the match (words as prefixes, stemmed); the LIKE tests only rank.
        fts = RawSQL(
            "to_tsvector('english'::regconfig, search_text) @@ to_tsquery('english'::regconfig, %s)", (_tsquery(groups),)
        )
        matches = Q(fts_match=True)
        codes = codes.alias(fts_match=fts)
    return codes.filter(matches).annotate(
        rank=Case(
            When(Q(short_description__iexact=phrase) | Q(long_description__iexact=phrase), then=Value(0)),
            When(in_short, then=Value(1)),
            When(in_text, then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        ),
        text_length=Length("short_description"),
    )


def corrections(words: list[str]) -> list[list[str]]:
    """Return, for each word, the closest words of the catalog's vocabulary (PostgreSQL trigram index; one query).

    The vocabulary (SearchWord) holds every word of the search text, so a correctly spelt word comes back as
    itself and a misspelt one ("cathter") as the words it is closest to ("catheter"); numbers and words of
    one or two letters stand for themselves.
    """
    looked_up = [word for word in words if VOCABULARY_WORD.fullmatch(word)]
    close: dict[str, list[str]] = {word: [] for word in looked_up}
    if looked_up:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT q.word, s.word FROM unnest(%s::text[]) AS q(word) CROSS JOIN LATERAL ("
                "  SELECT v.word FROM codes_searchword AS v WHERE v.word %% q.word"
                "  ORDER BY similarity(v.word, q.word) DESC, v.word LIMIT %s"
                ") AS s",
                [looked_up, CORRECTIONS_PER_WORD],
            )
            for asked, word in cursor.fetchall():
                close[asked].append(word)
    return [close.get(word, [word]) for word in words]


def vocabulary(texts) -> set[str]:
    """Return the words of search texts that belong in the vocabulary (lower case)."""
    # Distinct whitespace-separated tokens first: the regex then reads 11,000 tokens, not the 19 MB of a release.
    tokens = set(" ".join(texts).lower().split())
    return set(VOCABULARY_WORD.findall(" ".join(tokens)))


def _word_search(query: str, codes: QuerySet, limit: int) -> list[Code]:
    words = _words(query)
    if not words:
        return []
    phrase = " ".join(WORD.findall(query))
    found = _tag(_matching(codes, [[w] for w in words], phrase).order_by("rank", "text_length", "code")[:limit], MATCH_WORDS)
    if not found and connection.vendor == "postgresql":
        # Misspelt words: each stands for its closest words in the vocabulary (pg_trgm), then the same search.
        groups = corrections(words)
        if all(groups):
            similar = _matching(codes, groups, phrase).order_by("rank", "text_length", "code")
            found = _tag(similar[:limit], MATCH_SIMILAR)
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
