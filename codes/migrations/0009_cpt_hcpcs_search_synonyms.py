"""Rewrite the search text of CPT and HCPCS codes already loaded so it carries the spelled-out abbreviations.

New imports write it themselves (codes.synonyms); this brings codes loaded before up to date. Running it
again (or after the table grows) gives the same text, so it is safe to re-run by hand.
"""

from django.db import migrations

from codes import synonyms


def rewrite_search_text(apps, schema_editor):
    Code = apps.get_model("codes", "Code")
    changed = []
    for code in Code.objects.exclude(system="icd10cm").only("system", "short_description", "long_description", "search_text"):
        text = synonyms.search_text(code.system, code.short_description, code.long_description)
        if text != code.search_text:
            code.search_text = text
            changed.append(code)
    Code.objects.bulk_update(changed, ["search_text"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("codes", "0008_opps_rate_as_published")]

    operations = [migrations.RunPython(rewrite_search_text, migrations.RunPython.noop)]
