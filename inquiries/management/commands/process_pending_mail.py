from collections import Counter

from django.core.management.base import BaseCommand

from inquiries import ingest


class Command(BaseCommand):
    help = "Process stored messages whose processing never committed (run it on the poller's schedule)."

    def handle(self, *args, **options):
        results = ingest.process_pending()
        counts = Counter(str(result.outcome) for result in results)
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing pending"
        self.stdout.write(self.style.SUCCESS(summary))
