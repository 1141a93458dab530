"""PostgreSQL search support for the catalog: pg_trgm, a full-text index and a trigram index on codes.

The indexes are expressions the search module repeats verbatim (codes/search.py), so they are created
with SQL here and skipped on SQLite, which searches without them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    # Trigrams of the short descriptor only: the fuzzy fallback for misspelt words (a trigram index
    # over the whole search text would double the import time for little gain).
    ("codes_code_short_trgm", "CREATE INDEX IF NOT EXISTS codes_code_short_trgm ON codes_code USING gin (short_description gin_trgm_ops)"),
    (
        "codes_code_search_fts",
        "CREATE INDEX IF NOT EXISTS codes_code_search_fts ON codes_code USING gin (to_tsvector('english'::regconfig, search_text))",
    ),
    ("codes_code_code_pattern", "CREATE INDEX IF NOT EXISTS codes_code_code_pattern ON codes_code (code varchar_pattern_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _, sql in INDEXES:
            schema_editor.execute(sql)


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _ in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("codes", "0003_catalog")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes),
    ]
