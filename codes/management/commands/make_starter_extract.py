from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codes import starter


class Command(BaseCommand):
    help = (
        "Write the starter extract (codes/data/starter/): the guides' rows of the real CMS/NCHS files, "
        "trimmed but in the files' own layouts, so `load_starter_data` imports them like the full files."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="source", required=True, help="The real data folder, e.g. ../shared/data.")
        parser.add_argument(
            "--to", dest="target", default=str(starter.STARTER_DIR), help="Where to write (default: %(default)s)."
        )

    def handle(self, *args, source, target, **options):
        try:
            written = starter.make_extract(source_dir=Path(source), target_dir=Path(target))
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        for path in written:
            self.stdout.write(f"{path.stat().st_size:>9,} bytes  {path}")
        total = sum(path.stat().st_size for path in written)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(written)} files, {total:,} bytes."))
