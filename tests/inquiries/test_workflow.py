"""inquiries/workflow.py: transitions, SLA, assignment, replies by e-mail after commit, notes, canned responses, codes."""

import datetime
import email
from email import policy
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from codes import pricing
from codes.importers import registry
from codes.models import Code
from inquiries import code_links, ingest, mail, mailparse, workflow
from inquiries.models import CodeLink, Inquiry, InquiryEvent, Message, ViewLog
from tests.codes.test_fee_importers import PPRRVU_SMALL, ensure_conversion_factors, gpci_workbook
from tests.factories import CannedResponseFactory, InquiryFactory
from tests.inquiries.conftest import NEW_QUESTION_ID, eml

S = Inquiry.Status
CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (
            datetime.datetime(2026, 12, 4, 15, 0, tzinfo=CHICAGO),
            2,
            datetime.datetime(2026, 12, 8, 15, 0, tzinfo=CHICAGO),
        ),  # Fri -> Tue
        (
            datetime.datetime(2026, 12, 1, 9, 30, tzinfo=CHICAGO),
            2,
            datetime.datetime(2026, 12, 3, 9, 30, tzinfo=CHICAGO),
        ),  # Tue -> Thu
        (
            datetime.datetime(2026, 12, 5, 22, 0, tzinfo=CHICAGO),
            1,
            datetime.datetime(2026, 12, 8, 9, 0, tzinfo=CHICAGO),
        ),  # Sat -> Mon 9:00 + 1
        (
            datetime.datetime(2026, 12, 3, 12, 0, tzinfo=CHICAGO),
            5,
            datetime.datetime(2026, 12, 10, 12, 0, tzinfo=CHICAGO),
        ),  # a week
    ],
)
def test_due_date_counts_business_days_only(start, days, due):
    assert workflow.add_business_days(start, days) == due


@pytest.mark.django_db
def test_new_inquiry_is_due_after_the_configured_sla(settings):
    settings.INQUIRIES_SLA_BUSINESS_DAYS = 3
    at = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=CHICAGO)  # Tuesday

    inquiry = workflow.create_inquiry(subject="Q", provider_name="", provider_email="a@example.com", participants=[], at=at)

    assert inquiry.due_at == datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHICAGO)
    assert inquiry.events.get().kind == InquiryEvent.Kind.CREATED


ALL_PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), ALL_PAIRS)
def test_transitions_follow_the_table(agent_user, old, new):
    inquiry = InquiryFactory(status=old)
    if new in workflow.ALLOWED_TRANSITIONS[old]:
        workflow.transition(inquiry, to=new, by=agent_user)
        inquiry.refresh_from_db()
        assert inquiry.status == new
        event = inquiry.events.get(kind="status")
        assert (event.actor, event.data["from"], event.data["to"]) == (agent_user, old, new)
    else:
        with pytest.raises(workflow.WorkflowError):
            workflow.transition(inquiry, to=new, by=agent_user)
        inquiry.refresh_from_db()
        assert inquiry.status == old and not inquiry.events.exists()


def test_the_happy_path_is_allowed_end_to_end():
    path = [S.NEW, S.OPEN, S.WAITING, S.RESOLVED, S.CLOSED]
    assert all(b in workflow.ALLOWED_TRANSITIONS[a] for a, b in zip(path, path[1:], strict=False))


@pytest.mark.django_db
def test_resolve_and_reopen_stamp_and_clear_the_resolution_time(agent_user):
    inquiry = InquiryFactory(status=S.WAITING)
    workflow.resolve(inquiry, by=agent_user)
    assert inquiry.resolved_at is not None
    workflow.reopen(inquiry, by=agent_user, reason="provider called")
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.resolved_at) == (S.OPEN, None)
    assert inquiry.events.filter(kind="status", data__reason="provider called").exists()


@pytest.mark.django_db
def test_assigning_a_new_inquiry_opens_it_and_is_recorded(agent_user):
    inquiry = InquiryFactory()

    workflow.assign(inquiry, to=agent_user, by=agent_user)

    inquiry.refresh_from_db()
    assert (inquiry.assignee, inquiry.status) == (agent_user, S.OPEN)
    assert list(inquiry.events.values_list("kind", flat=True)) == ["assigned", "status"]


@pytest.mark.django_db
def test_only_agents_can_be_assigned(agent_user, team_user):
    with pytest.raises(workflow.WorkflowError):
        workflow.assign(InquiryFactory(), to=team_user, by=agent_user)


