"""Find codes by code, prefix, range or words: the one search used by the lookup page and the API.

Ranking: exact code, then the code's descendants (prefix), then codes inside a range, then word matches
(short descriptor equal to the words, all words in the short descriptor, all words anywhere in the long
text and inclusion terms). Words match in any order, partially and case-insensitively. On PostgreSQL the
word match is PostgreSQL full-text search over the indexed search text (each word a prefix, stemmed:
"catheters" finds "catheter"); a query nothing matches is tried again with each word replaced by its closest
words in the catalog's vocabulary (pg_trgm similarity over SearchWord, the spelling-suggestion method of the
PostgreSQL pg_trgm documentation), so "cathter breakdwn" finds "catheter breakdown" (indexes: GIN_INDEXES
below). SQLite matches each word as the start of a word instead, without stemming or fuzzy matching.
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
CANDIDATES_PER_WORD = 20  # vocabulary words most similar to a misspelt one (pg_trgm similarity >= 0.3) ...
CORRECTIONS_PER_WORD = 5  # ... of which the fewest edits away may stand for it
MAX_CORRECTED_WORDS = 8  # longer queries are not spell-corrected
MIN_CORRECTED_LENGTH = 4  # nor words of three letters: mostly acronyms ("rsd"), their near neighbours unrelated ones
WORD = re.compile(r"[\w']+", re.UNICODE)
# The vocabulary's words: letters only, three or more (shorter words and numbers are matched as typed).
VOCABULARY_WORD = re.compile(r"\b[^\W\d_]{3,40}\b")
# The GIN indexes of the search: full-text on codes_code (migration 0004) and trigrams on the vocabulary
# (migration 0010). The catalog loader merges their pending lists after a load.
GIN_INDEXES = ["codes_code_search_fts", "codes_searchword_trgm"]
# What comes before a word inside descriptors ("Zoster [herpes zoster]", "(CRPS I)", "non-pressure", "Revise/replace",
# "reprg&fill"): SQLite's LIKE tests; PostgreSQL's regular expressions know where a word starts.
WORD_STARTS = (" ", "(", "[", "-", "/", "&", ".", ",")
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
    words = list(dict.fromkeys(w.lower() for w in WORD.findall(query)))  # each word once, in order
    meaningful = [w for w in words if w not in STOP_WORDS]
    return meaningful or words


def _tsquery(groups: list[list[str]], whole: frozenset[str] = frozenset()) -> str:
    """Return a tsquery, all groups and any word of each ("(chron:*) & (pain:* | paint:*)"), stripped of tsquery syntax.

    Words match as prefixes (partial words as typed), except those in `whole`: corrections are whole words.
    """
    terms = []
    for group in groups:
        cleaned = [(re.sub(r"[^\w]", "", word), word in whole) for word in group]
        if any(word for word, _ in cleaned):
            terms.append("(" + " | ".join(word if exact else f"{word}:*" for word, exact in cleaned if word) + ")")
    return " & ".join(terms)


def _any_word(field: str, group: list[str]) -> Q:
    """Match a field with a word starting with any word of the group (as the full-text prefix query does)."""
    found = Q()
    for word in group:
        if connection.vendor == "postgresql":
            found |= Q(**{f"{field}__iregex": r"\m" + re.escape(word)})  # \m: the start of a word
            continue
        found |= Q(**{f"{field}__istartswith": word})
        for before in WORD_STARTS:
            found |= Q(**{f"{field}__icontains": before + word})
    return found


def _matching(codes: QuerySet, groups: list[list[str]], phrase: str, whole: frozenset[str] = frozenset()) -> QuerySet:
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
            "to_tsvector('english'::regconfig, search_text) @@ to_tsquery('english'::regconfig, %s)", (_tsquery(groups, whole),)
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


def edit_distance(a: str, b: str) -> int:
    """Return the optimal-string-alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    previous, current = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous, current = previous, current, [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
    return current[-1]


def corrections(words: list[str]) -> list[list[str]]:
    """Return, for each word, itself if the catalog's vocabulary has it, else its closest vocabulary words (one query).

    The vocabulary (SearchWord) holds every word of the search text. The trigram index proposes the words most
    similar to a misspelt one; of those, the fewest edits away win (at most two, three for long words), so
    "cathter" becomes "catheter" and "hart" "heart", "hard" or "harm". A word with none comes back empty;
    numbers and words of three letters or fewer stand for themselves.
    """
    looked_up = list(
        dict.fromkeys(word for word in words if len(word) >= MIN_CORRECTED_LENGTH and VOCABULARY_WORD.fullmatch(word))
    )
    candidates: dict[str, list[str]] = {word: [] for word in looked_up}
    if looked_up:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT q.word, s.word FROM unnest(%s::text[]) AS q(word) CROSS JOIN LATERAL ("
                "  SELECT v.word FROM codes_searchword AS v WHERE v.word %% q.word"
                "  ORDER BY similarity(v.word, q.word) DESC, v.word LIMIT %s"
                ") AS s",
                [looked_up, CANDIDATES_PER_WORD],
            )
            for asked, word in cursor.fetchall():
                candidates[asked].append(word)  # most similar first
    found = []
    for word in words:
        if word not in candidates or word in candidates[word]:
            found.append([word])
            continue
        allowed = 3 if len(word) > 8 else 2
        distances = {candidate: edit_distance(word, candidate) for candidate in candidates[word]}
        fewest = min(distances.values(), default=allowed + 1)
        found.append([c for c in candidates[word] if distances[c] == fewest <= allowed][:CORRECTIONS_PER_WORD])
    return found


def vocabulary(texts) -> set[str]:
    """Return the words of search texts that belong in the vocabulary (lower case)."""
    # Distinct whitespace-separated tokens first: the regex then reads 11,000 tokens, not the 19 MB of a release.
    tokens = set(" ".join(texts).lower().split())
    return set(VOCABULARY_WORD.findall(" ".join(tokens)))


def _word_search(query: str, codes: QuerySet, limit: int, *, correct: bool = True) -> list[Code]:
    words = _words(query)
    if not words:
        return []
    phrase = " ".join(WORD.findall(query))
    found = _tag(_matching(codes, [[w] for w in words], phrase).order_by("rank", "text_length", "code")[:limit], MATCH_WORDS)
    if not found and correct and connection.vendor == "postgresql" and len(words) <= MAX_CORRECTED_WORDS:
        # Misspelt words: each stands for its closest words in the vocabulary (pg_trgm), then the same search.
        groups = corrections(words)
        if all(groups) and groups != [[w] for w in words]:
            fixed = frozenset(w for group, asked in zip(groups, words, strict=True) if group != [asked] for w in group)
            similar = _matching(codes, groups, phrase, fixed).order_by("rank", "text_length", "code")
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
    """Return up to `limit` codes for a query, best first; each carries `.match` (exact/prefix/range/words/similar).

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
    code_like = catalog.is_code_like(query)
    if code_like:
        # A dot is how ICD-10-CM codes are written: "G89.2" must not list the HCPCS codes G8923, G8924.
        found = _code_search(normalize_code(query), codes.filter(system="icd10cm") if "." in query else codes, limit)
        if found:
            return found
    # Spelling correction is for words; a query that looked like a code has had its query already (<= 3 in all).
    return _word_search(query, codes, limit, correct=not code_like)
