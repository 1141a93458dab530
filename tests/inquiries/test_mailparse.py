"""mailparse on the real-world .eml corpus in tests/inquiries/emails/ (no database)."""

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inquiries import mailparse

EMAILS = Path(__file__).resolve().parent / "emails"
OURS = ["support@reimbursement.example.com"]
NEW_QUESTION_ID = "BN8PR04MB6210A1B2C3D4E5F6@BN8PR04MB6210.namprd04.prod.example.com"
OUR_REPLY_ID = "176.1042.1@reimbursement.example.com"


def parse(name: str) -> mailparse.ParsedMessage:
    return mailparse.parse((EMAILS / name).read_bytes(), own_addresses=OURS)


def attachments(parsed: mailparse.ParsedMessage) -> list[tuple[str, int]]:
    return [(a.filename, a.size) for a in parsed.attachments]


# file: (subject, from name, from address, text fragment, [(attachment name, size)])
CORPUS = {
    "new_question_outlook.eml": (
        "Coverage question: pump refill J2274 with G89.29",
        "Gonzalez, Maria",
        "maria.gonzalez@example.com",
        "billed J2274 for the morphine. The diagnosis is G89.29",
        [],
    ),
    "duplicate_redelivered.eml": (
        "Coverage question: pump refill J2274 with G89.29",
        "Gonzalez, Maria",
        "maria.gonzalez@example.com",
        "CPT 62362 was the implant last year",
        [],
    ),
    "messageid_reused.eml": ("ASC payment for 62362", "Peter Novak", "peter.novak@example.net", "what does an ASC get paid", []),
    "reply_in_reply_to_gmail.eml": (
        "Re: Coverage question: pump refill J2274 with G89.29 [RD-1042]",
        "Maria Gonzalez",
        "maria.gonzalez@example.com",
        "Thank you \u2014 that answers it. One follow-up: does the refill kit (A4220) pay separately?",
        [],
    ),
    "reply_subject_token_only.eml": (
        "Re: Coverage question: pump refill J2274 with G89.29 [RD-1042]",
        "Maria Gonzalez",
        "maria.gonzalez@example.com",
        "pump replacement, 62362 again",
        [],
    ),
    "outsider_quotes_token.eml": (
        "Fwd: Coverage question [RD-1042] - can you send me the answer too?",
        "Kevin Brandt",
        "kbrandt@example.org",
        "Please send me the reply you gave her.",
        [],
    ),
    "encoded_folded_headers.eml": (
        "Frage zur Abrechnung von 62362 f\u00fcr Schmerzpumpen \u2013 M\u00e4rz",
        "J\u00fcrgen M\u00fcller",
        "juergen.mueller@example.net",
        "Mit freundlichen Gr\u00fc\u00dfen",
        [],
    ),
    "rfc2231_filename.eml": (
        "Bescheid anbei",
        "J\u00fcrgen M\u00fcller",
        "juergen.mueller@example.net",
        "Den Bescheid finden Sie im Anhang.",
        [("Ablehnungsbescheid M\u00e4rz 2026 \u2013 Pumpe.pdf", 3000)],
    ),
    "charset_gb2312_mislabelled.eml": (
        "报销问题 J2274 镕",
        "王丽",
        "li.wang@example.com",
        "关于鞘内注射泵的报销问题：J2274 的支付金额是多少？镕",
        [],
    ),
    "charset_ks_c_5601.eml": ("수가 문의 62362", "김민준", "minjun.kim@example.com", "62362 수가 문의드립니다. 똠방각하", []),
    "charset_unknown_label.eml": (
        "Pregunta sobre el c\u00f3digo 62362",
        "Ana Ruiz",
        "ana.ruiz@example.org",
        "\u00bfCu\u00e1nto paga Medicare por el c\u00f3digo 62362 en 2026?",
        [],
    ),
    "charset_latin1_labelled_ascii.eml": (
        "Question about 62362",
        "Francois Lefevre",
        "f.lefevre@example.net",
        "la pompe implant\u00e9e co\u00fbte combien ? Merci beaucoup, Fran\u00e7ois Lef\u00e8vre",
        [],
    ),
    "eight_bit_headers.eml": (
        "Fr\u00e5ga om ers\u00e4ttning \u2013 62362 och J2274",
        "Zo\u00eb \u00c5ngstr\u00f6m",
        "zoe.angstrom@example.com",
        "Vad betalar Medicare f\u00f6r 62362?",
        [],
    ),
    "html_only.eml": (
        "Payment table for pump codes",
        "Priya Raman",
        "priya.raman@example.com",
        "Could you confirm these codes for our pain pump patients:\n\n  * 62362 implantation\n  * J2274 morphine",
        [],
    ),
    "related_inline_image.eml": (
        "Modifier question for 62362",
        "Olivia Chen",
        "olivia.chen@example.org",
        "Do we need modifier 58 on 62362 when the pump is replaced?\n\nOlivia Chen",
        [("logo.png", 1200)],
    ),
    "forward_attached_rfc822.eml": (
        "Fwd: Denied claim for J2274",
        "Laura Becker",
        "laura.becker@example.org",
        "Forwarding the physician's note below.",
        [("Denied claim for J2274.eml", 323)],
    ),
    "forward_inline_gmail.eml": (
        "Fwd: Question on G89.29 coding",
        "Rachel Kim",
        "rachel.kim@example.com",
        "Can you answer this one from our physician?",
        [],
    ),
    "forward_inline_outlook.eml": ("FW: refill billing", "Tom Walsh", "tom.walsh@example.org", "See below.", []),
    "forward_inline_outlook_365.eml": (
        "FW: Pump replacement billing 62362",
        "Grace Ito",
        "grace.ito@example.com",
        "Please advise on the question below.",
        [],
    ),
    "forward_inline_apple_mail.eml": (
        "Fwd: J2274 units",
        "Olivia Chen",
        "olivia.chen@example.org",
        "> How many units of J2274 do we bill for a 10 mg refill?",
        [],
    ),
    "tnef_winmail.eml": (
        "Denial letter J2274",
        "Greg Holt",
        "greg.holt@example.com",
        "Please see the attached denial letter for J2274.\nRegards, Greg Holt",
        [("Denial letter.pdf", 3000)],
    ),
    "smime_signed.eml": (
        "Signed: bundling 62362 and 62368",
        "Dana Whitfield",
        "dana.whitfield@example.org",
        "Signed question: is 62362 bundled with 62368 on the same day?",
        [("EOB.pdf", 4096), ("smime.p7s", 1563)],
    ),
    "smime_opaque.eml": (
        "Signed: bundling 62362 and 62368",
        "Dana Whitfield",
        "dana.whitfield@example.org",
        "Signed question: is 62362 bundled with 62368 on the same day?",
        [("smime.p7m", 7544), ("EOB.pdf", 4096)],
    ),
    "long_lines.eml": ("Remittance dump", "Hugo Bauer", "hugo.bauer@example.net", "62362:08999:$4,200.00 END", []),
    "missing_id_and_date.eml": ("Scanned EOB", "", "clinic-scanner@example.com", "Question about payment for J2274.", []),
    "malformed_id_and_date.eml": (
        "payment for G89.29 visits",
        "Bob Stone",
        "bob.stone@example.com",
        "What does Medicare pay for the visit?",
        [],
    ),
    "reply_to_differs.eml": (
        "ASC rate for 62362",
        "Sarah Lee",
        "sarah.lee@example.com",
        "Please answer to our shared billing address.",
        [],
    ),
    "attachments_mixed.eml": (
        "Files for our J2274 question",
        "Ian Fraser",
        "ian.fraser@example.org",
        "Attached: the EOB, our spreadsheet",
        [("EOB.pdf", 4096), ("claims 2026.xlsx", 2004), ("_CON.zip", 304), ("notes_v2_.txt", 26), ("attachment-5.jpg", 504)],
    ),
    "autoreply_rfc3834.eml": (
        "Re: Coverage question: pump refill J2274 with G89.29 [RD-1042]",
        "Maria Gonzalez",
        "maria.gonzalez@example.com",
        "I am away until December 14.",
        [],
    ),
    "autoreply_x_autoreply.eml": (
        "Away: Re: Pregunta [RD-1043]",
        "Ana Ruiz",
        "ana.ruiz@example.org",
        "Estoy fuera de la oficina",
        [],
    ),
    "autoreply_precedence_bulk.eml": (
        "[Ticket #99812] We received your message",
        "Helpdesk Robot",
        "noreply@example.net",
        "A member of our team will respond shortly.",
        [],
    ),
    "exchange_oof.eml": (
        "Automatic reply: refill billing [RD-1044]",
        "Walsh, Tom",
        "tom.walsh@example.org",
        "I am out of the office until Monday",
        [],
    ),
    "bounce_postfix_dsn.eml": (
        "Undelivered Mail Returned to Sender",
        "Mail Delivery System",
        "mailer-daemon@mx.reimbursement.example.com",
        "Recipient address rejected: User unknown",
        [("delivery-status.txt", 382), ("original-message.eml", 346)],
    ),
    "bounce_exchange_headers_only.eml": (
        "Undeliverable: Re: Question about 62362 [RD-1046]",
        "Microsoft Outlook",
        "postmaster@example.org",
        "Delivery has failed to these recipients or groups:\ngone.user@example.org",
        [("delivery-status.txt", 115), ("original-headers.txt", 222)],
    ),
    "bounce_exim_plain.eml": (
        "Mail delivery failed: returning message to sender",
        "Mail Delivery System",
        "mailer-daemon@mail.example.net",
        "mailbox is full: retry timeout exceeded",
        [],
    ),
    "read_receipt_mdn.eml": (
        "Read: Re: Coverage question: pump refill J2274 with G89.29 [RD-1042]",
        "Gonzalez, Maria",
        "maria.gonzalez@example.com",
        "was read on Thursday, December 3, 2026",
        [("disposition-notification.txt", 223)],
    ),
    "own_notification_loop.eml": (
        "Re: Coverage question: pump refill J2274 with G89.29 [RD-1042]",
        "Reimbursement Support",
        "support@reimbursement.example.com",
        "The 2026 allowed amount for J2274 depends on the units billed.",
        [],
    ),
}

