"""One way in for every message (MTA pipe, IMAP, web form): store the raw bytes, then parse, dedupe, thread.

`receive()` first commits the bytes (with their sha256) in a transaction of their own, so nothing that goes
wrong later can lose a message. Then, in one more transaction: a redelivery is recognised by Message-ID
plus a fingerprint of the content; a reply is threaded by In-Reply-To/References against every Message-ID
we stored (theirs and ours), then by the [RD-n] subject token, but only when the sender is a participant
of that ticket; auto-replies, bounces and our own mail coming back become notes and are never answered;
anything that cannot be parsed or processed is quarantined for the agents to see.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from inquiries import code_links, mailparse, workflow
from inquiries.models import Attachment, Inquiry, InquiryEvent, Message, Participant, RawMessage

logger = logging.getLogger(__name__)

Outcome = RawMessage.Outcome

# Headers added in transit: a message redelivered by another route differs only in these.
TRACE_HEADERS = (b"received:", b"return-path:", b"delivered-to:", b"x-original-to:", b"x-delivered-to:")
# A message still pending after this long was stored but its processing never committed.
PENDING_GRACE = datetime.timedelta(minutes=1)
FOREIGN_TOKEN = re.compile(r"\s*\[RD-\d+\]\s*", re.IGNORECASE)
# Messages per receive_many() call from the poller: one disk flush stores them all; results commit together.
BATCH_SIZE = 100


@dataclass
class ReceiveResult:
    """What happened to one message: outcome is new_ticket, reply, note, quarantined or duplicate."""

    outcome: str
    raw_message: RawMessage
    message: Message | None = None
    inquiry: Inquiry | None = None
    detail: str = ""

    def __str__(self):
        where = f" on {self.inquiry.reference}" if self.inquiry else ""
        return f"{self.outcome}{where}" + (f": {self.detail}" if self.detail else "")


def fingerprint(raw: bytes) -> str:
    """Return the sha256 of the message without its trace headers (Received, Return-Path, Delivered-To...)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    newline = b"\r\n"
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
        newline = b"\n"
    kept: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = line.lower().startswith(TRACE_HEADERS)
        if not skipping:
            kept.append(line)
    digest = hashlib.sha256(newline.join(kept))
    digest.update(sep)
    digest.update(body)
    return digest.hexdigest()


def receive(raw: bytes, *, source: str = RawMessage.Source.PIPE) -> ReceiveResult:
    """Store one raw message, then turn it into a ticket, a reply, a note, a quarantine entry or a duplicate."""
    raw = _as_bytes(raw)
    # In autocommit this INSERT is its own, durable transaction: the bytes are safe before anything else runs.
    stored = RawMessage.objects.create(
        raw=raw, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), source=source, received_at=timezone.now()
    )
    return _handle(stored, raw)


def receive_many(raws: Iterable[bytes], *, source: str = RawMessage.Source.IMAP) -> list[ReceiveResult]:
    """Store a batch of raw messages in one durable transaction, then process each in its own savepoint.

    The bytes of the whole batch are committed (one disk flush) before any of them is parsed. Processing
    runs in one transaction with a savepoint per message, so one bad message is quarantined and never
    blocks the others. If the processing transaction itself fails, the messages stay 'pending' and
    process_pending() redoes them.
    """
    raws = [_as_bytes(raw) for raw in raws]
    if not raws:
        return []
    now = timezone.now()
    stored = [
        RawMessage(raw=raw, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), source=source, received_at=now) for raw in raws
    ]
    with transaction.atomic():
        RawMessage.objects.bulk_create(stored)
    return _handle_many(stored, raws)


def process_pending(*, older_than: datetime.timedelta = PENDING_GRACE) -> list[ReceiveResult]:
    """Process stored messages whose processing never committed (e.g. the server stopped right after storing)."""
    cutoff = timezone.now() - older_than
    pending = RawMessage.objects.filter(outcome=Outcome.PENDING, received_at__lt=cutoff).exclude(
        source=RawMessage.Source.OUTBOUND
    )
    return [_handle(stored, bytes(stored.raw)) for stored in pending.order_by("pk").iterator()]


def _as_bytes(raw) -> bytes:
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("receive() takes the raw message as bytes")
    return bytes(raw)


