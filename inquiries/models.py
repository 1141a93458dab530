"""Inquiry desk: tickets, their messages (raw bytes kept), attachments, events and the access log.

Status changes happen only in `inquiries/workflow.py`; rows arrive through `inquiries/ingest.py`.
"""

import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

TOKEN_PREFIX = "RD"


class InquiryQuerySet(models.QuerySet):
    def open(self):
        """Keep inquiries an agent still has to act on or wait for (not resolved, not closed)."""
        return self.filter(status__in=Inquiry.ACTIVE_STATUSES)

    def overdue(self, *, at=None):
        """Keep inquiries past their due time that are on the desk's side (waiting on provider pauses the SLA)."""
        at = at or timezone.now()
        return self.filter(status__in=Inquiry.SLA_STATUSES, due_at__lt=at)


class Inquiry(models.Model):
    """One provider question, worked by agents from New to Closed."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        WAITING = "waiting", "Waiting on provider"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    class Priority(models.IntegerChoices):
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    class Source(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEB = "web", "Web form"

    subject = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW, db_index=True)
    priority = models.PositiveSmallIntegerField(choices=Priority, default=Priority.NORMAL)
    provider_name = models.CharField("provider contact name", max_length=200, blank=True)
    provider_email = models.EmailField("provider contact e-mail", max_length=254, blank=True, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_inquiries"
    )
    source = models.CharField(max_length=8, choices=Source, default=Source.EMAIL)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    due_at = models.DateTimeField("due", null=True, blank=True, db_index=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = InquiryQuerySet.as_manager()

    ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)
    SLA_STATUSES = (Status.NEW, Status.OPEN)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "inquiries"

    def __str__(self):
        return f"[{self.reference}] {self.subject}"

    def get_absolute_url(self):
        return reverse("inquiries:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"{TOKEN_PREFIX}-{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return bool(self.due_at and self.status in self.SLA_STATUSES and self.due_at < timezone.now())


class Participant(models.Model):
    """Someone who may write to a ticket by its subject token: the provider's From/Reply-To, or added by an agent."""

    class Role(models.TextChoices):
        FROM = "from", "Sender (From)"
        REPLY_TO = "reply_to", "Reply-To"
        ADDED = "added", "Added by an agent"

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="participants")
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=8, choices=Role)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["inquiry", "email"], name="unique_participant")]

    def __str__(self):
        return f"{self.name} <{self.email}>" if self.name else self.email


class RawMessage(models.Model):
    """The bytes of one message exactly as received (or as sent), stored before anything else happens."""

    class Source(models.TextChoices):
        PIPE = "pipe", "MTA pipe"
        IMAP = "imap", "IMAP mailbox"
        WEB = "web", "Ask-a-question form"
        OUTBOUND = "outbound", "Sent by the desk"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Stored, not yet processed"
        NEW_TICKET = "new_ticket", "New ticket"
        REPLY = "reply", "Reply on a ticket"
        NOTE = "note", "Note (automatic message)"
        QUARANTINED = "quarantined", "Quarantined"
        DUPLICATE = "duplicate", "Duplicate"
        SENT = "sent", "Sent"

    raw = models.BinaryField()
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=8, choices=Source, default=Source.PIPE)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    outcome = models.CharField(max_length=12, choices=Outcome, default=Outcome.PENDING, db_index=True)
    error = models.TextField(blank=True, help_text="Why the message was quarantined.")
    # Quarantined mail is shown to agents until one of them has dealt with it.
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    duplicate_of = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = "raw message"

    def __str__(self):
        return f"{self.get_source_display()} {self.received_at:%Y-%m-%d %H:%M} ({self.get_outcome_display()})"

    def inquiry_ids(self) -> set[int]:
        """Return the tickets whose mail these bytes are: of the messages made from them, or of the original of a duplicate."""
        ids = set(self.messages.exclude(inquiry=None).values_list("inquiry_id", flat=True))
        if self.duplicate_of_id is not None:
            ids |= set(Message.objects.filter(pk=self.duplicate_of_id).exclude(inquiry=None).values_list("inquiry_id", flat=True))
        return ids


