"""Patient information: only agents and superusers see an inquiry, in pages, admin and API; every view is logged."""

import pytest
from django.contrib.auth.models import Permission
from django.core.signals import request_finished
from django.db import close_old_connections

from inquiries import ingest
from inquiries.models import ViewLog
from tests.factories import PASSWORD
from tests.inquiries.conftest import eml

pytestmark = pytest.mark.django_db

SECRET = "Files for our J2274 question"  # the subject of attachments_mixed.eml


@pytest.fixture
def received():
    """A real ticket with attachments, as it arrives from the mailbox."""
    return ingest.receive(eml("attachments_mixed.eml"))


def _urls(result) -> dict[str, str]:
    inquiry, attachment = result.inquiry, result.message.attachments.exclude(file="").first()
    return {
        "page": f"/inquiries/{inquiry.pk}/",
        "download": f"/inquiries/attachments/{attachment.pk}/",
        "raw": f"/inquiries/raw/{result.raw_message.pk}.eml",
        "admin": f"/admin/inquiries/inquiry/{inquiry.pk}/change/",
        "admin_raw": f"/admin/inquiries/rawmessage/{result.raw_message.pk}/change/",
        "api": f"/api/v1/inquiries/{inquiry.pk}/",
        "api_list": "/api/v1/inquiries/",
        "queue": "/inquiries/",
    }


def _drain(response) -> bytes:
    """Read a download and close its file (response.close() would also close the test's DB connection)."""
    if not response.streaming:
        return response.content
    body = b"".join(response.streaming_content)
    # As Django's test client does: don't let request_finished close the test's connection.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    return body


@pytest.mark.parametrize("role", ["anonymous", "office", "team"])
def test_nobody_but_agents_sees_an_inquiry_anywhere(client, role_users, received, role):
    user = role_users[role]
    if user is not None:
        client.login(username=user.username, password=PASSWORD)
    for where, url in _urls(received).items():
        response = client.get(url)
        assert response.status_code in (302, 401, 403, 404), f"{role} got {response.status_code} on {where}"
        assert SECRET.encode() not in response.content, f"{role} saw the inquiry on {where}"
    for action in ("assign", "reply", "note", "resolve", "close", "reopen"):
        response = client.post(f"/api/v1/inquiries/{received.inquiry.pk}/{action}/", {"body": "x"})
        assert response.status_code in (401, 403), f"{role} could {action}"
    response = client.post(f"/inquiries/{received.inquiry.pk}/note/", {"body": "x"})
    assert response.status_code in (302, 403) and not received.inquiry.messages.filter(direction="note").exists()
    assert not ViewLog.objects.exists()


def test_model_permissions_alone_do_not_open_the_admin_to_non_agents(client, team_user, received):
    team_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="inquiries"))
    client.login(username=team_user.username, password=PASSWORD)

    response = client.get(f"/admin/inquiries/inquiry/{received.inquiry.pk}/change/")

    assert response.status_code in (302, 403)
    assert SECRET.encode() not in response.content


@pytest.mark.parametrize("role", ["agent", "superuser"])
def test_agents_see_inquiries_and_every_view_is_logged(client, role_users, received, role):
    user = role_users[role]
    client.login(username=user.username, password=PASSWORD)
    urls = _urls(received)
    for where in ("page", "download", "raw", "admin", "admin_raw", "api"):
        response = client.get(urls[where])
        assert response.status_code == 200, f"{where}: {response.status_code}"
        _drain(response)

    logged = list(ViewLog.objects.filter(user=user, inquiry=received.inquiry).values_list("via", flat=True))
    assert sorted(logged) == sorted(["page", "download", "download", "admin", "admin", "api"])


def test_downloads_are_attachments_never_rendered(client, agent_user, received):
    client.login(username=agent_user.username, password=PASSWORD)
    attachment = received.message.attachments.get(filename="notes_v2_.txt")

    response = client.get(f"/inquiries/attachments/{attachment.pk}/")

    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="notes_v2_.txt"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    body = _drain(response)
    with attachment.file.open("rb") as stored:
        assert body == stored.read() and len(body) == 26


def test_an_agent_cannot_delete_a_ticket_in_the_admin(client, agent_user, received):
    """Tickets leave only through the retention command: the admin offers no delete, and a forged one is refused."""
    client.login(username=agent_user.username, password=PASSWORD)
    inquiry = received.inquiry

    listing = client.get("/admin/inquiries/inquiry/")
    forged = client.post(
        "/admin/inquiries/inquiry/", {"action": "delete_selected", "_selected_action": [inquiry.pk], "post": "yes"}
    )
    delete_page = client.get(f"/admin/inquiries/inquiry/{inquiry.pk}/delete/")

    assert b"delete_selected" not in listing.content
    assert forged.status_code in (200, 302) and delete_page.status_code == 403
    assert type(inquiry).objects.filter(pk=inquiry.pk).exists() and inquiry.messages.count() == 1


def test_the_raw_bytes_of_a_redelivery_are_logged_against_the_original_ticket(client, agent_user):
    first = ingest.receive(eml("new_question_outlook.eml"))
    again = ingest.receive(eml("duplicate_redelivered.eml"))
    assert again.outcome == "duplicate"
    client.login(username=agent_user.username, password=PASSWORD)

    raw = client.get(f"/inquiries/raw/{again.raw_message.pk}.eml")
    admin_raw = client.get(f"/admin/inquiries/rawmessage/{again.raw_message.pk}/change/")

    assert raw.status_code == 200 and admin_raw.status_code == 200
    assert sorted(ViewLog.objects.filter(inquiry=first.inquiry, user=agent_user).values_list("via", flat=True)) == [
        "admin",
        "download",
    ]


def test_the_admin_history_of_a_ticket_is_a_logged_view(client, agent_user, received):
    client.login(username=agent_user.username, password=PASSWORD)

    response = client.get(f"/admin/inquiries/inquiry/{received.inquiry.pk}/history/")

    assert response.status_code == 200
    assert list(ViewLog.objects.filter(inquiry=received.inquiry).values_list("via", flat=True)) == ["admin"]


@pytest.mark.parametrize("object_id", ["%C2%B2", "12abc", "-1"])
def test_an_odd_object_id_in_the_admin_is_not_a_server_error(client, agent_user, object_id):
    client.login(username=agent_user.username, password=PASSWORD)
    for model in ("inquiry", "rawmessage"):
        response = client.get(f"/admin/inquiries/{model}/{object_id}/change/")
        assert response.status_code in (302, 404), f"{model}: {response.status_code}"
    assert not ViewLog.objects.exists()
