"""The public "Ask a question" form: rate-limited per IP, turned into a MIME message and fed to ingest.receive.

One way in: a question typed on the web is stored, deduplicated and ticketed exactly like a mailed one.
"""

from __future__ import annotations

from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage

from inquiries import ingest
from inquiries.models import RawMessage

RATE_LIMIT = 5  # questions per IP address
RATE_WINDOW = 60 * 60  # seconds


def allow(ip: str) -> bool:
    """Count one submission from `ip`; return False once it exceeds RATE_LIMIT within RATE_WINDOW."""
    key = f"inquiries:ask:{ip}"
    # add() only sets a missing key, so the window starts at the first submission and is not extended.
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count <= RATE_LIMIT


def build_message(*, name: str, email: str, organisation: str, subject: str, question: str, files) -> bytes:
    """Return the raw MIME bytes of a web question, as if the provider had mailed it."""
    body = question
    if organisation:
        body = f"{question}\n\n-- \n{name}\n{organisation}"
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((name, email)),
        to=[settings.INQUIRIES_FROM_EMAIL],
        headers={"Message-ID": make_msgid(domain="web.invalid"), "X-RD-Source": "web form"},
    )
    for upload in files:
        upload.seek(0)
        message.attach(upload.name, upload.read(), upload.content_type or "application/octet-stream")
    return message.message().as_bytes()


def submit(*, name: str, email: str, organisation: str, subject: str, question: str, files) -> ingest.ReceiveResult:
    """Turn a web question into a ticket through the one ingest function."""
    raw = build_message(name=name, email=email, organisation=organisation, subject=subject, question=question, files=files)
    return ingest.receive(raw, source=RawMessage.Source.WEB)
