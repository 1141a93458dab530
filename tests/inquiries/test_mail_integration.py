"""Against real servers: Dovecot IMAP feeds poll_mailbox, an aiosmtpd SMTP server catches our replies."""

import email
import re
from email import policy
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from inquiries import mailparse, workflow
from inquiries.mailbox import STORED_KEYWORD, Mailbox
from inquiries.models import Inquiry, Message, RawMessage
from tests.inquiries import servers
from tests.inquiries.conftest import eml

# The real servers (fixtures live in servers.py so other modules can take them the same way).
imap_server, imap, smtp_server, smtp = servers.imap_server, servers.imap, servers.smtp_server, servers.smtp

NEW_QUESTION_ID = "BN8PR04MB6210A1B2C3D4E5F6@BN8PR04MB6210.namprd04.prod.example.com"

pytestmark = pytest.mark.django_db(transaction=True)


def poll(*args) -> str:
    out = StringIO()
    call_command("poll_mailbox", *args, stdout=out)
    return out.getvalue().strip()


def crlf(raw: bytes) -> bytes:
    """Return raw with CRLF line ends, as IMAP APPEND stores a message."""
    return re.sub(rb"\r\n|\r(?!\n)|\n", b"\r\n", raw)


def flags_by_uid(server) -> dict[str, set[str]]:
    with server.client() as box:
        return {m.uid: set(m.flags) for m in box.fetch(mark_seen=False, headers_only=True)}


def test_delivered_question_becomes_a_ticket_and_the_agent_reply_reaches_smtp(imap, smtp, agent_user):
    imap.deliver(eml("new_question_outlook.eml"))

    assert poll() == "1 new_ticket"

    inquiry = Inquiry.objects.get()
    assert inquiry.subject == "Coverage question: pump refill J2274 with G89.29"
    assert inquiry.provider_email == "maria.gonzalez@example.com"
    question = inquiry.messages.get(direction=Message.Direction.IN)
    assert question.message_id == NEW_QUESTION_ID
    assert question.raw_message.source == RawMessage.Source.IMAP
    assert bytes(question.raw_message.raw) == eml("new_question_outlook.eml")
    # Marked on the server with our keyword, never \Seen or \Deleted: people sharing the mailbox keep their state.
    (flags,) = flags_by_uid(imap).values()
    assert STORED_KEYWORD in flags and "\\Seen" not in flags and "\\Deleted" not in flags

    reply = workflow.reply(inquiry, body="The 2026 allowed amount for J2274 is per 1 mg unit.", by=agent_user)

    (envelope,) = smtp.wait_for(1)
    assert envelope.rcpt_tos == ["maria.gonzalez@example.com"]
    sent = mailparse.parse(envelope.content, own_addresses=[])
    assert sent.message_id == reply.message_id
    assert sent.in_reply_to == [NEW_QUESTION_ID]
    assert sent.references == [NEW_QUESTION_ID]
    assert mailparse.extract_ticket_token(sent.subject) == inquiry.pk
    assert "per 1 mg unit" in sent.text
    headers = email.message_from_bytes(envelope.content, policy=policy.default)
    assert headers[mailparse.LOOP_HEADER[0]] == mailparse.LOOP_HEADER[1]
    assert mailparse.parse(envelope.content).own_loop  # were it ever to come back

    # The provider answers the mail we sent: it threads onto the same ticket by In-Reply-To.
    answer = (
        f"From: Maria Gonzalez <maria.gonzalez@example.com>\r\nTo: support@reimbursement.example.com\r\n"
        f"Subject: Re: thanks\r\nMessage-ID: <answer-1@example.com>\r\nIn-Reply-To: <{sent.message_id}>\r\n"
        f"Date: Fri, 4 Dec 2026 10:00:00 +0000\r\n\r\nThanks, that settles it.\r\n"
    ).encode()
    imap.deliver(answer)
    assert poll() == "1 reply"
    assert Inquiry.objects.count() == 1
    assert inquiry.messages.filter(direction=Message.Direction.IN).count() == 2


def test_polling_twice_creates_nothing_twice(imap):
    for name in ("new_question_outlook.eml", "reply_to_differs.eml", "garbage.eml", "exchange_oof.eml"):
        imap.deliver(eml(name))

    assert poll() == "2 new_ticket, 1 note, 1 quarantined"
    counts = (Inquiry.objects.count(), Message.objects.count(), RawMessage.objects.count())

    assert poll() == "no new messages"
    assert (Inquiry.objects.count(), Message.objects.count(), RawMessage.objects.count()) == counts

    # Even if the server lost our keyword, the next poll recognises every message as already stored.
    with imap.client() as box:
        uids = box.uids()
        box.client.uid("STORE", ",".join(uids), "-FLAGS", f"({STORED_KEYWORD})")
    again = poll()
    assert Inquiry.objects.count() == counts[0]
    assert "new_ticket" not in again and "reply" not in again
    assert all(STORED_KEYWORD in flags for flags in flags_by_uid(imap).values())


