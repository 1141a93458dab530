"""Odd input in a URL or form is a 4xx with a message, never a server error (NUL characters, non-ASCII digits)."""

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    ["/lookup/?q=%00abc", "/codes/cpt/%00/", "/codes/cpt/62362/payments/?locality=%00", "/estimator/?code=6236%002"],
)
def test_a_nul_character_in_a_page_request_is_a_400_that_says_so(client, url):
    response = client.get(url)

    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_a_nul_character_in_an_api_query_or_form_post_is_a_400_with_the_json_error(client):
    api = client.get("/api/v1/codes/?q=g89%00")
    form = client.post("/ask/", {"name": "Pat\x00", "email": "pat@clinic.example.com", "subject": "s", "question": "q"})

    assert api.status_code == 400 and api.json()["status"] == 400 and "NUL character" in api.json()["message"]
    assert form.status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/estimator/?setting=asc&date_of_service=2022-06-01&code=62362&units=%C2%B2",
        "/guides/intrathecal-drug-delivery/2022/?year=%C2%B2",
    ],
)
def test_a_superscript_digit_is_not_a_number_and_not_a_server_error(client, url):
    """str.isdigit() accepts "²", which int() refuses."""
    assert client.get(url).status_code in (200, 400, 404)


def test_a_superscript_digit_in_the_inquiry_search_is_plain_text(client, agent_user):
    client.login(username=agent_user.username, password=PASSWORD)

    assert client.get("/inquiries/?q=RD-%C2%B2").status_code == 200
