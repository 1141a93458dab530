"""Agents' pages (queue, ticket, quarantine, dashboard) and the public question form."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from codes.models import Code
from inquiries import ask, charts, ingest, stats
from inquiries.models import CodeLink, Inquiry, InquiryEvent, Message, RawMessage, ViewLog
from tests.factories import PASSWORD, CannedResponseFactory, InquiryFactory
from tests.inquiries.conftest import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent_user):
    client.login(username=agent_user.username, password=PASSWORD)
    return client


def test_queue_lists_active_inquiries_by_default(agent_client):
    InquiryFactory(subject="Pump refill question")
    InquiryFactory(subject="Old closed question", status=Inquiry.Status.CLOSED)

    html = agent_client.get("/inquiries/").content.decode()

    assert "Pump refill question" in html and "Old closed question" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=closed", {"closed one"}),
        ("status=&overdue=true", {"late one"}),
        ("status=&q=morphine", {"mentions morphine"}),
        ("status=&code=g89.29", {"about G89.29"}),
        ("status=&assignee=", {"late one", "mentions morphine", "about G89.29", "closed one", "mine"}),
        ("status=&priority=4", {"mine"}),
    ],
)
def test_queue_filters(agent_client, agent_user, query, expected):
    InquiryFactory(subject="late one", status=Inquiry.Status.OPEN, due_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    morphine = InquiryFactory(subject="mentions morphine")
    Message.objects.create(inquiry=morphine, direction="in", text="Is intrathecal morphine J2274 separately payable?")
    coded = InquiryFactory(subject="about G89.29")
    CodeLink.objects.create(inquiry=coded, system="icd10cm", code="G8929")
    InquiryFactory(subject="closed one", status=Inquiry.Status.CLOSED)
    InquiryFactory(subject="mine", assignee=agent_user, priority=4)

    response = agent_client.get(f"/inquiries/?{query}")

    shown = {i.subject for i in response.context["page_obj"]}
    assert shown == expected


def test_queue_filters_by_assignee(agent_client, agent_user):
    InquiryFactory(subject="mine", assignee=agent_user)
    InquiryFactory(subject="nobody's")

    mine = agent_client.get(f"/inquiries/?assignee={agent_user.pk}").context["page_obj"]
    unassigned = agent_client.get("/inquiries/?assignee=null").context["page_obj"]

    assert [i.subject for i in mine] == ["mine"] and [i.subject for i in unassigned] == ["nobody's"]


def test_ticket_page_shows_thread_attachments_and_logs_the_view(agent_client, agent_user):
    result = ingest.receive(eml("attachments_mixed.eml"))

    response = agent_client.get(f"/inquiries/{result.inquiry.pk}/")

    html = response.content.decode()
    assert "Files for our J2274 question" in html
    assert "Attached: the EOB, our spreadsheet" in html
    for name in ("EOB.pdf", "claims 2026.xlsx", "notes_v2_.txt"):
        assert name in html
    assert ViewLog.objects.filter(inquiry=result.inquiry, user=agent_user, via="page").count() == 1


def test_ticket_page_escapes_whatever_the_mail_contained(agent_client):
    result = ingest.receive(eml("html_only.eml"))

    html = agent_client.get(f"/inquiries/{result.inquiry.pk}/").content.decode()

    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]


def test_canned_response_is_inserted_into_the_reply_box(agent_client):
    inquiry = InquiryFactory(provider_name="Maria Gonzalez")
    canned = CannedResponseFactory(title="Thanks", body="Dear {provider_name}, thank you ({reference}).")

    response = agent_client.get(f"/inquiries/{inquiry.pk}/?canned={canned.pk}")

    assert response.context["reply_form"].initial["body"] == f"Dear Maria Gonzalez, thank you ({inquiry.reference})."


def test_the_page_script_gets_the_canned_text_alone_to_add_to_a_draft(agent_client):
    inquiry = InquiryFactory(provider_name="Maria Gonzalez")
    canned = CannedResponseFactory(title="Thanks", body="Dear {provider_name}, thank you ({reference}).")

    response = agent_client.get(f"/inquiries/{inquiry.pk}/", {"canned": canned.pk}, headers={"X-Canned-Text": "1"})

    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == f"Dear Maria Gonzalez, thank you ({inquiry.reference})."
    assert inquiry.views.count() == 1  # still a logged view of the ticket


def test_reply_note_and_resolve_through_the_page(agent_client, agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(f"/inquiries/{inquiry.pk}/reply/", {"body": "Bill 95990 for the refill."})
    agent_client.post(f"/inquiries/{inquiry.pk}/note/", {"body": "Checked the LCD."})
    agent_client.post(f"/inquiries/{inquiry.pk}/status/", {"status": "resolved"})

    assert response.status_code == 302 and response["Location"] == f"/inquiries/{inquiry.pk}/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["maria.gonzalez@example.com"]
    inquiry.refresh_from_db()
    assert inquiry.status == Inquiry.Status.RESOLVED
    assert list(inquiry.messages.values_list("direction", flat=True)) == ["in", "out", "note"]
    assert inquiry.events.filter(actor=agent_user, kind=InquiryEvent.Kind.REPLIED).exists()


def test_a_forbidden_transition_is_a_message_not_an_error(agent_client):
    inquiry = InquiryFactory(status=Inquiry.Status.CLOSED)

    response = agent_client.post(f"/inquiries/{inquiry.pk}/status/", {"status": "resolved"}, follow=True)

    assert response.status_code == 200
    assert "cannot become Resolved" in response.content.decode()
    assert Inquiry.objects.get(pk=inquiry.pk).status == Inquiry.Status.CLOSED


def test_invalid_action_input_is_reported(agent_client):
    inquiry = InquiryFactory()
    response = agent_client.post(f"/inquiries/{inquiry.pk}/priority/", {"priority": "9"}, follow=True)
    assert "Not saved" in response.content.decode()
    assert agent_client.post(f"/inquiries/{inquiry.pk}/explode/").status_code == 404
    assert agent_client.get(f"/inquiries/{inquiry.pk}/reply/").status_code == 405


def test_agent_links_and_removes_a_code_on_the_page(agent_client):
    Code.objects.create(system="cpt", code="62362", short_description="Implant spine infusion pump")
    inquiry = InquiryFactory()

    agent_client.post(f"/inquiries/{inquiry.pk}/link_code/", {"system": "cpt", "code": "62362"})
    html = agent_client.get(f"/inquiries/{inquiry.pk}/").content.decode()
    link = inquiry.code_links.get()
    agent_client.post(f"/inquiries/{inquiry.pk}/codes/{link.pk}/remove/")

    assert "CPT 62362" in html and "Implant spine infusion pump" in html
    assert 'href="/codes/cpt/62362/"' in html  # the code's catalog page
    assert not inquiry.code_links.exists()


def test_quarantine_lists_unreadable_mail_until_dealt_with(agent_client):
    stored = ingest.receive(eml("garbage.eml")).raw_message

    listed = agent_client.get("/inquiries/quarantine/").context["page_obj"]
    raw = agent_client.get(f"/inquiries/raw/{stored.pk}.eml")
    agent_client.post(f"/inquiries/quarantine/{stored.pk}/reviewed/")

    assert [r.pk for r in listed] == [stored.pk]
    assert raw.content == eml("garbage.eml") and raw["Content-Disposition"].startswith("attachment;")
    assert list(agent_client.get("/inquiries/quarantine/").context["page_obj"]) == []
    assert RawMessage.objects.get(pk=stored.pk).reviewed_at is not None


def test_dashboard_shows_weekly_counts_medians_and_top_codes(agent_client):
    now = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)
    for hours in (2, 4, 30):
        inquiry = InquiryFactory(created_at=now - datetime.timedelta(days=1))
        inquiry.first_response_at = inquiry.created_at + datetime.timedelta(hours=hours)
        inquiry.resolved_at = inquiry.created_at + datetime.timedelta(hours=hours * 2)
        inquiry.save()
        CodeLink.objects.create(inquiry=inquiry, system="cpt", code="62362")

    response = agent_client.get("/inquiries/dashboard/")

    assert response.context["first_response"] == 4.0
    assert response.context["resolution"] == 8.0
    assert response.context["codes_chart"].bars[0].label == "CPT 62362" and response.context["codes_chart"].bars[0].value == 3
    html = response.content.decode()
    assert '<svg role="img"' in html and '<title id="weekly-title">Inquiries per week</title>' in html


def test_weekly_counts_include_empty_weeks():
    InquiryFactory(created_at=datetime.datetime(2026, 11, 18, 15, 0, tzinfo=datetime.UTC))  # a Wednesday
    weeks = stats.per_week(weeks=3, today=datetime.date(2026, 12, 3))
    assert weeks == [(datetime.date(2026, 11, 16), 1), (datetime.date(2026, 11, 23), 0), (datetime.date(2026, 11, 30), 0)]


def test_bar_chart_scales_to_the_largest_value():
    chart = charts.bar_chart("t", [("a", 1), ("b", 4)])
    assert chart.bars[1].height == 160 and chart.bars[0].height == 40
    assert chart.description == "a: 1, b: 4"


def _question(**extra):
    data = {
        "name": "Pat Biller",
        "email": "pat@clinic.example.com",
        "organisation": "Lakeside Pain Clinic",
        "subject": "Refill payment for J2274",
        "question": "What does Medicare pay for a refill with 62370?",
    }
    data.update(extra)
    return data


def test_line_breaks_in_a_posted_name_or_subject_are_folded_not_a_server_error(client):
    """Only a hand-made request sends them; they must neither break the mail headers nor lose the question."""
    data = _question(name="Pat\nBiller", subject="Refill\r\nBcc: someone@example.org", organisation="Lakeside\rClinic")

    response = client.post("/ask/", data)

    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert (inquiry.provider_name, inquiry.subject) == ("Pat Biller", "Refill Bcc: someone@example.org")
    assert inquiry.participants.get().email == "pat@clinic.example.com"  # no Bcc smuggled in
    assert "Lakeside Clinic" in inquiry.messages.get().text


def test_public_question_becomes_a_ticket_through_ingest(client):
    upload = SimpleUploadedFile("EOB.pdf", b"%PDF-1.4 test", content_type="application/pdf")

    response = client.post("/ask/", {**_question(), "attachments": [upload]})

    # Post/Redirect/Get: the thank-you page is a GET, so a refresh cannot send the question twice.
    assert (response.status_code, response["Location"]) == (302, "/ask/thanks/")
    thanks = client.get(response["Location"])
    assert client.get(response["Location"]).status_code == 200 and Inquiry.objects.count() == 1
    inquiry = Inquiry.objects.get()
    assert (inquiry.subject, inquiry.provider_email, inquiry.provider_name, inquiry.source) == (
        "Refill payment for J2274",
        "pat@clinic.example.com",
        "Pat Biller",
        "web",
    )
    message = inquiry.messages.get()
    assert "62370" in message.text and "Lakeside Pain Clinic" in message.text
    assert [(a.filename, a.size) for a in message.attachments.all()] == [("EOB.pdf", 13)]
    assert RawMessage.objects.get().source == "web"
    assert f"Your reference is <strong>{inquiry.reference}</strong>" in thanks.content.decode()


def test_thank_you_page_without_a_question_sends_to_the_form(client):
    response = client.get("/ask/thanks/")
    assert (response.status_code, response["Location"]) == (302, "/ask/")


def test_public_form_refuses_unaccepted_file_types_and_sizes(client, settings):
    settings.INQUIRIES_MAX_ATTACHMENT_BYTES = 10
    exe = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/octet-stream")
    big = SimpleUploadedFile("scan.pdf", b"%PDF" + b"x" * 20, content_type="application/pdf")

    assert client.post("/ask/", {**_question(), "attachments": [exe]}).status_code == 400
    assert client.post("/ask/", {**_question(), "attachments": [big]}).status_code == 400
    assert not Inquiry.objects.exists() and not RawMessage.objects.exists()


def test_public_form_is_rate_limited_per_address(client):
    for _ in range(ask.RATE_LIMIT):
        assert client.post("/ask/", _question()).status_code == 302
    response = client.post("/ask/", _question())
    assert response.status_code == 429
    assert Inquiry.objects.count() == ask.RATE_LIMIT
    assert client.post("/ask/", _question(), REMOTE_ADDR="10.0.0.9").status_code == 302


def test_ticket_page_lists_each_viewer_once_with_count_and_shows_time_zones(agent_client, agent_user, settings):
    settings.TIME_ZONE = "America/Chicago"
    created = datetime.datetime(2026, 12, 3, 19, 5, tzinfo=datetime.UTC)  # 1:05 p.m. in Chicago
    inquiry = InquiryFactory(created_at=created, due_at=datetime.datetime(2026, 12, 7, 19, 5, tzinfo=datetime.UTC))
    for _ in range(6):
        agent_client.get(f"/inquiries/{inquiry.pk}/")

    response = agent_client.get(f"/inquiries/{inquiry.pk}/")
    html = response.content.decode()

    assert ViewLog.objects.filter(inquiry=inquiry, user=agent_user).count() == 7  # the audit keeps every view
    assert [(row["user"], row["count"]) for row in response.context["recent_views"]] == [(agent_user, 7)]
    assert html.count(f"<li>{agent_user} · last ") == 1 and "· 7 views</li>" in html
    assert "received Dec 3, 2026, 1:05 p.m. CST" in html
    assert "Due Dec 7, 2026, 1:05 p.m. CST" in html
    assert 'Due <span class="muted small">(CST)</span>' in html
    queue = agent_client.get("/inquiries/").content.decode()
    assert ">Dec 7, 2026, 1:05 p.m. CST</time>" in queue and ">Dec 3, 2026, 1:05 p.m. CST</time>" in queue
