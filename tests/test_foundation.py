"""The project skeleton: home, health check, deployment checks, roles and JSON errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from reimbursement import roles

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_home_page_renders_navigation(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Lookup", "Guides", "Estimator"):
        assert f">{label}</a>" in html
    assert 'role="banner"' in html and 'id="main"' in html
    assert ">Inquiries</a>" not in html  # only agents see the inquiry desk link


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_down(rf, monkeypatch):
    from django.db import connection

    from reimbursement import views

    def broken_cursor(*args, **kwargs):
        raise RuntimeError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = views.healthz(rf.get("/healthz"))
    assert response.status_code == 503
    assert b"connection refused" not in response.content  # the reason is logged, not shown to whoever asks


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    team = Group.objects.get(name=roles.REIMBURSEMENT_TEAM)
    agents = Group.objects.get(name=roles.SUPPORT_AGENTS)
    office = Group.objects.get(name=roles.OFFICE_STAFF)
    team_perms = set(team.permissions.values_list("codename", flat=True))
    assert {"run_import", "add_importrun", "change_importrun", "view_importrun"} <= team_perms
    office_perms = set(office.permissions.values_list("content_type__app_label", "codename"))
    assert office_perms and all(app == "codes" and codename.startswith("view_") for app, codename in office_perms)
    agent_apps = set(agents.permissions.values_list("content_type__app_label", flat=True))
    assert "inquiries" not in set(team.permissions.values_list("content_type__app_label", flat=True))
    assert agent_apps <= {"inquiries", "codes"}


def _deploy_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 20 + "-production-secret-key-with-enough-entropy-9f3k2",
        DJANGO_ALLOWED_HOSTS="desk.example.com",
        DJANGO_SECURE_SSL_REDIRECT="1",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
        DJANGO_SECURE_HSTS_PRELOAD="1",
        DJANGO_SESSION_COOKIE_SECURE="1",
        DJANGO_CSRF_COOKIE_SECURE="1",
    )
    env.update(extra)
    return env


def test_check_deploy_reports_no_issues_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_deploy_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _deploy_env()
    env.pop("DJANGO_SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["status"] == 404


@pytest.mark.django_db
def test_api_errors_share_one_json_shape(api_client):
    response = api_client.get("/api/v1/")
    assert response.status_code == 401 or response.status_code == 403 or response.status_code == 200
    if response.status_code != 200:
        body = response.json()
        assert set(body) >= {"status", "code", "message"}


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.")
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html
    assert "/static/drf_spectacular_sidecar/" in html
