"""The search vocabulary (SearchWord) with its trigram index, in place of the trigram index on short descriptors.

Misspelt words were matched by trigram similarity against every code's short descriptor: a GIN index over
95,000 descriptors that took 1.6 s to build on each first load and missed words of the long text. The
vocabulary holds each distinct word of the search text once (about 20,000), and search replaces a misspelt
word by its closest vocabulary words before the full-text search (codes/search.py). This migration fills it
from the codes already loaded; imports keep it up to date.
"""

import re

from django.db import migrations, models

# The vocabulary's words as codes/search.py defines them when this migration was written (copied, so that
# later changes there do not change what this migration does).
VOCABULARY_WORD = re.compile(r"\b[^\W\d_]{3,40}\b")
WORD_INDEX = "CREATE INDEX IF NOT EXISTS codes_searchword_trgm ON codes_searchword USING gin (word gin_trgm_ops)"
SHORT_TRGM = "CREATE INDEX IF NOT EXISTS codes_code_short_trgm ON codes_code USING gin (short_description gin_trgm_ops)"


def fill_vocabulary(apps, schema_editor):
    Code = apps.get_model("codes", "Code")
    SearchWord = apps.get_model("codes", "SearchWord")
    tokens = set()
    for text in Code.objects.values_list("search_text", flat=True).iterator(chunk_size=5000):
        tokens.update(text.lower().replace("/", " ").split())
    words = set(VOCABULARY_WORD.findall(" ".join(tokens)))
    SearchWord.objects.bulk_create([SearchWord(word=w) for w in sorted(words)], batch_size=5000, ignore_conflicts=True)


def swap_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(WORD_INDEX)
        schema_editor.execute("DROP INDEX IF EXISTS codes_code_short_trgm")


def restore_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SHORT_TRGM)
        schema_editor.execute("DROP INDEX IF EXISTS codes_searchword_trgm")


class Migration(migrations.Migration):
    dependencies = [("codes", "0009_cpt_hcpcs_search_synonyms")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[("word", models.CharField(max_length=40, primary_key=True, serialize=False))],
            options={"ordering": ["word"]},
        ),
        # Filled before its index is built: rows added to a GIN index wait in a pending list searches scan.
        migrations.RunPython(fill_vocabulary, migrations.RunPython.noop),
        migrations.RunPython(swap_trigram_index, restore_trigram_index),
    ]