class Message(models.Model):
    """One entry of a ticket's thread: inbound mail, our reply, or a note (agent's or an automatic message)."""

    class Direction(models.TextChoices):
        IN = "in", "From the provider"
        OUT = "out", "Reply to the provider"
        NOTE = "note", "Internal note"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        AUTO_REPLY = "auto_reply", "Automatic reply"
        BOUNCE = "bounce", "Bounce"
        OWN_LOOP = "own_loop", "Our own mail returned"

    inquiry = models.ForeignKey(Inquiry, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    raw_message = models.ForeignKey(RawMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    direction = models.CharField(max_length=4, choices=Direction)
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.MESSAGE)
    # Message-ID without <>; empty when the message had none. With `fingerprint` it recognises redelivery.
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    # sha256 of a received message without its trace headers (empty for what we write ourselves).
    fingerprint = models.CharField(max_length=64, blank=True)
    in_reply_to = models.JSONField(default=list, blank=True)
    references = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    to = models.TextField(blank=True)
    cc = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The Date header.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Sanitized HTML.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    detail = models.TextField(blank=True, help_text="Why an automatic message became a note.")

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            # Redelivery (same Message-ID, same content) is a duplicate; a reused Message-ID with other content is not.
            models.UniqueConstraint(
                fields=["message_id", "fingerprint"],
                condition=Q(fingerprint__gt=""),
                name="unique_received_message",
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()}: {self.subject}"

    @property
    def is_public(self) -> bool:
        return self.direction != self.Direction.NOTE


def attachment_path(instance, filename: str) -> str:
    return f"inquiries/{timezone.now():%Y/%m}/{instance.token}/{filename}"


class Attachment(models.Model):
    """A file of a message, stored under MEDIA_ROOT with a safe name and served only as a download."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    token = models.CharField(max_length=32, help_text="Random folder name so stored paths are not guessable.")
    file = models.FileField(upload_to=attachment_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    original_filename = models.CharField(max_length=500, blank=True)
    content_type = models.CharField(max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    # Over INQUIRIES_MAX_ATTACHMENT_BYTES: not stored as a file; the raw message still holds it.
    too_large = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.filename


class InquiryEvent(models.Model):
    """One change to an inquiry: who, what, when (the change history)."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        PRIORITY = "priority", "Priority changed"
        DUE = "due", "Due date changed"
        REPLIED = "replied", "Replied"
        NOTE = "note", "Note added"
        PROVIDER_REPLY = "provider_reply", "Provider replied"
        AUTOMATIC = "automatic", "Automatic message recorded"
        CODE_LINKED = "code_linked", "Code linked"
        CODE_UNLINKED = "code_unlinked", "Code unlinked"
        PARTICIPANT_ADDED = "participant_added", "Participant added"
        PARTICIPANT_REMOVED = "participant_removed", "Participant removed"
        MAIL_FAILED = "mail_failed", "Reply could not be sent"
        ANONYMISED = "anonymised", "Anonymised"

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=20, choices=Kind)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = "inquiry event"

    def __str__(self):
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}"


class ViewLog(models.Model):
    """Who looked at which inquiry, when and where (page, admin, API, download): the access audit."""

    class Via(models.TextChoices):
        PAGE = "page", "Ticket page"
        ADMIN = "admin", "Admin"
        API = "api", "API"
        DOWNLOAD = "download", "Attachment download"

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="inquiry_views")
    via = models.CharField(max_length=8, choices=Via)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "inquiry view"

    def __str__(self):
        return f"{self.user} viewed {self.inquiry_id} via {self.via} at {self.at:%Y-%m-%d %H:%M}"


PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CannedResponse(models.Model):
    """A reusable reply; {provider_name}, {reference}, {codes}, {figures} and {agent_name} are filled in."""

    title = models.CharField(max_length=200, unique=True)
    body = models.TextField()
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class CodeLink(models.Model):
    """A catalog code an inquiry asks about: detected in the mail or added by an agent."""

    class System(models.TextChoices):
        ICD10CM = "icd10cm", "ICD-10-CM"
        CPT = "cpt", "CPT"
        HCPCS = "hcpcs", "HCPCS"

    class Origin(models.TextChoices):
        DETECTED = "detected", "Detected in the message"
        AGENT = "agent", "Added by an agent"

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="code_links")
    system = models.CharField(max_length=8, choices=System)
    code = models.CharField(max_length=10)
    origin = models.CharField(max_length=8, choices=Origin, default=Origin.DETECTED)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["system", "code"]
        constraints = [models.UniqueConstraint(fields=["inquiry", "system", "code"], name="unique_code_link")]

    def __str__(self):
        return f"{self.get_system_display()} {self.code}"