AUTOMATED = {
    # file: (auto_reply, bounce, own_loop)
    "autoreply_rfc3834.eml": (True, False, False),
    "autoreply_x_autoreply.eml": (True, False, False),
    "autoreply_precedence_bulk.eml": (True, False, False),
    "exchange_oof.eml": (True, False, False),
    "bounce_postfix_dsn.eml": (True, True, False),
    "bounce_exchange_headers_only.eml": (True, True, False),
    "bounce_exim_plain.eml": (True, True, False),
    "own_notification_loop.eml": (False, False, True),
    "read_receipt_mdn.eml": (True, False, False),
}


def test_corpus_covers_every_file():
    """Every .eml in the corpus has expectations here (garbage.eml is the unparseable one)."""
    assert {p.name for p in EMAILS.glob("*.eml")} == set(CORPUS) | {"garbage.eml"}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_message_reads_subject_sender_body_and_attachments(name):
    subject, from_name, from_address, fragment, expected_attachments = CORPUS[name]
    parsed = parse(name)
    assert parsed.subject == subject
    assert (parsed.from_name, parsed.from_address) == (from_name, from_address)
    assert fragment in parsed.text
    assert attachments(parsed) == expected_attachments
    for attachment in parsed.attachments:
        assert attachment.size == len(attachment.data)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_message_flags(name):
    """Only the automated messages are flagged; people's mail never is."""
    parsed = parse(name)
    auto_reply, bounce, own_loop = AUTOMATED.get(name, (False, False, False))
    assert (parsed.auto_reply, parsed.bounce, parsed.own_loop) == (auto_reply, bounce, own_loop)
    assert parsed.automated == any((auto_reply, bounce, own_loop))
    assert bool(parsed.auto_reply_reason) == auto_reply


