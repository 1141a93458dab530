from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from codes.importers import registry
from codes.importers.base import ImportFailure


class Command(BaseCommand):
    help = "Import CMS/NCHS files (recognised by name and content; zip archives by their members)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="Files, folders (every file in them) or CMS zip archives to import.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show progress bars.")

    def handle(self, *args, paths, dry_run, no_progress, **options):
        bars = []

        def progress_for(name):
            bar = tqdm(desc=name, unit="row", disable=no_progress, file=self.stderr._out, leave=False)
            bars.append(bar)

            def update(done, total):
                bar.total = total
                bar.n = done
                bar.refresh()

            return update

        try:
            results = registry.run_import(paths, dry_run=dry_run, progress_for=progress_for)
        except ImportFailure as exc:
            raise CommandError(f"Import failed, nothing was changed: {exc}") from exc
        finally:
            for bar in bars:
                bar.close()
        for result in results:
            self.stdout.write(self.style.SUCCESS(result.summary()))
        if not results:
            raise CommandError("No importable file given.")