@pytest.mark.django_db
def test_priority_and_due_changes_are_recorded(agent_user):
    inquiry = InquiryFactory()
    due = datetime.datetime(2026, 12, 24, 12, 0, tzinfo=CHICAGO)
    workflow.set_priority(inquiry, priority=Inquiry.Priority.URGENT, by=agent_user)
    workflow.set_due(inquiry, due_at=due, by=agent_user)
    inquiry.refresh_from_db()
    assert (inquiry.priority, inquiry.due_at) == (4, due)
    assert inquiry.events.get(kind="priority").data == {"from": 2, "to": 4}
    with pytest.raises(workflow.WorkflowError):
        workflow.set_priority(inquiry, priority=9, by=agent_user)


@pytest.mark.django_db
def test_overdue_means_past_due_on_the_desks_side():
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    late = InquiryFactory(status=S.OPEN, due_at=past)
    InquiryFactory(status=S.WAITING, due_at=past)  # waiting on the provider pauses the SLA
    InquiryFactory(status=S.RESOLVED, due_at=past)
    InquiryFactory(status=S.NEW, due_at=datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC))

    assert list(Inquiry.objects.overdue()) == [late]
    assert late.is_overdue


def _sent(mailoutbox):
    (sent,) = mailoutbox
    return email.message_from_bytes(sent.message().as_bytes(), policy=policy.default)