def test_garbage_raises_parse_error():
    with pytest.raises(mailparse.MessageParseError):
        parse("garbage.eml")


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n  "])
def test_empty_input_raises_parse_error(raw):
    with pytest.raises(mailparse.MessageParseError, match="empty"):
        mailparse.parse(raw, own_addresses=OURS)


def test_new_question_headers_and_sanitized_html():
    parsed = parse("new_question_outlook.eml")
    assert parsed.message_id == NEW_QUESTION_ID
    assert parsed.date == datetime(2026, 12, 1, 14, 5, 31, tzinfo=UTC)
    assert parsed.to == ["support@reimbursement.example.com"]
    assert parsed.in_reply_to == [] and parsed.references == []
    assert parsed.text_source == "text/plain"
    assert "What is the 2026 allowed amount for the refill in locality 01?" in parsed.text
    assert parsed.html.startswith("<div><p>Hello,</p>") and 'class="' not in parsed.html
    assert parsed.defects == []


def test_redelivered_copy_is_byte_identical_and_reused_id_is_a_different_message():
    original = (EMAILS / "new_question_outlook.eml").read_bytes()
    assert (EMAILS / "duplicate_redelivered.eml").read_bytes() == original
    reused = parse("messageid_reused.eml")
    assert reused.message_id == NEW_QUESTION_ID
    assert (EMAILS / "messageid_reused.eml").read_bytes() != original


