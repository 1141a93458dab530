"""ingest.receive on the real .eml corpus: where each message lands and what happens to it."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inquiries import ingest, workflow
from inquiries.models import Attachment, Inquiry, InquiryEvent, Message, Participant, RawMessage
from tests.factories import PASSWORD
from tests.inquiries.conftest import NEW_QUESTION_ID, eml
from tests.inquiries.test_mailparse import CORPUS

pytestmark = pytest.mark.django_db

NEW_TICKET_FILES = [
    "new_question_outlook.eml",
    "messageid_reused.eml",
    "encoded_folded_headers.eml",
    "rfc2231_filename.eml",
    "charset_gb2312_mislabelled.eml",
    "charset_ks_c_5601.eml",
    "charset_unknown_label.eml",
    "charset_latin1_labelled_ascii.eml",
    "eight_bit_headers.eml",
    "html_only.eml",
    "related_inline_image.eml",
    "forward_attached_rfc822.eml",
    "forward_inline_gmail.eml",
    "forward_inline_outlook.eml",
    "tnef_winmail.eml",
    "smime_signed.eml",
    "smime_opaque.eml",
    "long_lines.eml",
    "missing_id_and_date.eml",
    "malformed_id_and_date.eml",
    "reply_to_differs.eml",
    "attachments_mixed.eml",
]


@pytest.mark.parametrize("name", NEW_TICKET_FILES)
def test_question_becomes_a_new_ticket_with_its_text_and_attachments(name):
    subject, _from_name, from_address, fragment, files = CORPUS[name]
    raw = eml(name)

    result = ingest.receive(raw)

    assert result.outcome == "new_ticket", result
    inquiry = result.inquiry
    assert inquiry.status == Inquiry.Status.NEW
    assert inquiry.subject == subject
    assert inquiry.due_at is not None and inquiry.due_at > inquiry.created_at
    message = inquiry.messages.get()
    assert (message.direction, message.from_address, message.subject) == ("in", from_address, subject)
    assert fragment in message.text
    stored = [(a.filename, a.size) for a in message.attachments.all()]
    assert stored == files
    for attachment in message.attachments.all():
        assert attachment.file.size == attachment.size
    # The raw bytes were kept exactly, with their hash.
    assert bytes(result.raw_message.raw) == raw
    assert result.raw_message.sha256 == hashlib.sha256(raw).hexdigest()
    assert RawMessage.objects.get().outcome == "new_ticket"


def test_redelivered_message_is_a_duplicate_and_creates_nothing():
    first = ingest.receive(eml("new_question_outlook.eml"))
    again = ingest.receive(eml("duplicate_redelivered.eml"))

    assert again.outcome == "duplicate"
    assert again.inquiry == first.inquiry
    assert Inquiry.objects.count() == 1 and Message.objects.count() == 1
    assert RawMessage.objects.filter(outcome="duplicate", duplicate_of=first.message).count() == 1


def test_redelivery_by_another_route_is_still_a_duplicate():
    raw = eml("new_question_outlook.eml")
    ingest.receive(raw)
    rerouted = b"Received: from mx2.example.com by mx.reimbursement.example.com; Fri, 4 Dec 2026 10:00:00 +0000\r\n" + raw

    assert ingest.receive(rerouted).outcome == "duplicate"


def test_message_without_message_id_is_deduplicated_by_content():
    assert ingest.receive(eml("missing_id_and_date.eml")).outcome == "new_ticket"
    assert ingest.receive(eml("missing_id_and_date.eml")).outcome == "duplicate"


def test_different_message_reusing_a_message_id_is_not_a_duplicate():
    first = ingest.receive(eml("new_question_outlook.eml"))
    other = ingest.receive(eml("messageid_reused.eml"))

    assert other.outcome == "new_ticket"
    assert other.inquiry != first.inquiry
    assert other.message.message_id == first.message.message_id == NEW_QUESTION_ID


def test_reply_threads_by_in_reply_to_and_reopens_the_ticket(corpus_tickets):
    result = ingest.receive(eml("reply_in_reply_to_gmail.eml"))

    assert (result.outcome, result.inquiry.pk) == ("reply", 1042)
    inquiry = Inquiry.objects.get(pk=1042)
    assert inquiry.status == Inquiry.Status.OPEN
    assert "does the refill kit (A4220) pay separately?" in result.message.text
    assert inquiry.events.filter(kind="status", data__to="open", data__reason="provider replied").exists()
    assert Inquiry.objects.count() == len(corpus_tickets)


def test_reply_with_only_the_token_threads_when_the_sender_is_a_participant(corpus_tickets):
    result = ingest.receive(eml("reply_subject_token_only.eml"))

    assert (result.outcome, result.inquiry.pk) == ("reply", 1042)
    assert result.message.from_address == "maria.gonzalez@example.com"


def test_outsider_quoting_a_token_gets_a_new_ticket_and_no_access(corpus_tickets):
    result = ingest.receive(eml("outsider_quotes_token.eml"))

    assert result.outcome == "new_ticket"
    assert result.inquiry.pk != 1042
    assert "[RD-1042]" not in result.inquiry.subject
    assert list(result.inquiry.participants.values_list("email", flat=True)) == ["kbrandt@example.org"]
    assert Message.objects.filter(inquiry_id=1042, from_address="kbrandt@example.org").count() == 0
    assert not Participant.objects.filter(inquiry_id=1042, email="kbrandt@example.org").exists()


def test_unparseable_message_is_quarantined_with_its_bytes():
    raw = eml("garbage.eml")

    result = ingest.receive(raw)

    assert result.outcome == "quarantined"
    stored = RawMessage.objects.get()
    assert stored.outcome == "quarantined" and bytes(stored.raw) == raw
    assert "parse" in stored.error
    assert not Message.objects.exists() and not Inquiry.objects.exists()


def test_a_failure_while_processing_quarantines_instead_of_losing_the_message(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(workflow, "create_inquiry", broken)
    result = ingest.receive(eml("new_question_outlook.eml"))

    assert result.outcome == "quarantined"
    assert "disk full" in RawMessage.objects.get().error
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("name", "ticket", "kind"),
    [
        ("autoreply_rfc3834.eml", 1042, "auto_reply"),
        ("autoreply_x_autoreply.eml", 1043, "auto_reply"),
        ("exchange_oof.eml", 1044, "auto_reply"),
        ("bounce_postfix_dsn.eml", 1045, "bounce"),
        ("bounce_exchange_headers_only.eml", 1046, "bounce"),
        ("bounce_exim_plain.eml", 1047, "bounce"),
        ("own_notification_loop.eml", 1042, "own_loop"),
    ],
)
def test_automatic_mail_becomes_a_note_on_its_ticket_and_is_never_answered(corpus_tickets, mailoutbox, name, ticket, kind):
    result = ingest.receive(eml(name))

    assert result.outcome == "note"
    assert result.inquiry.pk == ticket
    assert (result.message.direction, result.message.kind) == ("note", kind)
    inquiry = Inquiry.objects.get(pk=ticket)
    assert inquiry.status == Inquiry.Status.WAITING  # an auto-reply is not the provider answering
    assert inquiry.events.filter(kind=InquiryEvent.Kind.AUTOMATIC).count() == 1
    assert Inquiry.objects.count() == len(corpus_tickets)
    assert mailoutbox == []


def test_bounce_names_the_failed_recipient(corpus_tickets):
    result = ingest.receive(eml("bounce_postfix_dsn.eml"))

    assert "Delivery failed for" in result.message.detail


def test_bulk_robot_reply_matching_no_ticket_is_kept_but_never_a_ticket(corpus_tickets):
    result = ingest.receive(eml("autoreply_precedence_bulk.eml"))

    assert result.outcome == "note" and result.inquiry is None
    assert Message.objects.filter(inquiry__isnull=True, kind="auto_reply").count() == 1
    assert Inquiry.objects.count() == len(corpus_tickets)


def test_reply_to_is_the_contact_and_cc_is_never_subscribed():
    result = ingest.receive(eml("reply_to_differs.eml"))

    inquiry = result.inquiry
    assert (inquiry.provider_email, inquiry.provider_name) == ("billing@example.com", "Sarah Lee")
    assert set(inquiry.participants.values_list("email", "role")) == {
        ("sarah.lee@example.com", "from"),
        ("billing@example.com", "reply_to"),
    }
    assert result.message.cc == "mark.evans@example.com"
    assert workflow.recipients(inquiry) == ["billing@example.com"]


def test_oversized_attachment_is_recorded_but_not_stored_as_a_file(settings):
    settings.INQUIRIES_MAX_ATTACHMENT_BYTES = 1000

    result = ingest.receive(eml("attachments_mixed.eml"))

    rows = {a.filename: a for a in Attachment.objects.filter(message=result.message)}
    assert rows["EOB.pdf"].too_large and not rows["EOB.pdf"].file
    assert not rows["notes_v2_.txt"].too_large and rows["notes_v2_.txt"].file.size == 26


def test_web_form_message_never_joins_an_existing_ticket(corpus_tickets):
    raw = eml("reply_subject_token_only.eml")

    result = ingest.receive(raw, source="web")

    assert result.outcome == "new_ticket" and result.inquiry.pk != 1042
    assert result.inquiry.source == "web"


def test_receive_refuses_text():
    with pytest.raises(TypeError):
        ingest.receive("From: a@example.com\n\nhi")


def test_a_message_stored_but_never_processed_is_processed_later(client, agent_user):
    raw = eml("new_question_outlook.eml")
    # What a crash between the durable store and the processing commit leaves behind.
    stored = RawMessage.objects.create(
        raw=raw, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), received_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    client.login(username=agent_user.username, password=PASSWORD)
    assert list(client.get("/inquiries/quarantine/").context["pending"]) == [stored]

    out = StringIO()
    call_command("process_pending_mail", stdout=out)

    assert out.getvalue().strip() == "1 new_ticket"
    assert RawMessage.objects.get(pk=stored.pk).outcome == "new_ticket"
    assert Inquiry.objects.get().subject == "Coverage question: pump refill J2274 with G89.29"
    assert ingest.process_pending() == []
