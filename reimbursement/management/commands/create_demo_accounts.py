from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reimbursement import demo


class Command(BaseCommand):
    help = "Create one demo account per role and print the logins (only with DJANGO_DEBUG on)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts are for development only (set DJANGO_DEBUG=1).")
        self.stdout.write("Demo logins (development only):")
        for username, password, role in demo.create_demo_accounts():
            self.stdout.write(f"  {role:<20} {username} / {password}")