def test_reply_threading_headers():
    parsed = parse("reply_in_reply_to_gmail.eml")
    assert parsed.in_reply_to == [OUR_REPLY_ID]
    assert parsed.references == [NEW_QUESTION_ID, OUR_REPLY_ID]
    assert parsed.thread_ids == [OUR_REPLY_ID, NEW_QUESTION_ID]
    assert mailparse.extract_ticket_token(parsed.subject) == 1042
    assert parsed.date == datetime(2026, 12, 3, 8, 41, 17, tzinfo=timezone(timedelta(hours=-8)))


def test_subject_token_only_reply_has_no_threading_headers():
    parsed = parse("reply_subject_token_only.eml")
    assert parsed.thread_ids == []
    assert mailparse.extract_ticket_token(parsed.subject) == 1042
    assert parsed.message_id == "8E1F0C2A-77B4-4C11-9E0B-3D2A1F6C9B10@example.com"


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("Re: question [RD-1042]", 1042),
        ("[rd-7] lower case", 7),
        ("RE: AW: [RD-12] and [RD-13]", 12),
        ("RD-1042 without brackets", None),
        ("[RD-] empty", None),
        ("", None),
    ],
)
def test_extract_ticket_token(subject, expected):
    assert mailparse.extract_ticket_token(subject) == expected


def test_reply_to_and_cc_are_kept_apart_from_the_sender():
    parsed = parse("reply_to_differs.eml")
    assert parsed.reply_to == ["billing@example.com"]
    assert parsed.reply_address == "billing@example.com"
    assert parsed.cc == ["mark.evans@example.com"]
    assert parsed.from_address == "sarah.lee@example.com"


def test_missing_and_malformed_message_id_and_date_are_none_with_defects():
    missing = parse("missing_id_and_date.eml")
    assert (missing.message_id, missing.date) == (None, None)
    assert {"missing Message-ID", "missing Date"} <= set(missing.defects)
    malformed = parse("malformed_id_and_date.eml")
    assert (malformed.message_id, malformed.date) == (None, None)
    assert {"malformed Message-ID", "malformed Date"} <= set(malformed.defects)


