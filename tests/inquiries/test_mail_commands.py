"""ingest_email (MTA pipe) and poll_mailbox: what they store and the exit status an MTA or cron sees."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inquiries.models import Inquiry, RawMessage
from tests.inquiries.conftest import EMAILS, eml

ROOT = Path(__file__).resolve().parents[2]


def pipe(monkeypatch, raw: bytes) -> tuple[int, str]:
    """Run ingest_email with raw on standard input, as Postfix's pipe does; return (exit status, output)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    try:
        call_command("ingest_email", stdout=out, stderr=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_piped_message_is_stored_byte_for_byte_and_exits_0(monkeypatch):
    status, output = pipe(monkeypatch, eml("new_question_outlook.eml"))
    assert status == 0
    assert "new_ticket" in output
    stored = RawMessage.objects.get()
    assert bytes(stored.raw) == eml("new_question_outlook.eml")
    assert stored.source == RawMessage.Source.PIPE
    assert Inquiry.objects.get().subject == "Coverage question: pump refill J2274 with G89.29"


@pytest.mark.django_db
def test_duplicate_and_quarantined_messages_still_exit_0(monkeypatch):
    assert pipe(monkeypatch, eml("new_question_outlook.eml"))[0] == 0
    status, output = pipe(monkeypatch, eml("duplicate_redelivered.eml"))
    assert (status, "duplicate" in output) == (0, True)
    status, output = pipe(monkeypatch, eml("garbage.eml"))
    assert (status, "quarantined" in output) == (0, True)
    assert RawMessage.objects.count() == 3 and Inquiry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n"])
def test_empty_input_exits_65_and_stores_nothing(monkeypatch, raw):
    status, output = pipe(monkeypatch, raw)
    assert status == os.EX_DATAERR == 65
    assert "empty message" in output
    assert not RawMessage.objects.exists()


@pytest.mark.django_db
def test_message_can_be_read_from_a_file(tmp_path):
    out = io.StringIO()
    call_command("ingest_email", str(EMAILS / "html_only.eml"), stdout=out)
    assert "new_ticket" in out.getvalue()
    assert Inquiry.objects.get().subject == "Payment table for pump codes"


def test_unreachable_database_exits_75_so_the_mta_retries():
    """A real process against a database port nobody listens on: EX_TEMPFAIL, and the message stays with the MTA."""
    env = {**os.environ, "DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://postgres@127.0.0.1:9/rd_nowhere"}
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email"],
        input=eml("new_question_outlook.eml"),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == os.EX_TEMPFAIL == 75, result.stderr.decode()
    assert b"not stored, try again later" in result.stderr


def test_poll_mailbox_without_configuration_is_a_clear_error(settings):
    settings.INQUIRIES_IMAP_HOST = ""
    with pytest.raises(CommandError, match="INQUIRIES_IMAP_HOST and INQUIRIES_IMAP_USER must be set"):
        call_command("poll_mailbox")


def test_missing_file_exits_66_with_a_clear_message_and_no_traceback(tmp_path):
    """A real process, as an MTA or an operator runs it: EX_NOINPUT for a path that cannot be read."""
    missing = tmp_path / "nonexistent.eml"
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "ingest_email", str(missing)], capture_output=True, cwd=ROOT, env=env, timeout=120
    )
    assert result.returncode == os.EX_NOINPUT == 66, result.stderr.decode()
    assert result.stderr.decode().strip() == f"ingest_email: cannot read {missing}: No such file or directory; nothing stored"


@pytest.mark.django_db
def test_a_directory_is_not_a_message(tmp_path):
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("ingest_email", str(tmp_path), stdout=out, stderr=out)
    assert exit_.value.code == os.EX_NOINPUT
    assert "cannot read" in out.getvalue() and not RawMessage.objects.exists()
