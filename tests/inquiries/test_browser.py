"""In a real browser: an agent opens a new inquiry, replies with a canned response and resolves it."""

import pytest

from codes.models import Code
from inquiries import ingest
from inquiries.models import Inquiry
from tests.conftest import login_in_browser
from tests.factories import CannedResponseFactory
from tests.inquiries.conftest import eml

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_answers_a_new_inquiry_with_a_canned_response(page, live_server, agent_user, mailoutbox, artifacts_dir):
    Code.objects.create(system="hcpcs", code="J2274", short_description="Inj morphine pf epid/it 10mg")
    Code.objects.create(system="icd10cm", code="G8929", short_description="Other chronic pain")
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry
    CannedResponseFactory(title="Refill billing", body="Dear {provider_name},\n\nThank you for asking about {codes}.")
    ingest.receive(eml("reply_to_differs.eml"))

    page.goto(f"{live_server.url}/ask/")  # what providers see (no login)
    assert page.locator("h1").inner_text() == "Ask a coding or payment question"
    page.screenshot(path=str(artifacts_dir / "inquiry-ask.png"), full_page=True)

    login_in_browser(page, live_server, agent_user.username)
    page.goto(f"{live_server.url}/inquiries/")
    page.screenshot(path=str(artifacts_dir / "inquiries-queue.png"), full_page=True)
    page.get_by_role("link", name=inquiry.subject).click()
    assert page.locator("h1").inner_text() == inquiry.subject

    body = page.locator("#id_body").first
    body.fill("Hello again,")  # a draft the agent started: inserting a canned response keeps it
    page.select_option("#id_canned", label="Refill billing")
    page.get_by_role("button", name="Insert").click()
    page.wait_for_function("() => document.getElementById('id_body').value.includes('Dear Maria Gonzalez,')")
    assert body.input_value().startswith("Hello again,\n\nDear Maria Gonzalez,")  # From: "Gonzalez, Maria"
    body.fill(body.input_value() + "\n\nThe refill is billed with 95990 and the drug with J2274.")
    page.get_by_role("button", name="Send reply").click()
    assert "Reply sent." in page.locator(".messages").inner_text()
    page.get_by_role("button", name="Resolve", exact=True).click()
    assert "Status changed." in page.locator(".messages").inner_text()
    page.screenshot(path=str(artifacts_dir / "inquiry-resolved.png"), full_page=True)

    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.assignee) == (Inquiry.Status.RESOLVED, agent_user)  # replying claimed it
    assert f"Assigned to {agent_user}" in page.locator(".ticket-head").inner_text()
    # The Due input shows its whole value ("12/07/2026, 01:05 PM"), not a clipped "12/07/2026, 01:".
    due = page.locator("#id_due_at")
    assert due.evaluate("input => input.scrollWidth <= input.clientWidth")
    assert due.bounding_box()["width"] >= 190
    assert page.locator("time").first.inner_text().endswith(("CST", "CDT"))
    (sent,) = mailoutbox
    assert sent.to == ["maria.gonzalez@example.com"]
    assert "Thank you for asking about HCPCS J2274, ICD-10-CM G89.29." in sent.body and "95990" in sent.body
    assert page.locator(".status").first.inner_text() == "Resolved"

    page.get_by_role("link", name="Dashboard").click()
    assert page.locator("svg[role=img] title").first.text_content() == "Inquiries per week"
    page.screenshot(path=str(artifacts_dir / "inquiry-dashboard.png"), full_page=True)
