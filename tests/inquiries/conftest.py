"""Fixtures of the inquiry desk tests: attachments in a temporary MEDIA_ROOT, tickets the .eml corpus refers to."""

from pathlib import Path

import pytest

from inquiries.models import Inquiry, Message, Participant

EMAILS = Path(__file__).resolve().parent / "emails"


def eml(name: str) -> bytes:
    """Return the raw bytes of one corpus message."""
    return (EMAILS / name).read_bytes()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# ticket -> (provider, our outgoing Message-ID the corpus replies to or bounces)
CORPUS_TICKETS = {
    1042: ("maria.gonzalez@example.com", "176.1042.1@reimbursement.example.com"),
    1043: ("ana.ruiz@example.org", "176.1043.1@reimbursement.example.com"),
    1044: ("tom.walsh@example.org", "176.1044.1@reimbursement.example.com"),
    1045: ("lost.person@example.com", "176.1045.2@reimbursement.example.com"),
    1046: ("gone@example.org", "176.1046.3@reimbursement.example.com"),
    1047: ("nobody@example.net", "176.1047.1@reimbursement.example.com"),
}
NEW_QUESTION_ID = "BN8PR04MB6210A1B2C3D4E5F6@BN8PR04MB6210.namprd04.prod.example.com"


@pytest.fixture
def corpus_tickets(db) -> dict[int, Inquiry]:
    """Tickets 1042-1047, each Waiting on the provider after our reply (the Message-IDs the corpus refers to)."""
    tickets = {}
    for pk, (provider, our_id) in CORPUS_TICKETS.items():
        inquiry = Inquiry.objects.create(
            pk=pk,
            subject="Coverage question: pump refill J2274 with G89.29",
            provider_email=provider,
            status=Inquiry.Status.WAITING,
        )
        Participant.objects.create(inquiry=inquiry, email=provider, role=Participant.Role.FROM)
        if pk == 1042:
            Message.objects.create(
                inquiry=inquiry,
                direction=Message.Direction.IN,
                message_id=NEW_QUESTION_ID,
                fingerprint="0" * 64,
                from_address=provider,
            )
        Message.objects.create(inquiry=inquiry, direction=Message.Direction.OUT, message_id=our_id, references=[NEW_QUESTION_ID])
        tickets[pk] = inquiry
    return tickets