def test_html_only_mail_gives_structured_text_and_safe_html():
    parsed = parse("html_only.eml")
    assert parsed.text_source == "text/html"
    assert "Code   Billed\n62362  $4,200.00" in parsed.text
    assert "Priya & team" in parsed.text
    assert "alert" not in parsed.text and "color:red" not in parsed.text
    for unsafe in ("<script", "onload", "javascript:", "<style"):
        assert unsafe not in parsed.html
    assert '<a href="https://example.com/eob" rel="noopener noreferrer">our EOB</a>' in parsed.html
    assert "<table>" in parsed.html


def test_inline_image_keeps_content_id_for_the_html():
    parsed = parse("related_inline_image.eml")
    (logo,) = parsed.attachments
    assert (logo.content_id, logo.inline, logo.content_type) == ("logo-1@example.org", True, "image/png")
    assert logo.data.startswith(b"\x89PNG")
    assert 'src="cid:logo-1@example.org"' in parsed.html


def test_attached_forward_is_parsed_and_its_text_shown():
    parsed = parse("forward_attached_rfc822.eml")
    (forwarded,) = parsed.forwarded
    assert (forwarded.subject, forwarded.from_address) == ("Denied claim for J2274", "s.okafor@example.net")
    assert forwarded.message_id == "inner-denied-claim@example.net"
    assert forwarded.date == datetime(2026, 11, 23, 14, 15, tzinfo=UTC)
    assert "The MAC denied J2274 for the refill on 11/02." in forwarded.text
    assert "From: Dr. Samuel Okafor <s.okafor@example.net>\nSubject: Denied claim for J2274" in parsed.text
    assert parsed.attachments[0].content_type == "message/rfc822"
    assert parsed.attachments[0].data.startswith(b"From: Dr. Samuel Okafor")


@pytest.mark.parametrize(
    "name, sender, subject, text",
    [
        (
            "forward_inline_gmail.eml",
            ("Dr. Alan Price", "alan.price@example.net"),
            "Question on G89.29 coding",
            "Is G89.29 acceptable as primary diagnosis for the pump refill (J2274)?\n\nAlan",
        ),
        (
            "forward_inline_outlook.eml",
            ("Nina Patel", "nina.patel@example.net"),
            "refill billing",
            "How do we bill the refill when the pump is also reprogrammed (62368)?\n\nNina",
        ),
        (
            "forward_inline_outlook_365.eml",
            ("Dr. Hana Sato", "hana.sato@example.net"),
            "Pump replacement billing 62362",
            "We replaced the pump today. Do we bill 62362 and 62368 together?\n\nHana",
        ),
        (
            "forward_inline_apple_mail.eml",
            ("Ben Carter", "ben.carter@example.net"),
            "J2274 units",
            "How many units of J2274 do we bill for a 10 mg refill?\n\nBen",
        ),
    ],
)
def test_inline_forward_blocks_are_detected(name, sender, subject, text):
    parsed = parse(name)
    (forwarded,) = parsed.forwarded
    assert (forwarded.from_name, forwarded.from_address) == sender
    assert forwarded.subject == subject
    assert forwarded.text == text
    assert forwarded.date is None  # displayed dates without a zone are not guessed


def test_tnef_is_unpacked_into_body_and_files():
    parsed = parse("tnef_winmail.eml")
    assert parsed.text_source == "tnef"
    (letter,) = parsed.attachments
    assert letter.content_type == "application/pdf"
    assert letter.data.startswith(b"%PDF-1.4") and letter.data.endswith(b"%%EOF")
    assert not any(a.filename == "winmail.dat" for a in parsed.attachments)


def test_broken_tnef_is_kept_as_winmail_dat_with_a_defect():
    raw = (
        b"From: a@example.com\nSubject: rtf\nMessage-ID: <t@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\nhi\n--b\n'
        b'Content-Type: application/ms-tnef; name="winmail.dat"\nContent-Transfer-Encoding: base64\n\n'
        b"bm90IHRuZWY=\n--b--\n"
    )
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert attachments(parsed) == [("winmail.dat", 8)]
    assert any("winmail.dat could not be unpacked" in d for d in parsed.defects)