def test_every_message_is_stored_and_marked_even_when_one_is_garbage(imap):
    imap.deliver(eml("garbage.eml"))
    imap.deliver(eml("html_only.eml"))
    with Mailbox() as box:
        on_server = box.fetch_raw(box.pending_uids()[0])  # Dovecot stores CRLF and turns NUL into 0x80

    assert poll() == "1 new_ticket, 1 quarantined"

    quarantined = RawMessage.objects.get(outcome=RawMessage.Outcome.QUARANTINED)
    assert bytes(quarantined.raw) == on_server
    assert len(on_server) >= len(eml("garbage.eml"))
    assert Inquiry.objects.get().subject == "Payment table for pump codes"
    assert all(STORED_KEYWORD in flags for flags in flags_by_uid(imap).values())


def test_done_folder_moves_stored_messages_and_deletes_nothing(imap, settings):
    with imap.client() as box:
        box.folder.create("Processed")
    settings.INQUIRIES_IMAP_DONE_FOLDER = "Processed"
    imap.deliver(eml("reply_to_differs.eml"))

    assert poll() == "1 new_ticket"

    with imap.client() as box:
        box.folder.set("Processed")
        moved = list(box.fetch(mark_seen=False))
        assert [m.subject for m in moved] == ["ASC rate for 62362"]
        assert STORED_KEYWORD in moved[0].flags and "\\Deleted" not in moved[0].flags
    assert poll() == "no new messages"


def test_fetching_alone_changes_no_flags(imap):
    imap.deliver(eml("html_only.eml"))
    with Mailbox() as box:
        (uid,) = box.pending_uids()
        assert box.fetch_raw(uid) == crlf(eml("html_only.eml"))
    assert flags_by_uid(imap) == {uid: set()}


def test_without_move_the_message_is_copied_to_the_done_folder_and_kept(imap, settings):
    """Servers without the MOVE extension: COPY, keyword kept on the original, nothing flagged deleted."""
    with imap.client() as box:
        box.folder.create("Processed")
    settings.INQUIRIES_IMAP_DONE_FOLDER = "Processed"
    imap.deliver(eml("html_only.eml"))
    with Mailbox() as box:
        box.box.client.capabilities = tuple(c for c in box.box.client.capabilities if c != "MOVE")
        (uid,) = box.pending_uids()
        box.mark_stored(uid)
        assert box.pending_uids() == []
    assert flags_by_uid(imap) == {uid: {STORED_KEYWORD}}
    with imap.client() as box:
        box.folder.set("Processed")
        assert [m.subject for m in box.fetch(mark_seen=False)] == ["Payment table for pump codes"]


def test_servers_without_keywords_fall_back_to_seen(imap):
    imap.deliver(eml("html_only.eml"))
    imap.deliver(eml("reply_to_differs.eml"))
    with Mailbox() as box:
        assert box.use_keyword  # Dovecot allows keywords (\* in PERMANENTFLAGS)
        box.use_keyword = False  # as on a server whose PERMANENTFLAGS lack \*
        first, second = box.pending_uids()
        box.mark_stored(first)
        assert box.marker == "\\Seen" and box.pending_uids() == [second]
    assert flags_by_uid(imap) == {first: {"\\Seen"}, second: set()}


def test_oauth2_access_token_logs_in_with_xoauth2(imap, settings):
    settings.INQUIRIES_IMAP_PASSWORD = ""
    settings.INQUIRIES_IMAP_OAUTH_TOKEN = servers.IMAP_OAUTH_TOKEN
    imap.deliver(eml("reply_to_differs.eml"))

    assert poll() == "1 new_ticket"
    assert "method=XOAUTH2" in (imap.root / "dovecot.log").read_text()


def test_wrong_password_is_a_clear_command_error(imap, settings):
    settings.INQUIRIES_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="cannot open INBOX"):
        poll()


# After a refused login Dovecot slows that client down for a few seconds: keep refusals last.
def test_expired_oauth2_token_is_a_clear_command_error(imap, settings):
    settings.INQUIRIES_IMAP_PASSWORD = ""
    settings.INQUIRIES_IMAP_OAUTH_TOKEN = "expired-token"
    with pytest.raises(CommandError, match="cannot open INBOX"):
        poll()