@pytest.mark.django_db
def test_reply_is_mailed_after_commit_with_threading_headers(agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry

    with django_capture_on_commit_callbacks(execute=True):
        message = workflow.reply(inquiry, body="The refill is billed with 95990.", by=agent_user)
        assert mailoutbox == []  # nothing leaves before the commit

    sent = _sent(mailoutbox)
    assert sent["Message-ID"].strip() == f"<{message.message_id}>"
    assert message.message_id.endswith("@reimbursement.example.com")
    assert sent["In-Reply-To"].strip() == f"<{NEW_QUESTION_ID}>"
    assert sent["References"].strip() == f"<{NEW_QUESTION_ID}>"
    assert sent[mailparse.LOOP_HEADER[0]] == mailparse.LOOP_HEADER[1]
    assert "Auto-Submitted" not in sent  # an agent's reply is written by a person
    assert sent["Subject"] == f"Re: Coverage question: pump refill J2274 with G89.29 [{inquiry.reference}]"
    assert sent["To"] == "maria.gonzalez@example.com"
    body = sent.get_content()
    assert "The refill is billed with 95990." in body and mail.DISCLAIMER in body.replace("\n", " ")
    inquiry.refresh_from_db()
    assert inquiry.status == S.WAITING and inquiry.first_response_at is not None
    assert f"<{message.message_id}>".encode() in bytes(message.raw_message.raw)  # what we sent is kept


@pytest.mark.django_db
def test_a_rolled_back_reply_is_never_sent(agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = InquiryFactory()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        workflow.reply(inquiry, body="Hello", by=agent_user)
        raise RuntimeError("something failed later in the request")
    assert mailoutbox == []
    assert not Message.objects.filter(direction="out").exists()


@pytest.mark.django_db
def test_the_provider_answering_our_reply_threads_and_reopens(agent_user, django_capture_on_commit_callbacks, mailoutbox):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry
    with django_capture_on_commit_callbacks(execute=True):
        ours = workflow.reply(inquiry, body="Answer", by=agent_user, resolve_after=True)
    assert Inquiry.objects.get(pk=inquiry.pk).status == S.RESOLVED
    answer = (
        f"From: Maria Gonzalez <maria.gonzalez@example.com>\r\nTo: support@reimbursement.example.com\r\n"
        f"Subject: Re: Coverage question\r\nMessage-ID: <followup-1@example.com>\r\nIn-Reply-To: <{ours.message_id}>\r\n"
        f"References: <{NEW_QUESTION_ID}> <{ours.message_id}>\r\n\r\nOne more question.\r\n"
    ).encode()

    result = ingest.receive(answer)

    assert (result.outcome, result.inquiry) == ("reply", inquiry)
    assert Inquiry.objects.get(pk=inquiry.pk).status == S.OPEN


@pytest.mark.django_db
def test_a_reply_that_cannot_be_sent_is_recorded_on_the_ticket(agent_user, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens on discard
    inquiry = InquiryFactory()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.reply(inquiry, body="Hello", by=agent_user)

    failure = inquiry.events.get(kind=InquiryEvent.Kind.MAIL_FAILED)
    assert failure.data["error"]


@pytest.mark.django_db
def test_notes_are_internal_and_never_mailed(agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = InquiryFactory()
    with django_capture_on_commit_callbacks(execute=True):
        note = workflow.add_note(inquiry, body="Called the MAC, waiting on callback.", by=agent_user)
    assert (note.direction, note.is_public) == ("note", False)
    assert mailoutbox == []
    assert Inquiry.objects.get(pk=inquiry.pk).status == S.NEW
    with pytest.raises(workflow.WorkflowError):
        workflow.add_note(inquiry, body="  ", by=agent_user)


@pytest.mark.django_db
def test_replies_go_to_added_participants_too(agent_user):
    inquiry = InquiryFactory(provider_email="billing@example.com")
    workflow.add_participant(inquiry, email="Office.Manager@example.com", by=agent_user)
    assert workflow.recipients(inquiry) == ["billing@example.com", "office.manager@example.com"]
    workflow.remove_participant(inquiry, email="office.manager@example.com", by=agent_user)
    assert workflow.recipients(inquiry) == ["billing@example.com"]
    assert [e.kind for e in inquiry.events.all()] == ["participant_added", "participant_removed"]


@pytest.fixture
def catalog(db):
    """The three codes new_question_outlook.eml asks about, as the catalog stores them."""
    return [
        Code.objects.create(system="icd10cm", code="G8929", short_description="Other chronic pain"),
        Code.objects.create(system="hcpcs", code="J2274", short_description="Inj morphine pf epid/it 10mg"),
        Code.objects.create(system="cpt", code="62362", short_description="Implant spine infusion pump"),
    ]


@pytest.mark.django_db
def test_codes_in_the_question_are_detected_and_linked(catalog):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry

    linked = set(inquiry.code_links.values_list("system", "code", "origin"))

    assert linked == {("icd10cm", "G8929", "detected"), ("hcpcs", "J2274", "detected"), ("cpt", "62362", "detected")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dx G89.29 and g8929", {("icd10cm", "G8929"), ("hcpcs", "G8929")}),  # undotted, it could be either
        ("zip 60601, CPT 62362", {("cpt", "60601"), ("cpt", "62362")}),
        ("J2274 x 10", {("hcpcs", "J2274"), ("icd10cm", "J2274")}),
        ("category III 0627T", {("cpt", "0627T")}),
        ("no codes here, version 1.2.3", set()),
    ],
)
def test_code_candidates_come_from_patterns_only(text, expected):
    assert code_links.candidates(text) == expected


@pytest.mark.django_db
def test_candidates_the_catalog_does_not_know_are_not_linked(catalog):
    assert code_links.detect("Our office ZIP is 60601; we billed 62362 with G89.29") == [("cpt", "62362"), ("icd10cm", "G8929")]


@pytest.mark.django_db
def test_agents_link_and_unlink_codes(agent_user, catalog):
    inquiry = InquiryFactory()
    link = workflow.link_code(inquiry, system="icd10cm", code="g89.29", by=agent_user)
    assert (link.code, link.origin) == ("G8929", CodeLink.Origin.AGENT)
    with pytest.raises(workflow.WorkflowError):
        workflow.link_code(inquiry, system="cpt", code="99999", by=agent_user)
    workflow.unlink_code(inquiry, link_id=link.pk, by=agent_user)
    assert not inquiry.code_links.exists()
    assert [e.kind for e in inquiry.events.all()] == ["code_linked", "code_unlinked"]


@pytest.mark.django_db
def test_canned_response_fills_in_provider_codes_and_figures(agent_user, catalog):
    agent_user.first_name, agent_user.last_name = "Dana", "Reyes"
    inquiry = InquiryFactory(provider_name="Maria Gonzalez")
    CodeLink.objects.create(inquiry=inquiry, system="cpt", code="62362")
    canned = CannedResponseFactory(
        body="Dear {provider_name},\nabout {codes} ({reference}):\n{figures}\n{unknown} stays.\n{agent_name}"
    )

    text = workflow.render_canned(canned, inquiry=inquiry, agent=agent_user)

    assert text.startswith(f"Dear Maria Gonzalez,\nabout CPT 62362 ({inquiry.reference}):\nCPT 62362: ")
    assert "{unknown} stays." in text and text.endswith("Dana Reyes")


@pytest.mark.django_db
def test_an_agent_cannot_write_to_an_unknown_status(agent_user):
    with pytest.raises(workflow.WorkflowError):
        workflow.transition(InquiryFactory(), to="archived", by=agent_user)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Gonzalez, Maria", "Maria Gonzalez"),
        ("  Gonzalez,   Maria  ", "Maria Gonzalez"),
        ("Gonzalez, Maria, CPC", "Maria Gonzalez, CPC"),
        ("Maria Gonzalez", "Maria Gonzalez"),
        ("Gonzalez, MD", "Gonzalez, MD"),  # a credential after the comma is not a given name
        ("billing@example.com", "billing@example.com"),
        ("", ""),
    ],
)
def test_provider_names_are_put_in_speaking_order(name, expected):
    assert mail.natural_name(name) == expected


@pytest.mark.django_db
def test_canned_reply_greets_by_name_and_signs_as_the_team_for_an_agent_without_a_name(agent_user):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry  # From: "Gonzalez, Maria"
    canned = CannedResponseFactory(body="Dear {provider_name},\n\nThanks.\n\n{agent_name}")
    assert inquiry.provider_name == "Gonzalez, Maria" and not agent_user.get_full_name()

    text = workflow.render_canned(canned, inquiry=inquiry, agent=agent_user)

    assert text == "Dear Maria Gonzalez,\n\nThanks.\n\nThe Reimbursement Desk team"


@pytest.mark.django_db
def test_reply_is_signed_with_the_agents_full_name_or_the_team(agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry
    with django_capture_on_commit_callbacks(execute=True):
        workflow.reply(inquiry, body="First answer.", by=agent_user)
    agent_user.first_name, agent_user.last_name = "Alex", "Moreno"
    with django_capture_on_commit_callbacks(execute=True):
        workflow.reply(inquiry, body="Second answer.", by=agent_user)

    first, second = (sent.body for sent in mailoutbox)
    assert first.startswith("First answer.\n\nThe Reimbursement Desk team\n\nReference: ")
    assert agent_user.username not in first
    assert second.startswith("Second answer.\n\nAlex Moreno\nReimbursement Desk\n\nReference: ")


@pytest.mark.django_db
def test_figures_name_the_cms_files_and_leave_out_diagnosis_codes(tmp_path):
    ensure_conversion_factors()
    registry.run_import([PPRRVU_SMALL, gpci_workbook(tmp_path / "GPCI2024.xlsx")])
    Code.objects.get_or_create(system="icd10cm", code="G8929")
    inquiry = InquiryFactory()
    CodeLink.objects.create(inquiry=inquiry, system="cpt", code="62362")
    CodeLink.objects.create(inquiry=inquiry, system="icd10cm", code="G8929")
    (row,) = pricing.physician_payments(["62362"])["62362"]

    text = code_links.figures_text(inquiry, today=datetime.date(2026, 12, 3))

    assert text == (
        "2024 Medicare national average (CMS January 2024 files, the latest loaded); "
        "2026 amounts are not loaded yet and may differ:\n"
        f"CPT 62362: physician facility {pricing.dollars(row.facility_amount)}"
    )
    assert row.facility_amount == pricing.round_dollars(row.facility_amount) and row.facility_amount > 0
    assert code_links.figures_text(inquiry, today=datetime.date(2024, 3, 1)).startswith(
        "2024 Medicare national average (CMS January 2024 files, the latest loaded):\n"
    )
    CodeLink.objects.filter(system="cpt").delete()
    assert code_links.figures_text(inquiry) == "(no procedure or supply codes linked)"


@pytest.mark.django_db
def test_replying_to_an_unassigned_inquiry_makes_the_agent_its_assignee(agent_user, superuser):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry
    assert inquiry.assignee is None

    workflow.reply(inquiry, body="Bill 95990.", by=agent_user)

    inquiry.refresh_from_db()
    assert inquiry.assignee == agent_user
    claimed = inquiry.events.get(kind=InquiryEvent.Kind.ASSIGNED)
    assert (claimed.actor, claimed.data["to"], claimed.data["reason"]) == (agent_user, agent_user.pk, "replied")
    workflow.reply(inquiry, body="And 95991 for the other visit.", by=superuser)
    inquiry.refresh_from_db()
    assert inquiry.assignee == agent_user  # an assigned ticket keeps its assignee
    assert inquiry.events.filter(kind=InquiryEvent.Kind.ASSIGNED).count() == 1


@pytest.mark.django_db
def test_resolving_an_unassigned_inquiry_makes_the_agent_its_assignee(agent_user):
    inquiry = InquiryFactory()

    workflow.resolve(inquiry, by=agent_user)

    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.assignee) == (S.RESOLVED, agent_user)
    assert list(inquiry.events.values_list("kind", "data__reason")) == [("status", None), ("assigned", "resolved")]


@pytest.mark.django_db
def test_views_are_all_logged_and_summarised_per_user(agent_user, superuser):
    inquiry = InquiryFactory()
    for _ in range(7):
        workflow.log_view(inquiry, user=agent_user, via=ViewLog.Via.PAGE)
    workflow.log_view(inquiry, user=superuser, via=ViewLog.Via.API)

    summary = workflow.view_summary(inquiry)

    assert ViewLog.objects.filter(inquiry=inquiry).count() == 8
    assert [(row["user"], row["count"]) for row in summary] == [(superuser, 1), (agent_user, 7)]
    assert summary[1]["last"] == ViewLog.objects.filter(user=agent_user).latest("at").at