def test_smime_signature_is_kept_and_content_used():
    signed = parse("smime_signed.eml")
    assert signed.attachments[1].content_type == "application/x-pkcs7-signature"
    opaque = parse("smime_opaque.eml")
    assert opaque.attachments[1].data == signed.attachments[0].data  # the same EOB.pdf inside the signed blob
    assert not any("S/MIME" in d for d in opaque.defects)


def test_opaque_smime_that_cannot_be_read_is_kept_with_a_defect():
    raw = (
        b"From: a@example.com\nSubject: p7m\nMessage-ID: <p@example.com>\nMIME-Version: 1.0\n"
        b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\n'
        b"Content-Transfer-Encoding: base64\n\nMIIBAgMEBQYH\n"
    )
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert [a.filename for a in parsed.attachments] == ["smime.p7m"]
    assert any("S/MIME signed-data content could not be extracted" in d for d in parsed.defects)


def test_long_lines_are_kept_whole():
    parsed = parse("long_lines.eml")
    assert parsed.text.startswith("START 62362:00000:$4,200.00")
    assert len(parsed.text) == 198009


def test_attachment_names_are_made_safe_and_originals_kept():
    parsed = parse("attachments_mixed.eml")
    originals = [a.original_filename for a in parsed.attachments]
    assert originals == ["..\\..\\Windows\\EOB.pdf", "/etc/claims 2026.xlsx", "CON.zip", "notes\t<v2>.txt", ""]
    assert [a.content_type for a in parsed.attachments][-1] == "image/jpeg"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.pdf", "report.pdf"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ('what?<>:"|*.doc', "what_______.doc"),
        ("NUL", "_NUL"),
        ("com1.txt", "_com1.txt"),
        ("...", "attachment-1.pdf"),
        ("", "attachment-1.pdf"),
        (" .hidden ", "hidden"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_safe_filename(name, expected):
    assert mailparse.safe_filename(name, content_type="application/pdf") == expected


def test_read_receipt_is_automatic_and_no_forwarded_message():
    parsed = parse("read_receipt_mdn.eml")
    assert parsed.auto_reply_reason == "read receipt (message disposition notification)"
    assert parsed.forwarded == []
    assert parsed.in_reply_to == [OUR_REPLY_ID]


def test_auto_reply_reasons():
    assert parse("autoreply_rfc3834.eml").auto_reply_reason == "Auto-Submitted: auto-replied (vacation)"
    assert parse("autoreply_x_autoreply.eml").auto_reply_reason == "X-Autoreply header"
    assert parse("autoreply_precedence_bulk.eml").auto_reply_reason == "Precedence: bulk"
    assert parse("exchange_oof.eml").auto_reply_reason == "X-Auto-Response-Suppress: All"


def test_exchange_oof_detected_by_the_rules_loop_header_alone():
    raw = (EMAILS / "exchange_oof.eml").read_bytes().replace(b"X-Auto-Response-Suppress: All\r\n", b"")
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert parsed.auto_reply and "X-MS-Exchange-Inbox-Rules-Loop" in parsed.auto_reply_reason


@pytest.mark.parametrize(
    "name, original_ids, recipients",
    [
        ("bounce_postfix_dsn.eml", ["176.1045.2@reimbursement.example.com"], ["nobody@example.net"]),
        ("bounce_exchange_headers_only.eml", ["176.1046.3@reimbursement.example.com"], ["gone.user@example.org"]),
        ("bounce_exim_plain.eml", ["176.1047.1@reimbursement.example.com"], ["old.address@example.net"]),
    ],
)
def test_bounces_name_the_original_message_and_failed_recipient(name, original_ids, recipients):
    parsed = parse(name)
    assert parsed.bounce
    assert parsed.bounce_original_message_ids == original_ids
    assert parsed.bounce_recipients == recipients
    assert not parsed.own_loop  # the bounced copy of our mail is not our mail coming back


def test_own_loop_by_header_by_message_id_domain_and_by_sender():
    assert parse("own_notification_loop.eml").own_loop
    raw = (EMAILS / "own_notification_loop.eml").read_bytes().replace(b"X-Loop: reimbursement-desk\n", b"")
    assert mailparse.parse(raw, own_addresses=OURS).own_loop  # Message-ID in our domain
    other = (EMAILS / "reply_subject_token_only.eml").read_bytes()
    assert not mailparse.parse(other, own_addresses=OURS).own_loop
    assert mailparse.parse(other, own_addresses=["maria.gonzalez@example.com"]).own_loop


def test_agent_forward_with_a_message_id_in_our_domain_is_not_our_own_mail():
    """Thunderbird names Message-IDs after the sender's domain; only make_msgid-shaped ids are ours."""
    raw = (
        b"From: Agent Smith <agent.smith@reimbursement.example.com>\nTo: support@reimbursement.example.com\n"
        b"Subject: Fwd: question from a clinic\nMessage-ID: <3f2a9c1e-77b4-4c11-9e0b-3d2a1f6c9b10@reimbursement.example.com>\n"
        b"\nForwarding on the clinic's behalf.\n"
    )
    assert not mailparse.parse(raw, own_addresses=OURS).own_loop


def test_own_addresses_default_to_settings(settings):
    settings.INQUIRIES_FROM_EMAIL = "help@desk.example.net"
    raw = (EMAILS / "reply_subject_token_only.eml").read_bytes()
    raw = raw.replace(b"8E1F0C2A-77B4-4C11-9E0B-3D2A1F6C9B10@example.com", b"176.99.1@desk.example.net")
    assert mailparse.parse(raw).own_loop


RUSSIAN = "Здравствуйте! У нас вопрос о возмещении за имплантацию помпы. Сколько платит Medicare по коду 62362?"


@pytest.mark.parametrize(
    "data, charset, expected",
    [
        ("naïve".encode(), "utf-8", "naïve"),
        ("镕".encode("gbk"), "gb2312", "镕"),
        ("똠".encode("cp949"), "ks_c_5601-1987", "똠"),
        ("€100".encode("cp1252"), "iso-8859-1", "€100"),
        ("café".encode(), "no-such-charset", "café"),
        ("café".encode("cp1252"), "us-ascii", "café"),
        (RUSSIAN.encode("koi8-r"), None, RUSSIAN),  # unlabelled: charset-normalizer detects it
        (b"\x81\x8d\x8f", None, "\ufffd\ufffd\ufffd"),
    ],
)
def test_decode_bytes_fallback_chain(data, charset, expected):
    assert mailparse.decode_bytes(data, charset) == expected


def test_raw_8bit_latin1_header_falls_back_without_crashing():
    raw = "From: Zoë <zoe@example.com>\nSubject: Grüße\nMessage-ID: <x@example.com>\n\nbody\n".encode("cp1252")
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert parsed.subject == "Grüße" and parsed.from_name == "Zoë"


def test_parse_accepts_only_bytes():
    with pytest.raises(TypeError):
        mailparse.parse("From: a@example.com\n\nhi")  # type: ignore[arg-type]


def test_loop_header_constant_is_what_mail_sets():
    assert mailparse.LOOP_HEADER == ("X-Loop", "reimbursement-desk")
    assert mailparse.TOKEN_PREFIX == "RD"


CORPUS_BYTES = sorted(EMAILS.glob("*.eml"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CORPUS_BYTES),
    cut=st.integers(min_value=0, max_value=20_000),
    flips=st.lists(st.tuples(st.integers(min_value=0, max_value=20_000), st.integers(min_value=0, max_value=255)), max_size=8),
)
def test_damaged_mail_never_crashes_the_parser(name, cut, flips):
    """Truncated or corrupted mail either parses or raises MessageParseError: never anything else."""
    raw = bytearray(name.read_bytes()[: max(cut, 1)])
    for position, value in flips:
        if raw:
            raw[position % len(raw)] = value
    try:
        parsed = mailparse.parse(bytes(raw), own_addresses=OURS)
    except mailparse.MessageParseError:
        return
    assert isinstance(parsed.text, str) and isinstance(parsed.subject, str)
    assert all(a.size == len(a.data) for a in parsed.attachments)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(min_size=1, max_size=2_000))
