"""Starter data for `make run`: canned responses and two invented provider questions, fed through ingest.receive."""

from __future__ import annotations

from email.message import EmailMessage

from django.conf import settings

from inquiries import ingest
from inquiries.models import CannedResponse

CANNED = {
    "Payment figures": (
        "Dear {provider_name},\n\nThank you for your question ({reference}) about {codes}.\n\n"
        "{figures}\n\nLocal amounts differ by locality; tell us yours for exact figures."
    ),
    "Need more details": (
        "Dear {provider_name},\n\nTo answer {reference} we need the date of service, the place of service "
        "(office, ASC or hospital outpatient) and the codes you billed. Please do not send more patient "
        "information than that."
    ),
    "Refill billing": (
        "Dear {provider_name},\n\nAn intrathecal pump refill is reported with the refill code (95990 or 95991, "
        "or 62369/62370 with reprogramming) and the drug with its HCPCS J-code per unit given.\n\nCodes in your "
        "question: {codes}."
    ),
}

QUESTIONS = [
    (
        "Dana Whitfield <dana.whitfield@example.com>",
        "<starter-1@clinic.example.com>",
        "Mon, 30 Nov 2026 09:15:00 -0600",
        "Refill payment for 62370 and J2274",
        "Hello,\n\nWe refilled and reprogrammed a pump (62370) and gave morphine J2274 x 10 units.\n"
        "Diagnosis G89.29. What does Medicare pay in the office?\n\nThanks,\nDana Whitfield\nLakeshore Pain Center",
    ),
    (
        "Omar Haddad <billing@example.org>",
        "<starter-2@example.org>",
        "Tue, 01 Dec 2026 14:40:00 -0600",
        "ASC rate for pump implant 62362",
        "Good afternoon,\n\nOur ASC is scheduling a pump replacement (62362). Is the device (C1772) packaged?\n\nOmar",
    ),
]


def load_starter_data() -> list[str]:
    """Create the canned responses and the demo questions (idempotent: a second run finds duplicates)."""
    for title, body in CANNED.items():
        CannedResponse.objects.update_or_create(title=title, defaults={"body": body})
    if not settings.DEBUG:
        # Invented tickets belong on a developer's machine, never in a production queue.
        return [f"Inquiry desk: {len(CANNED)} canned responses; demo questions only with DJANGO_DEBUG=1"]
    outcomes = []
    for sender, message_id, date, subject, text in QUESTIONS:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, settings.INQUIRIES_FROM_EMAIL, subject
        message["Date"], message["Message-ID"] = date, message_id
        message.set_content(text)
        outcomes.append(str(ingest.receive(message.as_bytes(), source="pipe").outcome))
    return [f"Inquiry desk: {len(CANNED)} canned responses; demo questions: {', '.join(outcomes)}"]
