from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inquiries import retention


class Command(BaseCommand):
    help = "Anonymise (default) or purge closed inquiries older than INQUIRIES_RETENTION_DAYS, with their mail."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, default=settings.INQUIRIES_RETENTION_DAYS, help="Age since closing (default: %(default)s)."
        )
        parser.add_argument("--mode", choices=[retention.ANONYMISE, retention.PURGE], default=retention.ANONYMISE)
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; change nothing.")

    def handle(self, *args, days, mode, dry_run, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        result = retention.apply(days=days, mode=mode, dry_run=dry_run)
        self.stdout.write(self.style.SUCCESS(str(result)))
