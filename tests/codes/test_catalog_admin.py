"""The admin upload page: files are imported by the background task and the run shows its change report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from codes.models import Code, ImportRun
from tests.codes.test_catalog_importers import ORDER_LINES, TABULAR
from tests.factories import PASSWORD

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
pytestmark = [pytest.mark.django_db]


def uploads(order_lines=ORDER_LINES):
    return [
        SimpleUploadedFile("icd10cm-order-2030.txt", ("\r\n".join(order_lines) + "\r\n").encode()),
        SimpleUploadedFile("icd10cm_tabular_2030.xml", TABULAR.encode()),
    ]


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@override_settings(TASKS=IMMEDIATE)
def test_upload_runs_the_import_in_the_background_task_and_shows_the_report(client, team_user, media):
    assert client.login(username=team_user.username, password=PASSWORD)
    assert client.get("/admin/codes/importrun/upload/").status_code == 200
    assert "Import CMS files" in client.get("/admin/codes/importrun/").content.decode()
    response = client.post("/admin/codes/importrun/upload/", {"files": uploads()})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response.url == f"/admin/codes/importrun/{run.pk}/change/"
    assert run.status == ImportRun.Status.SUCCEEDED and run.progress == 100 and run.created_by == team_user
    assert run.kind == "icd10cm" and "ICD-10-CM FY2030" in run.message
    assert Code.objects.filter(system="icd10cm").count() == 4
    page = client.get(response.url).content.decode()
    assert "billable 2" in page and "G89.29" in page


@override_settings(TASKS=IMMEDIATE)
def test_dry_run_upload_writes_nothing(client, team_user, media):
    client.login(username=team_user.username, password=PASSWORD)
    client.post("/admin/codes/importrun/upload/", {"files": uploads(), "dry_run": "on"})
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.DRY_RUN and "added 4" in run.message
    assert not Code.objects.exists()


@override_settings(TASKS=IMMEDIATE)
def test_failed_upload_names_line_and_column_and_changes_nothing(client, team_user, media):
    client.login(username=team_user.username, password=PASSWORD)
    bad = [*ORDER_LINES[:3], ORDER_LINES[3].replace("G8929  ", "G8?29  ")]
    client.post("/admin/codes/importrun/upload/", {"files": uploads(bad)})
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED
    where = "upload.zip:icd10cm-order-2030.txt, line 4, column 7"
    assert run.message == f"Import failed, nothing was changed: {where}: 'G8?29' is not an ICD-10-CM code"
    assert run.report["error"]["line"] == 4
    assert not Code.objects.exists()


def test_only_the_reimbursement_team_may_upload(client, office_user, agent_user):
    assert client.get("/admin/codes/importrun/upload/").status_code == 302  # to the login page
    client.login(username=agent_user.username, password=PASSWORD)
    assert client.get("/admin/codes/importrun/upload/").status_code == 403


@override_settings(TASKS=IMMEDIATE)
def test_the_run_page_shows_a_fee_schedule_change_report(client, team_user, media):
    """Fee imports report changed rows as {"key", "fields"}: the page lists them (it used to fail on them)."""
    from pathlib import Path

    fees = Path(__file__).parent / "data" / "fees"
    client.login(username=team_user.username, password=PASSWORD)
    for name in ("ASC_Addendum_AA_small.csv", "ASC_Addendum_AA_2023_small.csv"):
        client.post("/admin/codes/importrun/upload/", {"files": [SimpleUploadedFile(name, (fees / name).read_bytes())]})
    run = ImportRun.objects.order_by("pk").last()

    page = client.get(f"/admin/codes/importrun/{run.pk}/change/")

    assert page.status_code == 200 and run.status == ImportRun.Status.SUCCEEDED
    html = page.content.decode()  # jsonb keeps the changed fields in its own key order
    assert "<strong>changed</strong>: 0100T: " in html and "payment_indicator &#x27;J8&#x27; → &#x27;K5&#x27;" in html
