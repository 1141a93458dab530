"""The inquiry workflow: the only place an inquiry's status, assignee, priority or due date changes.

Every function is atomic, checks ALLOWED_TRANSITIONS where the status moves, saves with `update_fields`
and appends an InquiryEvent (actor, kind, data, time). Replies leave through Django's e-mail backend only
after the transaction commits, so a rolled-back reply is never sent.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import hashlib
import logging
import string
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from inquiries import mail
from inquiries.models import (
    CannedResponse,
    CodeLink,
    Inquiry,
    InquiryEvent,
    Message,
    Participant,
    RawMessage,
    ViewLog,
)

logger = logging.getLogger(__name__)

Status = Inquiry.Status
Kind = InquiryEvent.Kind

# from-status -> statuses it may move to. A provider reply moves Waiting/Resolved/Closed back to Open.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.WAITING, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.WAITING, Status.RESOLVED, Status.CLOSED}),
    Status.WAITING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.OPEN}),
}


class WorkflowError(Exception):
    """A change the workflow does not allow (e.g. Closed to Resolved); the message says why."""


# SLA ----------------------------------------------------------------------------------------


def add_business_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """Return `start` moved forward by `days` working days (Monday to Friday), keeping the time of day."""
    local = timezone.localtime(start)
    # A question arriving at the weekend starts its clock on Monday morning.
    while local.weekday() >= 5:
        local = (local + datetime.timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    remaining = days
    while remaining > 0:
        local += datetime.timedelta(days=1)
        if local.weekday() < 5:
            remaining -= 1
    return local


def due_for(created_at: datetime.datetime) -> datetime.datetime:
    """Return when an inquiry created at `created_at` is due under INQUIRIES_SLA_BUSINESS_DAYS."""
    return add_business_days(created_at, settings.INQUIRIES_SLA_BUSINESS_DAYS)


# Creating and moving ------------------------------------------------------------------------


# While ingest processes a batch, events are collected here and inserted together (one query per batch).
_collected_events: contextvars.ContextVar[list[InquiryEvent] | None] = contextvars.ContextVar("collected_events", default=None)


def _event(inquiry: Inquiry, kind: str, *, by=None, at=None, **data) -> InquiryEvent:
    event = InquiryEvent(inquiry=inquiry, kind=kind, actor=by, data=data, at=at or timezone.now())
    collected = _collected_events.get()
    if collected is not None:
        collected.append(event)
        return event
    event.save(force_insert=True)
    return event


@contextlib.contextmanager
def collecting_events() -> Iterator[list[InquiryEvent]]:
    """Collect the events recorded inside the block instead of inserting each; the caller bulk-inserts the list."""
    collected: list[InquiryEvent] = []
    token = _collected_events.set(collected)
    try:
        yield collected
    finally:
        _collected_events.reset(token)


@transaction.atomic(savepoint=False)  # inside ingest's transaction a savepoint would only cost round trips
def create_inquiry(
    *,
    subject: str,
    provider_name: str,
    provider_email: str,
    participants: Iterable[tuple[str, str, str]],
    source: str = Inquiry.Source.EMAIL,
    at: datetime.datetime | None = None,
) -> Inquiry:
    """Create a New inquiry due after the SLA, with its participants given as (email, name, role)."""
    at = at or timezone.now()
    inquiry = Inquiry.objects.create(
        subject=subject[:500],
        provider_name=provider_name[:200],
        provider_email=provider_email,
        source=source,
        created_at=at,
        due_at=due_for(at),
    )
    seen: set[str] = set()
    rows = []
    for email, name, role in participants:
        email = email.strip().lower()
        if email and email not in seen:
            seen.add(email)
            rows.append(Participant(inquiry=inquiry, email=email, name=name[:200], role=role, added_at=at))
    Participant.objects.bulk_create(rows)
    _event(inquiry, Kind.CREATED, at=at, source=source, provider=provider_email)
    return inquiry


def _move(inquiry: Inquiry, to: str, *, by, reason: str = "") -> None:
    """Check and apply one status transition, stamping the resolution and closing times."""
    # Lock the row and read its status now: two agents (or an agent and a provider's reply) may race.
    old = Inquiry.objects.select_for_update().values_list("status", flat=True).get(pk=inquiry.pk)
    inquiry.status = old
    if to == old:
        return
    if to not in ALLOWED_TRANSITIONS[old]:
        raise WorkflowError(f"An inquiry that is {Status(old).label} cannot become {Status(to).label}.")
    now = timezone.now()
    inquiry.status = to
    fields = ["status", "updated_at"]
    if to == Status.RESOLVED:
        inquiry.resolved_at = now
        fields.append("resolved_at")
    elif to == Status.CLOSED:
        inquiry.closed_at = now
        fields.append("closed_at")
    elif to == Status.OPEN and old in (Status.RESOLVED, Status.CLOSED):
        inquiry.resolved_at = inquiry.closed_at = None
        fields += ["resolved_at", "closed_at"]
    inquiry.save(update_fields=fields)
    data = {"from": old, "to": to}
    if reason:
        data["reason"] = reason
    _event(inquiry, Kind.STATUS, by=by, **data)


@transaction.atomic
def transition(inquiry: Inquiry, *, to: str, by: AbstractBaseUser | None, reason: str = "") -> Inquiry:
    """Move the inquiry to status `to` if ALLOWED_TRANSITIONS permits; raise WorkflowError otherwise."""
    if to not in Status.values:
        raise WorkflowError(f"Unknown status {to!r}.")
    _move(inquiry, to, by=by, reason=reason)
    if to == Status.RESOLVED:
        _claim(inquiry, by=by, reason="resolved")
    return inquiry


def start(inquiry: Inquiry, *, by: AbstractBaseUser) -> Inquiry:
    """Mark a New inquiry Open (an agent has taken it up)."""
    return transition(inquiry, to=Status.OPEN, by=by)


def resolve(inquiry: Inquiry, *, by: AbstractBaseUser) -> Inquiry:
    """Mark the inquiry Resolved (answered; a provider reply reopens it)."""
    return transition(inquiry, to=Status.RESOLVED, by=by)


def close(inquiry: Inquiry, *, by: AbstractBaseUser) -> Inquiry:
    """Close the inquiry (retention counts from here)."""
    return transition(inquiry, to=Status.CLOSED, by=by)


def reopen(inquiry: Inquiry, *, by: AbstractBaseUser, reason: str = "") -> Inquiry:
    """Put a Waiting, Resolved or Closed inquiry back to Open."""
    if inquiry.status in (Status.NEW, Status.OPEN):
        raise WorkflowError("The inquiry is already open.")
    return transition(inquiry, to=Status.OPEN, by=by, reason=reason)


@transaction.atomic
def assign(inquiry: Inquiry, *, to: AbstractBaseUser | None, by: AbstractBaseUser) -> Inquiry:
    """Give the inquiry to an agent (None unassigns); a New inquiry becomes Open when someone takes it."""
    from reimbursement import roles

    if to is not None and not roles.is_support_agent(to):
        raise WorkflowError(f"{to} is not a support agent.")
    old = inquiry.assignee_id
    new = to.pk if to else None
    if old != new:
        inquiry.assignee = to
        inquiry.save(update_fields=["assignee", "updated_at"])
        _event(inquiry, Kind.ASSIGNED, by=by, **{"from": old, "to": new, "to_name": str(to) if to else ""})
    if to is not None and inquiry.status == Status.NEW:
        _move(inquiry, Status.OPEN, by=by)
    return inquiry


def _claim(inquiry: Inquiry, *, by: AbstractBaseUser | None, reason: str) -> None:
    """Make the agent who answers or resolves an unassigned inquiry its assignee (recorded like any assignment)."""
    from reimbursement import roles

    if inquiry.assignee_id is not None or by is None or not roles.is_support_agent(by):
        return
    inquiry.assignee = by
    inquiry.save(update_fields=["assignee", "updated_at"])
    _event(inquiry, Kind.ASSIGNED, by=by, **{"from": None, "to": by.pk, "to_name": str(by), "reason": reason})


@transaction.atomic
def set_priority(inquiry: Inquiry, *, priority: int, by: AbstractBaseUser) -> Inquiry:
    """Change the priority."""
    if priority not in Inquiry.Priority.values:
        raise WorkflowError(f"Unknown priority {priority!r}.")
    old = inquiry.priority
    if old != priority:
        inquiry.priority = priority
        inquiry.save(update_fields=["priority", "updated_at"])
        _event(inquiry, Kind.PRIORITY, by=by, **{"from": old, "to": priority})
    return inquiry


@transaction.atomic
def set_due(inquiry: Inquiry, *, due_at: datetime.datetime | None, by: AbstractBaseUser) -> Inquiry:
    """Change the due time (None removes it)."""
    old = inquiry.due_at
    if old != due_at:
        inquiry.due_at = due_at
        inquiry.save(update_fields=["due_at", "updated_at"])
        _event(
            inquiry, Kind.DUE, by=by, **{"from": old.isoformat() if old else None, "to": due_at.isoformat() if due_at else None}
        )
    return inquiry


# Messages -----------------------------------------------------------------------------------


def recipients(inquiry: Inquiry) -> list[str]:
    """Return who our replies go to: the provider contact and the people agents added (never Cc'd strangers)."""
    addresses = [inquiry.provider_email] if inquiry.provider_email else []
    for email in inquiry.participants.filter(role=Participant.Role.ADDED).values_list("email", flat=True):
        if email not in addresses:
            addresses.append(email)
    return addresses


def _thread_parent(inquiry: Inquiry) -> Message | None:
    return (
        inquiry.messages.exclude(direction=Message.Direction.NOTE).exclude(message_id="").order_by("-created_at", "-pk").first()
    )


@transaction.atomic
def reply(inquiry: Inquiry, *, body: str, by: AbstractBaseUser, resolve_after: bool = False) -> Message:
    """Send a public reply to the provider (after commit), record it, and wait on the provider (or resolve)."""
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise WorkflowError("The reply is empty.")
    if inquiry.anonymised_at:
        raise WorkflowError("This inquiry has been anonymised; it cannot be answered.")
    to = recipients(inquiry)
    if not to:
        raise WorkflowError("The inquiry has no provider address to reply to.")
    parent = _thread_parent(inquiry)
    references = [*parent.references, parent.message_id] if parent else []
    message_id = mail.new_message_id()
    email = mail.build_reply(
        inquiry=inquiry,
        body=body,
        recipients=to,
        message_id=message_id,
        in_reply_to=parent.message_id if parent else None,
        references=references[-20:],
        agent_name=mail.signature_name(by),
    )
    raw = email.message().as_bytes()
    now = timezone.now()
    raw_message = RawMessage.objects.create(
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        source=RawMessage.Source.OUTBOUND,
        outcome=RawMessage.Outcome.SENT,
        received_at=now,
    )
    message = Message.objects.create(
        inquiry=inquiry,
        raw_message=raw_message,
        direction=Message.Direction.OUT,
        message_id=message_id,
        in_reply_to=[parent.message_id] if parent else [],
        references=references[-20:],
        subject=email.subject,
        from_name="Reimbursement Desk",
        from_address=settings.INQUIRIES_FROM_EMAIL,
        to=", ".join(to),
        sent_at=now,
        created_at=now,
        text=email.body,
        author=by,
    )
    if inquiry.first_response_at is None:
        inquiry.first_response_at = now
        inquiry.save(update_fields=["first_response_at", "updated_at"])
    _event(inquiry, Kind.REPLIED, by=by, message=message.pk, to=to)
    _claim(inquiry, by=by, reason="replied")
    if resolve_after:
        _move(inquiry, Status.RESOLVED, by=by)
    elif inquiry.status in (Status.NEW, Status.OPEN):
        _move(inquiry, Status.WAITING, by=by)
    transaction.on_commit(lambda: _deliver(inquiry.pk, message.pk, email))
    return message


def _deliver(inquiry_id: int, message_pk: int, email) -> None:
    """Send a committed reply; a failure is recorded on the ticket for the agents, never lost silently."""
    try:
        mail.send(email)
    except Exception as exc:  # noqa: BLE001 - any transport error must reach the agents, not a 500
        logger.exception("Reply %s of inquiry %s could not be sent", message_pk, inquiry_id)
        InquiryEvent.objects.create(
            inquiry_id=inquiry_id, kind=Kind.MAIL_FAILED, data={"message": message_pk, "error": str(exc)[:500]}
        )


@transaction.atomic
def add_note(inquiry: Inquiry, *, body: str, by: AbstractBaseUser) -> Message:
    """Add an internal note: agents see it, the provider never does."""
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise WorkflowError("The note is empty.")
    message = Message.objects.create(
        inquiry=inquiry, direction=Message.Direction.NOTE, text=body, author=by, from_name=by.get_username()
    )
    _event(inquiry, Kind.NOTE, by=by, message=message.pk)
    return message


def record_provider_reply(inquiry: Inquiry, *, message: Message) -> None:
    """Record a provider's reply (inside ingest's transaction): it reopens a Waiting, Resolved or Closed inquiry."""
    _event(inquiry, Kind.PROVIDER_REPLY, message=message.pk, sender=message.from_address)
    if inquiry.status in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
        _move(inquiry, Status.OPEN, by=None, reason="provider replied")


def record_automatic(inquiry: Inquiry, *, message: Message) -> None:
    """Record an auto-reply, bounce or returning own mail as a note event; it never changes the status."""
    _event(inquiry, Kind.AUTOMATIC, message=message.pk, message_kind=message.kind, detail=message.detail[:200])


# Canned responses ---------------------------------------------------------------------------


class _Blank(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def render_canned(canned: CannedResponse, *, inquiry: Inquiry, agent: AbstractBaseUser) -> str:
    """Return the canned text with {provider_name}, {reference}, {codes}, {figures} and {agent_name} filled in."""
    from inquiries import code_links

    values = _Blank(
        provider_name=mail.natural_name(inquiry.provider_name) or "Sir or Madam",
        reference=inquiry.reference,
        subject=inquiry.subject,
        agent_name=mail.signature_name(agent),
    )
    fields = {name for _, name, _, _ in string.Formatter().parse(canned.body) if name}
    if "codes" in fields:
        values["codes"] = code_links.codes_text(inquiry)
    if "figures" in fields:
        values["figures"] = code_links.figures_text(inquiry)
    return string.Formatter().vformat(canned.body, (), values)


# Participants and codes ---------------------------------------------------------------------


@transaction.atomic
def add_participant(inquiry: Inquiry, *, email: str, name: str = "", by: AbstractBaseUser) -> Participant:
    """Add someone explicitly: they receive replies and may write with the ticket token."""
    email = email.strip().lower()
    participant, created = Participant.objects.get_or_create(
        inquiry=inquiry, email=email, defaults={"name": name, "role": Participant.Role.ADDED, "added_by": by}
    )
    if created:
        _event(inquiry, Kind.PARTICIPANT_ADDED, by=by, email=email)
    return participant


@transaction.atomic
def remove_participant(inquiry: Inquiry, *, email: str, by: AbstractBaseUser) -> None:
    """Remove a participant; they can no longer reach the ticket by its token."""
    deleted, _ = inquiry.participants.filter(email=email.strip().lower()).delete()
    if deleted:
        _event(inquiry, Kind.PARTICIPANT_REMOVED, by=by, email=email)


@transaction.atomic
def link_code(inquiry: Inquiry, *, system: str, code: str, by: AbstractBaseUser) -> CodeLink:
    """Link a catalog code to the inquiry (agents add what detection missed)."""
    from inquiries import code_links

    system, code = code_links.validate(system=system, code=code)
    link, created = CodeLink.objects.get_or_create(
        inquiry=inquiry, system=system, code=code, defaults={"origin": CodeLink.Origin.AGENT, "added_by": by}
    )
    if created:
        _event(inquiry, Kind.CODE_LINKED, by=by, system=system, code=code)
    return link


@transaction.atomic
def unlink_code(inquiry: Inquiry, *, link_id: int, by: AbstractBaseUser) -> None:
    """Remove a linked code."""
    link = inquiry.code_links.filter(pk=link_id).first()
    if link is None:
        raise WorkflowError("That code is not linked to this inquiry.")
    link.delete()
    _event(inquiry, Kind.CODE_UNLINKED, by=by, system=link.system, code=link.code)


# Access audit -------------------------------------------------------------------------------


def log_view(inquiry: Inquiry | int, *, user: AbstractBaseUser, via: str) -> None:
    """Record that `user` saw the inquiry (page, admin, API or a download)."""
    inquiry_id = inquiry if isinstance(inquiry, int) else inquiry.pk
    ViewLog.objects.create(inquiry_id=inquiry_id, user=user, via=via)


def view_summary(inquiry: Inquiry, *, limit: int = 10) -> list[dict]:
    """Return who viewed the inquiry, one row per user (name, last view, count), most recent first; the log keeps each view."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count, Max

    rows = list(
        ViewLog.objects.filter(inquiry=inquiry)
        .values("user")
        .annotate(last=Max("at"), count=Count("pk"))
        .order_by("-last", "user")[:limit]
    )
    users = get_user_model().objects.in_bulk([row["user"] for row in rows])
    return [{"user": users[row["user"]], "last": row["last"], "count": row["count"]} for row in rows]
