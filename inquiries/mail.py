"""Outgoing mail: build our replies (threading headers, ticket token, loop header, disclaimer) and send them."""

from __future__ import annotations

from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from inquiries.mailparse import LOOP_HEADER
from inquiries.models import Inquiry

# The guide's disclaimer (also in the site footer): every reply carries it.
DISCLAIMER = (
    "Medicare figures are computed from the CMS files loaded by the reimbursement team. Provided for "
    "convenience, not coding advice: the provider is responsible for the codes and charges it submits."
)


TEAM_SIGNATURE = "The Reimbursement Desk team"
# Words after a comma that are a suffix or credential, not a given name: "Smith, MD" stays as written.
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "md", "do", "rn", "np", "pa", "pa-c", "phd", "cpc", "ccs", "crc"})


def natural_name(name: str) -> str:
    """Return a display name in speaking order: "Gonzalez, Maria" becomes "Maria Gonzalez", a credential stays last."""
    name = " ".join(name.split())
    family, comma, rest = name.partition(",")
    if not comma or "@" in name:
        return name
    given, _, tail = rest.strip().partition(",")
    given = given.strip()
    if not family.strip() or not given or given.lower().strip(".") in NAME_SUFFIXES:
        return name
    tail = tail.strip()
    return f"{given} {family.strip()}" + (f", {tail}" if tail else "")


def signature_name(user) -> str:
    """Return how an agent signs: their full name, else the team (a login name is not a signature)."""
    return (user.get_full_name() or "").strip() or TEAM_SIGNATURE


def our_domain() -> str:
    """Return the domain of our support address, used for our Message-IDs."""
    return settings.INQUIRIES_FROM_EMAIL.rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    """Return a fresh Message-ID on our domain, without the angle brackets."""
    return make_msgid(domain=our_domain()).strip("<>")


def subject_with_token(inquiry: Inquiry, subject: str) -> str:
    """Return 'Re: subject [RD-n]' with the ticket token once, whatever the provider's subject held."""
    token = f"[{inquiry.reference}]"
    base = (subject or inquiry.subject or "Your question").replace(token, "").strip()
    if not base.lower().startswith("re:"):
        base = f"Re: {base}"
    return f"{base} {token}"


def build_reply(
    *,
    inquiry: Inquiry,
    body: str,
    recipients: list[str],
    message_id: str,
    in_reply_to: str | None,
    references: list[str],
    agent_name: str,
) -> EmailMessage:
    """Return the e-mail for an agent's public reply, ready to send."""
    context = {
        "inquiry": inquiry,
        "body": body,
        "agent_name": agent_name,
        "team_signed": agent_name == TEAM_SIGNATURE,
        "disclaimer": DISCLAIMER,
    }
    # The loop header lets ingest recognise our own mail if it ever comes back (mailparse.own_loop).
    headers = {"Message-ID": f"<{message_id}>", LOOP_HEADER[0]: LOOP_HEADER[1]}
    if in_reply_to:
        headers["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        headers["References"] = " ".join(f"<{ref}>" for ref in references)
    subject = render_to_string("inquiries/email/reply_subject.txt", {"subject": subject_with_token(inquiry, "")}).strip()
    return EmailMessage(
        subject=subject,
        body=render_to_string("inquiries/email/reply_body.txt", context),
        from_email=formataddr(("Reimbursement Desk", settings.INQUIRIES_FROM_EMAIL)),
        to=recipients,
        headers=headers,
    )


def send(message: EmailMessage) -> None:
    """Send one message through Django's e-mail backend; failures raise."""
    message.send(fail_silently=False)