def _handle(stored: RawMessage, raw: bytes) -> ReceiveResult:
    try:
        parsed = mailparse.parse(raw)
    except Exception as exc:  # noqa: BLE001 - whatever the parser trips on, the message is kept and flagged
        return _save_outcomes([_quarantine(stored, f"Could not parse the message: {exc}")])[0]
    try:
        with transaction.atomic():
            _relax_durability()
            with workflow.collecting_events() as events:
                result, linked = _process(stored, raw, parsed)
            _save_derived(events, [linked] if linked else [])
            return _save_outcomes([result])[0]
    except Exception as exc:  # noqa: BLE001 - one bad message never blocks the others; agents see it
        failure = exc
    with transaction.atomic():
        _relax_durability()
        return _save_outcomes([_after_failure(stored, raw, parsed, failure)])[0]


def _handle_many(stored: list[RawMessage], raws: list[bytes]) -> list[ReceiveResult]:
    results: list[ReceiveResult] = []
    linked: list[tuple[int, tuple[str, ...]]] = []
    parsed_all: list = []
    for one, raw in zip(stored, raws, strict=True):
        try:
            parsed_all.append(mailparse.parse(raw))
        except Exception as exc:  # noqa: BLE001 - kept and flagged, as in receive()
            parsed_all.append(_quarantine(one, f"Could not parse the message: {exc}"))
    with transaction.atomic():
        _relax_durability()
        # Redeliveries of earlier mail are found for the whole batch in one query; those within it, as they are stored.
        known = _stored_messages(
            [_key(p, raw) for p, raw in zip(parsed_all, raws, strict=True) if not isinstance(p, ReceiveResult)]
        )
        with workflow.collecting_events() as events:
            for one, raw, parsed in zip(stored, raws, parsed_all, strict=True):
                if isinstance(parsed, ReceiveResult):
                    results.append(parsed)
                    continue
                kept = len(events)
                try:
                    with transaction.atomic():
                        result, codes = _process(one, raw, parsed, known=known)
                except Exception as exc:  # noqa: BLE001 - the savepoint is rolled back; the others go on
                    del events[kept:]
                    result, codes = _after_failure(one, raw, parsed, exc), None
                if result.outcome != Outcome.DUPLICATE and result.message is not None:
                    known.setdefault(_key(parsed, raw), result.message)
                results.append(result)
                if codes:
                    linked.append(codes)
        _save_derived(events, linked)
        _save_outcomes(results)
    return results


def _key(parsed, raw: bytes) -> tuple[str, str]:
    """Return what identifies a received message: (Message-ID as stored, fingerprint)."""
    return (parsed.message_id or "")[:255], fingerprint(raw)


def _stored_messages(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Message]:
    """Return the stored messages with these (Message-ID, fingerprint) keys, the first received for each."""
    if not keys:
        return {}
    found: dict[tuple[str, str], Message] = {}
    wanted = set(keys)
    rows = Message.objects.filter(message_id__in={m for m, _ in keys}, fingerprint__in={f for _, f in keys}).select_related(
        "inquiry"
    )
    for message in rows.order_by("pk"):
        key = (message.message_id, message.fingerprint)
        if key in wanted:
            found.setdefault(key, message)
    return found


def _after_failure(stored: RawMessage, raw: bytes, parsed, exc: Exception) -> ReceiveResult:
    """Return the result of a message whose processing was rolled back: a duplicate, or quarantined."""
    if isinstance(exc, IntegrityError):
        # Redelivery is caught by the unique (Message-ID, fingerprint) constraint when the Message row is
        # inserted (also when another worker stored the same message at the same time): find the original.
        duplicate = _find_duplicate(parsed, fingerprint(raw))
        if duplicate is not None:
            return _duplicate(stored, duplicate)
        logger.exception("Message %s could not be stored", stored.pk)
        return _quarantine(stored, "The message conflicts with a stored one.")
    logger.error("Message %s could not be processed", stored.pk, exc_info=exc)
    return _quarantine(stored, f"Could not process the message: {type(exc).__name__}: {exc}")


def _save_derived(events: list, linked: list[tuple[int, tuple[str, ...]]]) -> None:
    """Insert the events and detected code links of the processed messages (never read back during ingest)."""
    if events:
        InquiryEvent.objects.bulk_create(events)
    if linked:
        code_links.link_mentioned_many(linked)