def test_arbitrary_bytes_never_crash_the_parser(raw):
    with contextlib.suppress(mailparse.MessageParseError):
        mailparse.parse(raw, own_addresses=OURS)


def test_group_syntax_and_bare_names_are_not_recipients():
    raw = (
        b"From: Front Desk Scanner\nTo: undisclosed-recipients:;\nCc: Dr. X <x@example.com>, x@example.com, Nobody\n"
        b"Reply-To: <>\nSubject: scan\nMessage-ID: <g@example.com>\n\nscan attached\n"
    )
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert (parsed.from_name, parsed.from_address) == ("Front Desk Scanner", "")
    assert (parsed.to, parsed.cc, parsed.reply_to) == ([], ["x@example.com"], [])
    assert parsed.reply_address == ""


def test_delivery_status_attachment_keeps_every_block():
    parsed = parse("bounce_postfix_dsn.eml")
    report = parsed.attachments[0].data.decode()
    assert report.startswith("Reporting-MTA: dns; mx.reimbursement.example.com")
    assert "Final-Recipient: rfc822; nobody@example.net" in report and "Status: 5.1.1" in report


def test_header_the_modern_policy_chokes_on_falls_back_to_compat32():
    """policy.default raises IndexError on 'boundary*'; the message is still read, with a defect saying so."""
    raw = (
        b"From: Broken Mailer <bm@example.com>\nSubject: odd header\nMessage-ID: <odd@example.com>\n"
        b"Content-Type: multipart/mixed; boundary*\n\n--a\n\nQuestion about 62362\n"
    )
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert (parsed.subject, parsed.from_address, parsed.message_id) == ("odd header", "bm@example.com", "odd@example.com")
    assert "Question about 62362" in parsed.text
    assert parsed.defects[0] == "modern e-mail policy failed (IndexError); parsed with compat32"


