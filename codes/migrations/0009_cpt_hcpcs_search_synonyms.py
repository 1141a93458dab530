"""Rewrite the search text of codes already loaded: CPT/HCPCS abbreviations spelled out, ICD-10-CM index terms.

New imports write it themselves (codes.synonyms); this brings codes loaded before up to date, before
migration 0010 builds the search vocabulary from that text. It uses the synonym table as it is when it
runs, on purpose; later changes to the table are applied with `manage.py rebuild_search_text`.
"""

from django.db import migrations, models

from codes import synonyms


def rewrite_search_text(apps, schema_editor):
    Code = apps.get_model("codes", "Code")
    CodeVersion = apps.get_model("codes", "CodeVersion")
    latest = CodeVersion.objects.filter(code=models.OuterRef("pk")).order_by("-effective_from").values("notes")[:1]
    codes = Code.objects.annotate(latest_notes=models.Subquery(latest, output_field=models.JSONField())).only(
        "system", "code", "short_description", "long_description", "search_text"
    )
    changed = []
    for code in codes.iterator(chunk_size=2000):
        terms = synonyms.index_terms(code.latest_notes)
        text = synonyms.search_text(code.system, code.short_description, code.long_description, terms, code=code.code)
        if text != code.search_text:
            code.search_text = text
            changed.append(code)
    Code.objects.bulk_update(changed, ["search_text"], batch_size=2000)
    if schema_editor.connection.vendor == "postgresql" and changed:
        # Merge the full-text index's pending list now, not when autovacuum comes (searches scan it linearly).
        schema_editor.execute("SELECT gin_clean_pending_list('codes_code_search_fts'::regclass)")


class Migration(migrations.Migration):
    dependencies = [("codes", "0008_opps_rate_as_published")]

    operations = [migrations.RunPython(rewrite_search_text, migrations.RunPython.noop)]
