"""ingest.receive_many (the poller's path): same outcomes as receive(), raw bytes committed first, one bad message alone."""

import hashlib

import pytest

from codes.models import Code
from inquiries import ingest, workflow
from inquiries.models import Inquiry, InquiryEvent, Message, RawMessage
from tests.inquiries.conftest import eml

pytestmark = pytest.mark.django_db

BATCH = [
    "new_question_outlook.eml",
    "garbage.eml",
    "duplicate_redelivered.eml",  # redelivery of the first message, in the same batch
    "reply_to_differs.eml",
    "messageid_reused.eml",  # same Message-ID as the first, other content: a new ticket
    "attachments_mixed.eml",
]


def test_a_batch_has_the_outcomes_receive_gives_one_by_one():
    Code.objects.create(system="cpt", code="62362", short_description="Implant spine infusion pump")
    raws = [eml(name) for name in BATCH]

    results = ingest.receive_many(raws)

    outcomes = [str(r.outcome) for r in results]
    assert outcomes == ["new_ticket", "quarantined", "duplicate", "new_ticket", "new_ticket", "new_ticket"]
    assert results[2].inquiry == results[0].inquiry
    stored = list(RawMessage.objects.order_by("pk"))
    assert [bytes(r.raw) for r in stored] == raws
    assert [r.sha256 for r in stored] == [hashlib.sha256(raw).hexdigest() for raw in raws]
    assert [r.outcome for r in stored] == outcomes
    assert stored[2].duplicate_of == results[0].message
    assert "parse" in stored[1].error
    assert Inquiry.objects.count() == 4 and Message.objects.count() == 4
    # Each new ticket has its creation event; codes detected in the batch are linked.
    assert InquiryEvent.objects.filter(kind="created").count() == 4
    assert results[0].inquiry.code_links.filter(system="cpt", code="62362").exists()
    assert [a.filename for a in results[5].message.attachments.all()] == [
        a.filename for a in ingest.mailparse.parse(raws[5]).attachments
    ]


def test_a_reply_threads_to_a_question_earlier_in_the_same_batch():
    first, reply = ingest.receive_many([eml("new_question_outlook.eml"), eml("reply_in_reply_to_gmail.eml")])

    assert (first.outcome, reply.outcome) == ("new_ticket", "reply")
    assert reply.inquiry == first.inquiry
    assert [e.kind for e in first.inquiry.events.order_by("pk")] == ["created", "provider_reply"]


def test_raw_bytes_of_the_whole_batch_are_stored_before_any_parsing(monkeypatch):
    parse = ingest.mailparse.parse
    seen = []

    def recording_parse(raw):
        seen.append(list(RawMessage.objects.order_by("pk").values_list("outcome", flat=True)))
        return parse(raw)

    monkeypatch.setattr(ingest.mailparse, "parse", recording_parse)

    ingest.receive_many([eml("html_only.eml"), eml("garbage.eml")])

    assert seen[0] == ["pending", "pending"]
    assert list(RawMessage.objects.order_by("pk").values_list("outcome", flat=True)) == ["new_ticket", "quarantined"]


def test_one_failing_message_is_quarantined_and_the_others_are_kept(monkeypatch):
    create = workflow.create_inquiry

    def broken_for_html_only(**kwargs):
        if kwargs["subject"] == "Payment table for pump codes":
            raise RuntimeError("disk full")
        return create(**kwargs)

    monkeypatch.setattr(workflow, "create_inquiry", broken_for_html_only)

    results = ingest.receive_many([eml("new_question_outlook.eml"), eml("html_only.eml"), eml("reply_to_differs.eml")])

    assert [str(r.outcome) for r in results] == ["new_ticket", "quarantined", "new_ticket"]
    assert "disk full" in RawMessage.objects.get(outcome="quarantined").error
    # Nothing of the failed message survives its savepoint; the others keep their rows and events.
    assert Inquiry.objects.count() == 2 and Message.objects.count() == 2
    assert InquiryEvent.objects.filter(kind="created").count() == 2
    assert RawMessage.objects.filter(outcome="pending").count() == 0


def test_receive_many_refuses_text():
    with pytest.raises(TypeError):
        ingest.receive_many(["From: a@example.com\n\nhi"])
    assert not RawMessage.objects.exists()
