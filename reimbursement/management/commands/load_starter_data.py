from django.core.management.base import BaseCommand

from reimbursement import starter


class Command(BaseCommand):
    help = "Load the starter data (guides and a small extract of real CMS rows). Safe to run again."

    def handle(self, *args, **options):
        for line in starter.load_all():
            self.stdout.write(line)
