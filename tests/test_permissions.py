"""The permission matrix: who may see what, for every role. Apps add their URLs to MATRIX."""

import pytest
from django.test import override_settings

from tests.factories import PASSWORD

ROLES = ["anonymous", "office", "team", "agent", "superuser"]
OK, LOGIN, DENY = "ok", "login", "deny"

# url -> expected outcome per role (anonymous, office, team, agent, superuser).
MATRIX = {
    "/": (OK, OK, OK, OK, OK),
    "/lookup/": (OK, OK, OK, OK, OK),
    "/guides/": (OK, OK, OK, OK, OK),
    "/estimator/": (OK, OK, OK, OK, OK),
    "/claim-check/": (OK, OK, OK, OK, OK),
    "/admin/codes/guide/": (LOGIN, LOGIN, OK, DENY, OK),  # guide maintenance: reimbursement team only
    "/admin/codes/codingrule/": (LOGIN, LOGIN, OK, DENY, OK),
    "/admin/": (LOGIN, LOGIN, OK, OK, OK),
    "/admin/codes/importrun/": (LOGIN, LOGIN, OK, OK, OK),  # agents read the catalog side
    "/inquiries/": (LOGIN, DENY, DENY, OK, OK),
    "/inquiries/dashboard/": (LOGIN, DENY, DENY, OK, OK),
    "/inquiries/quarantine/": (LOGIN, DENY, DENY, OK, OK),
    "/admin/inquiries/inquiry/": (LOGIN, LOGIN, DENY, OK, OK),  # patient information: agents only
    "/admin/inquiries/rawmessage/": (LOGIN, LOGIN, DENY, OK, OK),
    "/admin/inquiries/viewlog/": (LOGIN, LOGIN, DENY, OK, OK),
    "/api/v1/inquiries/": (DENY, DENY, DENY, OK, OK),
    "/ask/": (OK, OK, OK, OK, OK),
    "/codes/cpt/62322/payments/": (OK, OK, OK, OK, OK),
    "/fees/compare/": (OK, OK, OK, OK, OK),
    "/fees/localities/": (OK, OK, OK, OK, OK),
    "/api/v1/fees/localities/": (OK, OK, OK, OK, OK),
    "/admin/codes/feerelease/": (LOGIN, LOGIN, OK, OK, OK),  # fee schedules: the team maintains, agents read
    "/admin/codes/conversionfactor/": (LOGIN, LOGIN, OK, OK, OK),
    "/admin/codes/physicianfee/": (LOGIN, LOGIN, OK, OK, OK),
    "/admin/codes/ascrate/": (LOGIN, LOGIN, OK, OK, OK),
    "/api/schema/": (OK, OK, OK, OK, OK),
    "/api/v1/me/": (DENY, OK, OK, OK, OK),
    "/lookup/?q=G89.2": (OK, OK, OK, OK, OK),
    "/api/v1/codes/?q=G89.2": (OK, OK, OK, OK, OK),
    "/admin/codes/code/": (LOGIN, LOGIN, OK, OK, OK),
    "/admin/codes/release/": (LOGIN, LOGIN, OK, OK, OK),
    "/admin/codes/importrun/upload/": (LOGIN, LOGIN, OK, DENY, OK),
}


def _outcome(response) -> str:
    if response.status_code == 200:
        return OK
    if response.status_code == 302 and "login" in response["Location"]:
        return LOGIN
    if response.status_code in (401, 403):
        return DENY
    return f"unexpected {response.status_code}"


def _client_for(client, role_users, role):
    user = role_users[role]
    if user is not None:
        assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(MATRIX))
def test_permission_matrix(client, role_users, role, url):
    expected = MATRIX[url][ROLES.index(role)]
    response = _client_for(client, role_users, role).get(url)
    assert _outcome(response) == expected, f"{role} on {url}: {response.status_code}"


@pytest.mark.django_db
@override_settings(LOOKUPS_REQUIRE_LOGIN=True)
def test_lookups_need_a_login_when_configured(client, office_user):
    response = client.get("/lookup/")
    assert _outcome(response) == LOGIN
    client.login(username=office_user.username, password=PASSWORD)
    assert client.get("/lookup/").status_code == 200
