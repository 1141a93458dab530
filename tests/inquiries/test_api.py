"""/api/v1/inquiries/: agents list and read tickets (each read logged) and act through the workflow."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from inquiries import ingest
from inquiries.models import Inquiry, ViewLog
from reimbursement.wsgi import application
from tests.factories import InquiryFactory
from tests.inquiries.conftest import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_api(api_client, agent_user):
    api_client.force_authenticate(agent_user)
    return api_client


def test_list_is_filtered_and_paginated(agent_api):
    InquiryFactory(subject="open one", status="open")
    InquiryFactory(subject="closed one", status="closed")

    body = agent_api.get("/api/v1/inquiries/?status=closed").json()

    assert body["count"] == 1
    row = body["results"][0]
    assert (row["subject"], row["status"], row["reference"]) == ("closed one", "closed", f"RD-{row['id']}")
    assert not ViewLog.objects.exists()  # a list is not a look at a ticket


def test_retrieve_returns_the_thread_and_is_logged(agent_api, agent_user):
    result = ingest.receive(eml("rfc2231_filename.eml"))

    body = agent_api.get(f"/api/v1/inquiries/{result.inquiry.pk}/").json()

    (message,) = body["messages"]
    assert message["from_address"] == "juergen.mueller@example.net"
    assert [(a["filename"], a["size"]) for a in message["attachments"]] == [
        ("Ablehnungsbescheid M\u00e4rz 2026 \u2013 Pumpe.pdf", 3000)
    ]
    assert body["participants"] == [{"email": "juergen.mueller@example.net", "name": "J\u00fcrgen M\u00fcller", "role": "from"}]
    assert ViewLog.objects.get().via == "api" and ViewLog.objects.get().user == agent_user


def test_actions_call_the_workflow(agent_api, agent_user, mailoutbox, django_capture_on_commit_callbacks):
    inquiry = ingest.receive(eml("new_question_outlook.eml")).inquiry
    url = f"/api/v1/inquiries/{inquiry.pk}"

    assert agent_api.post(f"{url}/assign/", {"assignee": agent_user.pk}, format="json").json()["status"] == "open"
    with django_capture_on_commit_callbacks(execute=True):
        replied = agent_api.post(f"{url}/reply/", {"body": "Use 95990."}, format="json").json()
    noted = agent_api.post(f"{url}/note/", {"body": "internal"}, format="json").json()
    resolved = agent_api.post(f"{url}/resolve/").json()
    closed = agent_api.post(f"{url}/close/").json()
    reopened = agent_api.post(f"{url}/reopen/", {"reason": "provider called back"}, format="json").json()

    assert replied["status"] == "waiting" and replied["assignee"] == agent_user.username
    assert [m["direction"] for m in noted["messages"]] == ["in", "out", "note"]
    assert (resolved["status"], closed["status"], reopened["status"]) == ("resolved", "closed", "open")
    assert len(mailoutbox) == 1
    assert ViewLog.objects.filter(via="api").count() == 6


def test_workflow_refusals_are_400_with_a_message(agent_api):
    inquiry = InquiryFactory(status=Inquiry.Status.NEW)

    response = agent_api.post(f"/api/v1/inquiries/{inquiry.pk}/reopen/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["message"] == "The inquiry is already open."
    bad = agent_api.post(f"/api/v1/inquiries/{inquiry.pk}/reply/", {"body": ""}, format="json")
    assert bad.status_code == 400 and "body" in bad.json()["errors"]
    assert agent_api.post(f"/api/v1/inquiries/{inquiry.pk}/assign/", {"assignee": 999999}, format="json").status_code == 400
    assert agent_api.get("/api/v1/inquiries/999999/").status_code == 404


inquiry_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(path_regex="^/api/v1/inquiries/")


@pytest.fixture
def agent_token(agent_user):
    return Token.objects.create(user=agent_user).key


@pytest.fixture
def keep_test_connection():
    """Calls through the WSGI app send request_started/finished, which would close the test's transaction."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@inquiry_schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_agent_requests_never_get_a_server_error(case, agent_token, a_ticket, keep_test_connection):
    """Whatever an agent sends to the inquiry API (generated from the schema), the answer is never a 5xx."""
    case.call_and_validate(headers={"Authorization": f"Token {agent_token}"}, checks=[not_a_server_error])


@pytest.fixture
def a_ticket():
    """A real ticket so generated ids sometimes hit one."""
    return ingest.receive(eml("new_question_outlook.eml")).inquiry
