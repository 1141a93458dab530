from django.core.management.base import BaseCommand
from django.db import transaction

from codes.importers import catalog_load


class Command(BaseCommand):
    help = "Recompute the search text of every code (after a change to codes/synonyms.py); imports do it for their codes."

    def handle(self, *args, **options):
        with transaction.atomic():
            changed = catalog_load.rebuild_search_text()
        self.stdout.write(self.style.SUCCESS(f"Search text rewritten for {changed:,} codes."))
