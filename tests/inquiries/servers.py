"""Real mail servers for the inquiry tests: Dovecot (IMAP) and aiosmtpd (SMTP), both on 127.0.0.1 only.

Dovecot is Debian's dovecot-imapd (`make test` installs it when run as root). It runs in the foreground
from a throwaway config in a temporary folder: plaintext login against a passwd-file, Maildir storage,
a free port, and XOAUTH2 checked against a token-info endpoint the suite serves. Tests skip where it
cannot run, and fail instead with REQUIRE_IMAP=1 (CI).
"""

from __future__ import annotations

import http.server
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or "/usr/sbin/dovecot"
IMAP_USER = "support"
IMAP_PASSWORD = "imap-test-password"

DOVECOT_CONF = """\
instance_name = rd-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = oauth2
  mechanisms = xoauth2
  args = {root}/oauth2.conf.ext
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
mail_location = maildir:{root}/mail/%u/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


# Dovecot checks an XOAUTH2 access token by asking this token-info endpoint (served by the test suite).
OAUTH2_CONF = """\
tokeninfo_url = http://127.0.0.1:{port}/tokeninfo?access_token=
username_attribute = username
active_attribute = active
active_value = true
"""
IMAP_OAUTH_TOKEN = "ya29.test-access-token"


class _TokenInfo(http.server.BaseHTTPRequestHandler):
    """Answer Dovecot's token lookups: IMAP_OAUTH_TOKEN belongs to IMAP_USER, anything else is invalid."""

    def do_GET(self):  # noqa: N802 - http.server's hook name
        valid = self.path.endswith("=" + IMAP_OAUTH_TOKEN)
        body = json.dumps({"username": IMAP_USER, "active": "true"} if valid else {"error": "invalid_token"}).encode()
        self.send_response(200 if valid else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _required(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "False")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, *, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def settings(self, **extra) -> dict:
        """Return the INQUIRIES_IMAP_* settings that point at this server."""
        return {
            "INQUIRIES_IMAP_HOST": self.host,
            "INQUIRIES_IMAP_PORT": self.port,
            "INQUIRIES_IMAP_SSL": False,
            "INQUIRIES_IMAP_USER": self.user,
            "INQUIRIES_IMAP_PASSWORD": self.password,
            "INQUIRIES_IMAP_OAUTH_TOKEN": "",
            "INQUIRIES_IMAP_FOLDER": "INBOX",
            "INQUIRIES_IMAP_DONE_FOLDER": "",
            **extra,
        }

    def client(self):
        """Return a logged-in imap-tools MailBox on INBOX (the test's own view of the mailbox)."""
        from imap_tools import MailBoxUnencrypted

        return MailBoxUnencrypted(self.host, self.port).login(self.user, self.password)

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox the way an MTA's final delivery would (IMAP APPEND)."""
        with self.client() as box:
            box.folder.set(folder)
            status, data = box.client.append(folder, None, None, raw)
            assert status == "OK", data

    def reset(self) -> None:
        """Empty INBOX and remove other folders so each test starts with a clean mailbox."""
        with self.client() as box:
            for folder in box.folder.list():
                if folder.name != "INBOX":
                    box.folder.delete(folder.name)
                    continue
                box.folder.set(folder.name)
                uids = box.uids()
                if uids:
                    box.client.uid("STORE", ",".join(uids), "+FLAGS", "(\\Deleted)")
                    box.client.expunge()


def _dovecot_users() -> tuple[pwd.struct_passwd, str, str] | None:
    try:
        return pwd.getpwnam("dovecot"), "dovecot", "dovenull" if _user_exists("dovenull") else "dovecot"
    except KeyError:
        return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def imap_server():
    """A real Dovecot IMAP server for the session (skips, or fails with REQUIRE_IMAP=1, where it cannot run)."""
    reason = ""
    users = _dovecot_users()
    if not os.path.exists(DOVECOT):
        reason = f"Dovecot is not installed ({DOVECOT}); make test installs dovecot-imapd when run as root"
    elif os.geteuid() != 0:
        reason = "Dovecot is started as root by the test suite; not running as root"
    elif users is None:
        reason = "the dovecot system user is missing (install dovecot-imapd)"
    if reason:
        if _required("REQUIRE_IMAP"):
            pytest.fail(reason + " (REQUIRE_IMAP=1)")
        pytest.skip(reason)
    account, internal_user, login_user = users
    # Dovecot's auth and mail processes run as its own users: the folder must be readable by them,
    # which pytest's 0700 tmp folders are not.
    root = Path(tempfile.mkdtemp(prefix="rd-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    os.chown(root / "mail", account.pw_uid, account.pw_gid)
    (root / "passwd").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}\n")
    token_info = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenInfo)
    threading.Thread(target=token_info.serve_forever, daemon=True).start()
    (root / "oauth2.conf.ext").write_text(OAUTH2_CONF.format(port=token_info.server_address[1]))
    port = free_port()
    conf = root / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            root=root, port=port, uid=account.pw_uid, gid=account.pw_gid, internal_user=internal_user, login_user=login_user
        )
    )
    output = root / "stdout.log"
    with output.open("wb") as out:
        process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    try:
        if not _wait_for_port(port):
            log = (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            pytest.fail(f"Dovecot did not start on 127.0.0.1:{port}:\n{output.read_text(errors='replace')}\n{log}")
        yield ImapServer("127.0.0.1", port, IMAP_USER, IMAP_PASSWORD, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        token_info.shutdown()
        token_info.server_close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def imap(imap_server, settings):
    """The IMAP server, emptied, with INQUIRIES_IMAP_* settings pointing at it."""
    imap_server.reset()
    for name, value in imap_server.settings().items():
        setattr(settings, name, value)
    return imap_server


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list = field(default_factory=list)

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list:
        """Return the received envelopes once there are at least count of them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)


class _CollectingHandler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.sink.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 collecting what we send."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink("127.0.0.1", free_port())
    controller = Controller(_CollectingHandler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_server, settings):
    """The SMTP server, emptied, with Django's SMTP backend pointing at it."""
    smtp_server.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    return smtp_server
