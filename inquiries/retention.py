"""Retention: closed inquiries older than INQUIRIES_RETENTION_DAYS are anonymised (or purged), with their mail.

Anonymising keeps the row, its status, dates, priority and linked codes (the dashboard still counts it) and
removes everything that identifies a person: subject, provider, participants, message texts, attachments and
the raw messages. Purging deletes the inquiry and everything hanging off it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inquiries.models import Attachment, Inquiry, InquiryEvent, Message, Participant, RawMessage

ANONYMISE, PURGE = "anonymise", "purge"
# Event kinds whose data may name a person.
PERSONAL_EVENT_KINDS = [
    InquiryEvent.Kind.CREATED,
    InquiryEvent.Kind.REPLIED,
    InquiryEvent.Kind.PROVIDER_REPLY,
    InquiryEvent.Kind.PARTICIPANT_ADDED,
    InquiryEvent.Kind.PARTICIPANT_REMOVED,
    InquiryEvent.Kind.AUTOMATIC,
    InquiryEvent.Kind.MAIL_FAILED,
]


@dataclass
class RetentionResult:
    mode: str
    dry_run: bool
    cutoff: datetime.datetime
    inquiries: int = 0
    messages: int = 0
    attachments: int = 0
    raw_messages: int = 0

    def __str__(self):
        verb = {ANONYMISE: "anonymised", PURGE: "purged"}[self.mode]
        prefix = "Dry run, nothing changed: would have " if self.dry_run else ""
        return (
            f"{prefix}{verb} {self.inquiries} inquiries closed before {self.cutoff:%Y-%m-%d}, "
            f"{self.messages} messages, {self.attachments} attachments, {self.raw_messages} raw messages"
        )


def _delete_files_on_commit(attachments) -> None:
    """Remove the attachments' files once the rows are gone for good: a rolled-back purge keeps both."""
    files = [item.file for item in attachments if item.file]
    transaction.on_commit(lambda: [stored.storage.delete(stored.name) for stored in files])


@transaction.atomic
def apply(*, days: int, mode: str = ANONYMISE, dry_run: bool = False, now: datetime.datetime | None = None) -> RetentionResult:
    """Anonymise or purge inquiries closed more than `days` ago; with dry_run only count what would go."""
    if mode not in (ANONYMISE, PURGE):
        raise ValueError(f"mode must be {ANONYMISE!r} or {PURGE!r}")
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    inquiries = Inquiry.objects.filter(status=Inquiry.Status.CLOSED, closed_at__lt=cutoff, anonymised_at__isnull=True)
    messages = Message.objects.filter(inquiry__in=inquiries)
    attachments = Attachment.objects.filter(message__in=messages)
    # Raw bytes of those messages and of their redelivered copies, plus quarantined (dealt with) and duplicate
    # copies older than the cutoff.
    raw = RawMessage.objects.filter(
        Q(messages__in=messages)
        | Q(duplicate_of__in=messages)
        | Q(outcome=RawMessage.Outcome.DUPLICATE, received_at__lt=cutoff)
        | Q(outcome=RawMessage.Outcome.QUARANTINED, reviewed_at__isnull=False, received_at__lt=cutoff)
    ).distinct()
    result = RetentionResult(mode, dry_run, cutoff, inquiries.count(), messages.count(), attachments.count(), raw.count())
    if dry_run:
        return result
    inquiry_ids = list(inquiries.values_list("pk", flat=True))
    raw_ids = list(raw.values_list("pk", flat=True))
    _delete_files_on_commit(attachments)
    if mode == PURGE:
        Inquiry.objects.filter(pk__in=inquiry_ids).delete()
    else:
        attachments.delete()
        Message.objects.filter(inquiry_id__in=inquiry_ids).update(
            raw_message=None, message_id="", fingerprint="", in_reply_to=[], references=[], subject="", from_name="",
            from_address="", to="", cc="", text="", html="", detail="",
        )  # fmt: skip
        InquiryEvent.objects.filter(inquiry_id__in=inquiry_ids, kind__in=PERSONAL_EVENT_KINDS).update(data={})
        InquiryEvent.objects.filter(inquiry_id__in=inquiry_ids, kind=InquiryEvent.Kind.ASSIGNED).update(data={})
        Participant.objects.filter(inquiry_id__in=inquiry_ids).delete()
        Inquiry.objects.filter(pk__in=inquiry_ids).update(
            subject="(anonymised)", provider_name="", provider_email="", anonymised_at=timezone.now()
        )
        InquiryEvent.objects.bulk_create([InquiryEvent(inquiry_id=i, kind=InquiryEvent.Kind.ANONYMISED) for i in inquiry_ids])
    RawMessage.objects.filter(pk__in=raw_ids).delete()
    return result