def _save_outcomes(results: list[ReceiveResult]) -> list[ReceiveResult]:
    """Record each message's outcome on its RawMessage row."""
    # One UPDATE per distinct value: a batch is mostly tickets, replies and notes. (bulk_update's CASE per row
    # cost more Python than these few round trips.)
    groups: dict[tuple, list[int]] = {}
    for result in results:
        row = result.raw_message
        groups.setdefault((row.outcome, row.error, row.duplicate_of_id), []).append(row.pk)
    for (outcome, error, duplicate_of), pks in groups.items():
        RawMessage.objects.filter(pk__in=pks).update(outcome=outcome, error=error, duplicate_of_id=duplicate_of)
    return results


def _relax_durability() -> None:
    """Let PostgreSQL commit the derived rows without waiting for the disk.

    The raw bytes were already committed durably; if the server stops within the WAL writer's delay
    (a fraction of a second) the derived rows may be lost, leaving the message 'pending', and
    process_pending() (the process_pending_mail command) rebuilds them from the bytes. This halves the
    disk flushes per message, which is what limits ingest throughput.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _quarantine(stored: RawMessage, error: str) -> ReceiveResult:
    stored.outcome, stored.error = Outcome.QUARANTINED, error[:2000]
    return ReceiveResult(Outcome.QUARANTINED, stored, detail=error)


def _find_duplicate(parsed, fp: str) -> Message | None:
    return (
        Message.objects.filter(message_id=(parsed.message_id or "")[:255], fingerprint=fp)
        .select_related("inquiry")
        .order_by("pk")
        .first()
    )


def _duplicate(stored: RawMessage, original: Message) -> ReceiveResult:
    stored.outcome, stored.duplicate_of = Outcome.DUPLICATE, original
    return ReceiveResult(Outcome.DUPLICATE, stored, original, original.inquiry, "already received")


def _process(
    stored: RawMessage, raw: bytes, parsed, *, known: dict[tuple[str, str], Message] | None = None
) -> tuple[ReceiveResult, tuple[int, tuple[str, ...]] | None]:
    """Store the message's rows; return its result and the (inquiry id, texts) to detect codes in, if any.

    `known` holds the batch's already stored messages by (Message-ID, fingerprint); without it, the
    database is asked. Checking first keeps ticket numbers without gaps (a rolled-back insert would
    use one up); a redelivery racing past the check still hits the unique constraint.
    """
    key = _key(parsed, raw)
    fp = key[1]
    original = known.get(key) if known is not None else _find_duplicate(parsed, fp)
    if original is not None:
        return _duplicate(stored, original), None
    automatic = _automatic_kind(parsed)
    web = stored.source == RawMessage.Source.WEB
    # The web form lets anyone type any address, so its messages never join an existing ticket.
    inquiry = None if web else _thread(parsed, automatic=automatic)
    texts = (parsed.subject or "", parsed.text or "")

    if automatic:
        message = _store_message(stored, parsed, fp, inquiry, direction=Message.Direction.NOTE, kind=automatic)
        if inquiry is not None:
            workflow.record_automatic(inquiry, message=message)
        return _done(stored, Outcome.NOTE, message, inquiry, message.detail), None

    if inquiry is not None:
        message = _store_message(stored, parsed, fp, inquiry, direction=Message.Direction.IN)
        workflow.record_provider_reply(inquiry, message=message)
        return _done(stored, Outcome.REPLY, message, inquiry), (inquiry.pk, texts)

    inquiry = _new_inquiry(parsed, web=web)
    message = _store_message(stored, parsed, fp, inquiry, direction=Message.Direction.IN)
    return _done(stored, Outcome.NEW_TICKET, message, inquiry), (inquiry.pk, texts)


def _done(stored: RawMessage, outcome: str, message: Message, inquiry: Inquiry | None, detail: str = "") -> ReceiveResult:
    stored.outcome = outcome
    return ReceiveResult(outcome, stored, message, inquiry, detail)


def _automatic_kind(parsed) -> str:
    if parsed.own_loop:
        return Message.Kind.OWN_LOOP
    if parsed.bounce:
        return Message.Kind.BOUNCE
    if parsed.auto_reply:
        return Message.Kind.AUTO_REPLY
    return ""


def _thread(parsed, *, automatic: str) -> Inquiry | None:
    """Find the ticket a message belongs to: by Message-IDs first, then by token from a participant only."""
    ids = [*parsed.in_reply_to, *parsed.references]
    if automatic == Message.Kind.BOUNCE:
        ids = [*parsed.bounce_original_message_ids, *ids]
    elif automatic == Message.Kind.OWN_LOOP and parsed.message_id:
        # Our own reply coming back carries the Message-ID we stored when sending it.
        ids = [parsed.message_id, *ids]
    ids = [i for i in dict.fromkeys(ids) if i][:50]
    if ids:
        # The ticket of the latest stored message carrying one of the ids, in one query.
        found = Inquiry.objects.filter(messages__message_id__in=ids, anonymised_at__isnull=True).order_by("-messages__pk").first()
        if found is not None:
            return found
    token = mailparse.extract_ticket_token(parsed.subject or "")
    sender = (parsed.from_address or "").strip().lower()
    if token is None or not sender:
        return None
    participant = (
        Participant.objects.filter(inquiry_id=token, email=sender, inquiry__anonymised_at__isnull=True)
        .select_related("inquiry")
        .first()
    )
    return participant.inquiry if participant else None


def _address_text(value) -> str:
    return value if isinstance(value, str) else ", ".join(value or [])


def _new_inquiry(parsed, *, web: bool) -> Inquiry:
    from_name, from_address = parsed.from_name or "", (parsed.from_address or "").strip().lower()
    people = [(from_address, from_name, Participant.Role.FROM)]
    for item in parsed.reply_to or []:
        name, addr = parseaddr(item)
        people.append((addr.strip().lower(), name, Participant.Role.REPLY_TO))
    # Replies go where the provider asked them to go: Reply-To first, else From.
    contact = next((addr for addr, _, role in people if role == Participant.Role.REPLY_TO and addr), from_address)
    contact_name = next((name for addr, name, _ in people if addr == contact and name), from_name)
    subject = FOREIGN_TOKEN.sub(" ", parsed.subject or "").strip() or "(no subject)"
    return workflow.create_inquiry(
        subject=subject,
        provider_name=contact_name,
        provider_email=contact,
        participants=[p for p in people if p[0]],
        source=Inquiry.Source.WEB if web else Inquiry.Source.EMAIL,
    )


def _automatic_detail(parsed, kind: str) -> str:
    if kind == Message.Kind.BOUNCE:
        recipients = ", ".join(parsed.bounce_recipients or []) or "unknown recipient"
        return f"Delivery failed for {recipients}."
    if kind == Message.Kind.OWN_LOOP:
        return "Our own message came back to the support mailbox."
    return f"Automatic reply ({parsed.auto_reply_reason or 'auto-reply headers'}); not answered."


def _store_message(
    stored: RawMessage, parsed, fp: str, inquiry: Inquiry | None, *, direction: str, kind: str = "message"
) -> Message:
    detail = _automatic_detail(parsed, kind) if kind != Message.Kind.MESSAGE else ""
    if parsed.defects:
        detail = (detail + " Parser notes: " + "; ".join(str(d) for d in parsed.defects[:10])).strip()
    message = Message.objects.create(
        inquiry=inquiry,
        raw_message=stored,
        direction=direction,
        kind=kind,
        message_id=(parsed.message_id or "")[:255],
        fingerprint=fp,
        in_reply_to=list(parsed.in_reply_to or [])[:50],
        references=list(parsed.references or [])[-50:],
        subject=(parsed.subject or "")[:500],
        from_name=(parsed.from_name or "")[:200],
        from_address=(parsed.from_address or "")[:254],
        to=_address_text(parsed.to),
        cc=_address_text(parsed.cc),
        sent_at=parsed.date,
        text=parsed.text or "",
        html=parsed.html or "",
        detail=detail,
    )
    _store_attachments(message, parsed.attachments)
    return message


def _store_attachments(message: Message, attachments) -> None:
    rows = []
    cap = settings.INQUIRIES_MAX_ATTACHMENT_BYTES
    for part in attachments or []:
        data = part.data or b""
        row = Attachment(
            message=message,
            token=secrets.token_hex(8),
            filename=(part.filename or "attachment")[:255],
            original_filename=(part.original_filename or "")[:500],
            content_type=(part.content_type or "application/octet-stream")[:255],
            size=part.size if part.size is not None else len(data),
            content_id=(part.content_id or "")[:255],
            inline=bool(part.inline),
            too_large=len(data) > cap,
        )
        if not row.too_large:
            row.file.save(row.filename, ContentFile(data), save=False)
        rows.append(row)
    if rows:
        Attachment.objects.bulk_create(rows)
