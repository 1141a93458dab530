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
        "Fetch messages not yet marked stored from the support mailbox (INQUIRIES_IMAP_*), store them in batches "
        "through ingest.receive_many, then mark each ($RDStored keyword, or move to INQUIRIES_IMAP_DONE_FOLDER). Never deletes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0, help="handle at most this many messages (0: all)")

    def handle(self, *args, limit=0, **options):
        counts: Counter[str] = Counter()
        try:
            with Mailbox() as box:
                uids = box.pending_uids()[: limit or None]
                for start in range(0, len(uids), ingest.BATCH_SIZE):
                    if not self._batch(box, uids[start : start + ingest.BATCH_SIZE], counts):
                        break
        except MailboxError as error:
            raise CommandError(str(error)) from error
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "no new messages"
        self.stdout.write(summary)
        if counts["failed"] or counts["database unavailable"]:
            raise CommandError("some messages were not stored; they stay unmarked and are fetched again next time")

    def _batch(self, box: Mailbox, uids: list[str], counts: Counter) -> bool:
        """Store and mark a batch of messages (one disk flush for all); return False when polling should stop."""
        fetched: list[tuple[str, bytes]] = []
        for uid in uids:
            try:
                raw = box.fetch_raw(uid)
            except Exception:  # noqa: BLE001 - one message the server cannot give us never blocks the others
                logger.exception("poll_mailbox: UID %s not fetched", uid)
                counts["failed"] += 1
                continue
            if raw is not None:
                fetched.append((uid, raw))
        try:
            results = ingest.receive_many([raw for _, raw in fetched], source=RawMessage.Source.IMAP)
        except (OperationalError, InterfaceError):
            logger.exception("poll_mailbox: database unavailable at UIDs %s-%s", uids[0], uids[-1])
            counts["database unavailable"] += 1
            return False
        except Exception:  # noqa: BLE001 - retry one by one, so one bad message never blocks the others
            logger.exception("poll_mailbox: batch at UIDs %s-%s failed; storing one by one", uids[0], uids[-1])
            return all(self._one(box, uid, raw, counts) for uid, raw in fetched)
        for (uid, _), result in zip(fetched, results, strict=True):
            box.mark_stored(uid)
            counts[str(result.outcome)] += 1
        return True

    def _one(self, box: Mailbox, uid: str, raw: bytes, counts: Counter) -> bool:
        """Store and mark one message; return False when polling should stop (database down)."""
        try:
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