def test_html_too_deep_for_lxml_still_gives_text():
    html = "<style>p{}</style>" + "<div>" * 5000 + "Is 62362 covered? &amp; thanks" + "</div>" * 5000
    raw = b"From: a@example.com\nSubject: deep\nMessage-ID: <d@example.com>\nContent-Type: text/html\n\n" + html.encode()
    parsed = mailparse.parse(raw, own_addresses=OURS)
    assert parsed.text == "Is 62362 covered? & thanks"


def test_html_only_outlook_forward_is_detected_from_its_header_block():
    raw = (EMAILS / "forward_inline_outlook_365.eml").read_bytes()
    head, _, rest = raw.partition(b"\r\n\r\n")
    html_part = rest.split(b"--_000_SA1PR02MB8888FWD365_")[2]  # the text/html part, headers included
    html_only = head.replace(b'multipart/alternative;\r\n\tboundary="_000_SA1PR02MB8888FWD365_"', b"")
    html_only = html_only.replace(b"Content-Type: \r\n", b"") + html_part.rstrip(b"\r\n-")
    parsed = mailparse.parse(html_only, own_addresses=OURS)
    assert parsed.text_source == "text/html"
    (forwarded,) = parsed.forwarded
    assert (forwarded.from_address, forwarded.subject) == ("hana.sato@example.net", "Pump replacement billing 62362")
    assert forwarded.text.startswith("We replaced the pump today.")


def test_outlook_reply_quoting_the_original_is_not_a_forward():
    raw = (
        b"From: Tom Walsh <tom.walsh@example.org>\nTo: support@reimbursement.example.com\nSubject: RE: refill billing\n"
        b"Message-ID: <re-1@example.org>\n\nThanks!\n\nFrom: Support <support@reimbursement.example.com>\n"
        b"Sent: Tuesday, November 24, 2026 3:00 PM\nSubject: refill billing\n\nHere is the answer.\n"
    )
    assert mailparse.parse(raw, own_addresses=OURS).forwarded == []
