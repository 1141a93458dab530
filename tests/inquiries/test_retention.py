"""purge_inquiries: closed inquiries past retention are anonymised or purged, with their mail; --dry-run changes nothing."""

import datetime
import os
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inquiries import ingest, retention
from inquiries.models import Attachment, CodeLink, Inquiry, Message, Participant, RawMessage
from tests.inquiries.conftest import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_closed():
    """A ticket with attachments, closed ten years ago, and a fresh one still open."""
    result = ingest.receive(eml("attachments_mixed.eml"))
    assert ingest.receive(eml("attachments_mixed.eml")).outcome == "duplicate"  # a recent redelivery of it
    inquiry = result.inquiry
    CodeLink.objects.create(inquiry=inquiry, system="hcpcs", code="J2274")
    Inquiry.objects.filter(pk=inquiry.pk).update(status="closed", closed_at=timezone.now() - datetime.timedelta(days=3650))
    fresh = ingest.receive(eml("new_question_outlook.eml")).inquiry
    return inquiry, fresh, [a.file.path for a in Attachment.objects.filter(message__inquiry=inquiry)]


def test_dry_run_counts_and_changes_nothing(old_closed):
    out = StringIO()
    call_command("purge_inquiries", "--dry-run", "--days", "365", stdout=out)

    assert "Dry run, nothing changed: would have anonymised 1 inquiries" in out.getvalue()
    assert "1 messages, 5 attachments, 2 raw messages" in out.getvalue()
    assert Inquiry.objects.get(pk=old_closed[0].pk).subject == "Files for our J2274 question"


def test_anonymise_keeps_statistics_and_removes_the_person(old_closed, django_capture_on_commit_callbacks):
    inquiry, fresh, paths = old_closed

    with django_capture_on_commit_callbacks(execute=True):
        result = retention.apply(days=365, mode=retention.ANONYMISE)

    assert (result.inquiries, result.attachments, result.raw_messages) == (1, 5, 2)
    inquiry.refresh_from_db()
    assert (inquiry.subject, inquiry.provider_email, inquiry.status) == ("(anonymised)", "", "closed")
    assert inquiry.anonymised_at is not None and inquiry.code_links.count() == 1  # still counted on the dashboard
    message = inquiry.messages.get()
    assert (message.text, message.from_address, message.raw_message) == ("", "", None)
    assert not Participant.objects.filter(inquiry=inquiry).exists()
    assert not Attachment.objects.filter(message__inquiry=inquiry).exists()
    assert not any(os.path.exists(p) for p in paths)
    assert Inquiry.objects.get(pk=fresh.pk).subject.startswith("Coverage question")
    assert RawMessage.objects.count() == 1  # the fresh one
    # Anonymised tickets are not reachable by token or Message-ID any more.
    reply = (
        b"From: ian.fraser@example.org\r\nSubject: Re: files [RD-%d]\r\nMessage-ID: <x1@example.org>\r\n\r\nhello\r\n"
        % inquiry.pk
    )
    assert ingest.receive(reply).inquiry != inquiry


def test_purge_deletes_the_inquiry_and_its_mail(old_closed):
    inquiry, fresh, paths = old_closed
    out = StringIO()

    call_command("purge_inquiries", "--mode", "purge", "--days", "365", stdout=out)

    assert "purged 1 inquiries" in out.getvalue()
    assert list(Inquiry.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not Message.objects.filter(inquiry_id=inquiry.pk).exists()
    assert RawMessage.objects.count() == 1


def test_a_purge_that_rolls_back_keeps_the_attachment_files(old_closed, django_capture_on_commit_callbacks):
    """Files go only after the rows are gone for good: a failed run leaves no row pointing at a missing file."""
    from django.db import transaction

    inquiry, fresh, paths = old_closed
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        retention.apply(days=365, mode=retention.PURGE)
        raise RuntimeError("the database went away")
    assert callbacks == [] and all(os.path.exists(p) for p in paths)
    assert Attachment.objects.filter(message__inquiry=inquiry).count() == 5


def test_recently_closed_inquiries_are_kept(old_closed):
    assert retention.apply(days=36500).inquiries == 0
