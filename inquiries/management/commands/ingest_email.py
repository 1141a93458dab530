"""MTA pipe: `manage.py ingest_email < message.eml`; the exit status tells the MTA what to do."""

import logging
import os
import sys

from django.core.management.base import BaseCommand

from inquiries import ingest
from inquiries.models import RawMessage

logger = logging.getLogger(__name__)

# sysexits.h: the MTA retries on EX_TEMPFAIL and bounces on EX_DATAERR.
EX_OK = os.EX_OK
EX_DATAERR = os.EX_DATAERR
EX_NOINPUT = os.EX_NOINPUT
EX_TEMPFAIL = os.EX_TEMPFAIL


class Command(BaseCommand):
    help = (
        "Store one e-mail read from standard input (or PATH) as bytes. Exit 0 once it is stored (also when it "
        "is quarantined or a duplicate), 75 (EX_TEMPFAIL, the MTA retries) when it could not be stored, "
        "65 (EX_DATAERR) for empty input, 66 (EX_NOINPUT) when PATH cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="read the message from this file instead of standard input")

    def handle(self, *args, path=None, **options):
        if path:
            try:
                with open(path, "rb") as handle:
                    raw = handle.read()
            except OSError as error:  # missing, unreadable or a directory: nothing to store, say so plainly
                self.stderr.write(f"ingest_email: cannot read {path}: {error.strerror or error}; nothing stored")
                sys.exit(EX_NOINPUT)
        else:
            raw = sys.stdin.buffer.read()
        if not raw.strip():
            self.stderr.write("ingest_email: empty message, nothing stored")
            sys.exit(EX_DATAERR)
        try:
            result = ingest.receive(raw, source=RawMessage.Source.PIPE)
        except Exception as error:  # noqa: BLE001 - database down or anything else: the MTA keeps the mail and retries
            logger.exception("ingest_email: message not stored, asking the MTA to retry")
            self.stderr.write(f"ingest_email: not stored, try again later: {type(error).__name__}: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"stored message {result.raw_message.pk}: {result}")
