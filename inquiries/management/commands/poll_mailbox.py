"""IMAP polling (run from cron or a systemd timer): store each new message, then mark it on the server."""

import logging
from collections import Counter

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError

from inquiries import ingest
from inquiries.mailbox import Mailbox, MailboxError
from inquiries.models import RawMessage

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Fetch messages not yet marked stored from the support mailbox (INQUIRIES_IMAP_*), store each through "
        "ingest.receive, then mark it ($RDStored keyword, or move to INQUIRIES_IMAP_DONE_FOLDER). Never deletes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0, help="handle at most this many messages (0: all)")

    def handle(self, *args, limit=0, **options):
        counts: Counter[str] = Counter()
        try:
            with Mailbox() as box:
                for uid in box.pending_uids()[: limit or None]:
                    if not self._one(box, uid, counts):
                        break
        except MailboxError as error:
            raise CommandError(str(error)) from error
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "no new messages"
        self.stdout.write(summary)
        if counts["failed"] or counts["database unavailable"]:
            raise CommandError("some messages were not stored; they stay unmarked and are fetched again next time")

    def _one(self, box: Mailbox, uid: str, counts: Counter) -> bool:
        """Store and mark one message; return False when polling should stop (database down)."""
        try:
            raw = box.fetch_raw(uid)
            if raw is None:
                return True
            result = ingest.receive(raw, source=RawMessage.Source.IMAP)
        except (OperationalError, InterfaceError):
            logger.exception("poll_mailbox: database unavailable at UID %s", uid)
            counts["database unavailable"] += 1
            return False
        except Exception:  # noqa: BLE001 - one bad message never blocks the others; it stays unmarked
            logger.exception("poll_mailbox: UID %s not stored", uid)
            counts["failed"] += 1
            return True
        box.mark_stored(uid)
        counts[str(result.outcome)] += 1
        return True
