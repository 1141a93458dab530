"""IMAP transport for the support mailbox: fetch raw messages, mark them once stored. No models, never deletes.

A message counts as handled when it carries the IMAP keyword ``$RDStored`` (or has been moved to
INQUIRIES_IMAP_DONE_FOLDER). We use a keyword rather than \\Seen so people reading the same mailbox keep
their read/unread state, and a message someone opened in a mail client is still fetched. Servers that
do not allow keywords (no ``\\*`` in PERMANENTFLAGS) fall back to \\Seen. Messages are fetched with
BODY.PEEK so fetching alone changes nothing on the server; the caller marks a message only after it
has stored it. Nothing is ever flagged \\Deleted or expunged.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from imap_tools import AND, MailBox, MailboxLoginError, MailBoxUnencrypted
from imap_tools.errors import MailboxFolderSelectError
from imap_tools.utils import encode_folder

STORED_KEYWORD = "$RDStored"
SEEN = "\\Seen"


class MailboxError(Exception):
    """The mailbox cannot be reached, logged into or read."""


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    ssl: bool
    user: str
    password: str = ""
    oauth_token: str = ""
    folder: str = "INBOX"
    done_folder: str = ""

    @classmethod
    def from_settings(cls) -> MailboxConfig:
        """Return the configuration from INQUIRIES_IMAP_* settings (the environment, never the database)."""
        return cls(
            host=settings.INQUIRIES_IMAP_HOST,
            port=settings.INQUIRIES_IMAP_PORT,
            ssl=settings.INQUIRIES_IMAP_SSL,
            user=settings.INQUIRIES_IMAP_USER,
            password=settings.INQUIRIES_IMAP_PASSWORD,
            oauth_token=settings.INQUIRIES_IMAP_OAUTH_TOKEN,
            folder=settings.INQUIRIES_IMAP_FOLDER or "INBOX",
            done_folder=settings.INQUIRIES_IMAP_DONE_FOLDER,
        )


class Mailbox:
    """One IMAP session on the support folder; use as a context manager."""

    def __init__(self, config: MailboxConfig | None = None):
        self.config = config or MailboxConfig.from_settings()
        if not self.config.host or not self.config.user:
            raise MailboxError("INQUIRIES_IMAP_HOST and INQUIRIES_IMAP_USER must be set")
        if not (self.config.password or self.config.oauth_token):
            raise MailboxError("set INQUIRIES_IMAP_PASSWORD or INQUIRIES_IMAP_OAUTH_TOKEN")
        self._box: MailBox | MailBoxUnencrypted | None = None
        self.use_keyword = True

    def __enter__(self) -> Mailbox:
        config = self.config
        box_class = MailBox if config.ssl else MailBoxUnencrypted
        box = None
        try:
            box = box_class(config.host, config.port, timeout=60)
            if config.oauth_token:
                box.xoauth2(config.user, config.oauth_token, initial_folder=None)
            else:
                box.login(config.user, config.password, initial_folder=None)
            box.folder.set(config.folder)
        except (MailboxLoginError, MailboxFolderSelectError, imaplib.IMAP4.error, OSError) as error:
            # imap-tools raises imaplib's own error for a refused XOAUTH2 token, MailboxLoginError for LOGIN.
            if box is not None:
                with contextlib.suppress(Exception):
                    box.client.shutdown()
            raise MailboxError(f"cannot open {config.folder} on {config.host}:{config.port}: {error}") from error
        self._box = box
        permanent = b" ".join(box.client.untagged_responses.get("PERMANENTFLAGS", [b""]) or [b""])
        # Servers list \* in PERMANENTFLAGS when clients may create keywords such as $RDStored.
        self.use_keyword = b"\\*" in permanent or STORED_KEYWORD.encode() in permanent
        return self

    def __exit__(self, *exc) -> None:
        if self._box is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone; nothing to save
                self._box.logout()
            self._box = None

    @property
    def box(self) -> MailBox | MailBoxUnencrypted:
        if self._box is None:
            raise MailboxError("use Mailbox as a context manager")
        return self._box

    @property
    def marker(self) -> str:
        """Return the flag that means 'stored by the desk' on this server."""
        return STORED_KEYWORD if self.use_keyword else SEEN

    def pending_uids(self) -> list[str]:
        """Return the UIDs of messages not yet marked stored, oldest first."""
        criteria = AND(no_keyword=STORED_KEYWORD) if self.use_keyword else AND(seen=False)
        return self.box.uids(criteria)

    def fetch_raw(self, uid: str) -> bytes | None:
        """Return the raw bytes of one message without changing its flags (None when it is gone)."""
        status, data = self.box.client.uid("FETCH", uid, "(BODY.PEEK[])")
        if status != "OK":
            raise MailboxError(f"FETCH {uid} failed: {data!r}")
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
                return bytes(item[1])
        return None

    def messages(self) -> Iterator[tuple[str, bytes]]:
        """Yield (uid, raw bytes) for each message not yet marked stored."""
        for uid in self.pending_uids():
            raw = self.fetch_raw(uid)
            if raw is not None:
                yield uid, raw

    def mark_stored(self, uid: str) -> None:
        """Mark a message as safely stored: add our keyword and, when configured, move it to the done folder.

        Call this only after the message is committed to the database. Never flags \\Deleted or expunges:
        without the MOVE extension the message is copied to the done folder and kept (marked) in place.
        """
        status, data = self.box.client.uid("STORE", uid, "+FLAGS", f"({self.marker})")
        if status != "OK":
            raise MailboxError(f"STORE {uid} failed: {data!r}")
        done = self.config.done_folder
        if not done:
            return
        verb = "MOVE" if "MOVE" in self.box.client.capabilities else "COPY"
        status, data = self.box.client.uid(verb, uid, encode_folder(done))
        if status != "OK":
            raise MailboxError(f"{verb} {uid} to {done} failed: {data!r}")
