"""Turn the raw bytes of one e-mail into a ParsedMessage: pure, no database, never crashes on odd mail.

The raw bytes are handed to the stdlib MIME parser undecoded (email.message_from_bytes with policy.default;
compat32 when the modern policy chokes on a broken header). Headers are decoded here, from their raw form,
with our own charset fallback chain, so wrong labels, 8-bit headers and unknown charsets still give text.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import functools
import html as htmllib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message

import charset_normalizer
import nh3
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig


class _ParsePolicy(policy.EmailPolicy):
    """policy.default, building each distinct header object once: the MIME parser re-reads Content-Type many times."""

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        # Only short values are kept: a huge header must not pin megabytes in the cache of a long-running poller.
        return _header_object(name, value) if len(value) <= 2000 else policy.default.header_fetch_parse(name, value)


@functools.lru_cache(maxsize=2048)
def _header_object(name: str, value: str):
    # Header objects are immutable strings; a value that policy.default rejects raises here on every call.
    return policy.default.header_fetch_parse(name, value)


PARSE_POLICY = _ParsePolicy()


# Every message we send carries this header; mail.py sets it, and parse() flags it when it comes back.
LOOP_HEADER = ("X-Loop", "reimbursement-desk")
TOKEN_PREFIX = "RD"
TOKEN_RE = re.compile(rf"\[{TOKEN_PREFIX}-(\d{{1,12}})\]", re.IGNORECASE)

# Labels mail clients put on text that is really in a superset charset (what browsers and osTicket/RT do).
CHARSET_ALIASES = {
    "gb2312": "gbk",
    "gb_2312-80": "gbk",
    "x-gbk": "gbk",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}
# 8-bit text labelled ASCII is UTF-8 or, from older Western mailers, windows-1252; detection guesses
# worse than that on short messages.
ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"}
NO_CHARSET = {"", "unknown-8bit", "x-unknown", "unknown", "default", "charset", "none"}

AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Mail-Autoreply", "X-Autoresponder")
OOF_SUBJECT_RE = re.compile(
    r"^\s*(automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response|out of (?:the )?office(?: autoreply)?|"
    r"abwesenheitsnotiz|r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica)\s*:",
    re.IGNORECASE,
)
DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
FORWARD_MARKER_RE = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:Forwarded message|Original Message|Forwarded Message|Message transféré|"
    r"Weitergeleitete Nachricht|Ursprüngliche Nachricht|Mensaje reenviado|Mensaje original)\s*-{2,}|"
    r"Begin forwarded message:|_{20,})[ \t]*$",  # Outlook 365 puts a rule of underscores before From/Sent/To/Subject
    re.IGNORECASE | re.MULTILINE,
)
FORWARD_SUBJECT_RE = re.compile(r"^\s*(fwd?|wg|tr|rv|vs|doorst|enc)\s*:", re.IGNORECASE)
OUTLOOK_HEADER_BLOCK_RE = re.compile(r"^\*?From:\*?[ \t].*\n\*?(?:Sent|Date):\*?[ \t]", re.IGNORECASE | re.MULTILINE)
FORWARD_HEADER_RE = re.compile(r"^[ \t>]*\*?(From|Sent|Date|To|Cc|Subject)\*?:[ \t]*(.*)$", re.IGNORECASE)
RFC5322_DATE_RE = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|[A-Z]{2,5})"
)
OUR_MSGID_LOCAL_RE = re.compile(r"^\d+\.\d+\.\d+")  # make_msgid(): time.pid.random[.idstring]
MSGID_RE = re.compile(r"<([^<>\s]+)>")
MSGID_LINE_RE = re.compile(r"^Message-ID:\s*<([^<>\s]+)>", re.IGNORECASE | re.MULTILINE)
SURROGATE_RE = re.compile("[\udc80-\udcff]")  # undecodable bytes the parser kept with surrogateescape
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
FILENAME_RESERVED_RE = re.compile(r'[<>:"/\\|?*]')
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
MAX_FILENAME = 200
HTML_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False)
HTML_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}
SIGNED_DATA_OID = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2


class MessageParseError(Exception):
    """Nothing usable could be extracted from the raw bytes (the caller quarantines them)."""


@dataclass
class ParsedAttachment:
    filename: str
    original_filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False


@dataclass
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reply: bool = False
    auto_reply_reason: str = ""
    bounce: bool = False
    bounce_original_message_ids: list[str] = field(default_factory=list)
    bounce_recipients: list[str] = field(default_factory=list)
    own_loop: bool = False
    forwarded: list[ParsedMessage] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    # Where the text came from: "text/plain", "text/html", "tnef" or "" (no body).
    text_source: str = ""

    @property
    def automated(self) -> bool:
        """Return True for anything that must never be answered or become a ticket."""
        return self.auto_reply or self.bounce or self.own_loop

    @property
    def reply_address(self) -> str:
        """Return where an answer goes: the first Reply-To, else From."""
        return self.reply_to[0] if self.reply_to else self.from_address

    @property
    def thread_ids(self) -> list[str]:
        """Return In-Reply-To then References, without repeats: the ids to look up for threading."""
        return _unique(self.in_reply_to + self.references)


def extract_ticket_token(subject: str) -> int | None:
    """Return the ticket number of the first [RD-n] token in subject, or None."""
    match = TOKEN_RE.search(subject or "")
    return int(match.group(1)) if match else None


def parse(raw: bytes, *, own_addresses: Iterable[str] | None = None) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raise MessageParseError only when nothing usable is in them.

    own_addresses are our sending addresses (default: settings.INQUIRIES_FROM_EMAIL and DEFAULT_FROM_EMAIL);
    mail from them, or with a Message-ID in their domains, is flagged own_loop.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise TypeError("parse() takes the raw bytes of a message")
    raw = bytes(raw)
    if not raw.strip():
        raise MessageParseError("empty message")
    own = _Own.from_addresses(tuple(own_addresses)) if own_addresses is not None else _settings_own()
    try:
        msg = email.message_from_bytes(raw, policy=PARSE_POLICY)
        parsed = _Extractor(own).message(msg)
    except Exception as error:  # noqa: BLE001 - the modern policy raises odd errors on broken headers
        try:
            msg = email.message_from_bytes(raw, policy=policy.compat32)
            parsed = _Extractor(own).message(msg)
        except Exception as fallback_error:  # noqa: BLE001
            raise MessageParseError(f"cannot parse message: {fallback_error!r}") from fallback_error
        parsed.defects.insert(0, f"modern e-mail policy failed ({type(error).__name__}); parsed with compat32")
    if not _usable(parsed, msg):
        raise MessageParseError("no headers or body found: " + "; ".join(parsed.defects[:5]))
    return parsed


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode data by the fallback chain: alias, declared charset, UTF-8, detection, windows-1252."""
    label = (charset or "").strip().strip("\"'").lower()
    candidates: list[str] = []
    if label in ASCII_LABELS:
        candidates = ["utf-8", "cp1252"]
    elif label not in NO_CHARSET:
        candidates.append(CHARSET_ALIASES.get(label, label))
    candidates.append("utf-8")
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    if len(data) >= 16:
        best = charset_normalizer.from_bytes(data).best()
        if best is not None:
            return str(best)
    return data.decode("cp1252", errors="replace")


def decode_header_value(value: str) -> str:
    """Decode one raw (possibly folded, 8-bit or RFC 2047 encoded) header value to text."""
    value = _unfold(value)
    if _has_surrogates(value):
        value = decode_bytes(value.encode("ascii", "surrogateescape"), None)
    if "=?" not in value:
        return value.strip()
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # noqa: BLE001 - broken encoded words: show them as they are
        return value.strip()
    out = []
    for chunk, chunk_charset in chunks:
        out.append(decode_bytes(chunk, chunk_charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out).strip()


def html_to_text(html: str) -> str:
    """Return readable text for agents from HTML, keeping paragraphs, lists and tables."""
    if not html.strip():
        return ""
    try:
        text = get_text(html, HTML_TEXT_CONFIG)
    except Exception:  # noqa: BLE001 - lxml rejects some garbage; tags stripped crudely still beat nothing
        text = ""
    if not text.strip():
        # lxml gives up on some markup (e.g. nesting deeper than libxml2's limit) and returns nothing.
        stripped = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", html, flags=re.IGNORECASE | re.DOTALL)
        text = htmllib.unescape(re.sub(r"<[^>]*>", " ", stripped))
    return _tidy_text(text)


def sanitize_html(html: str) -> str:
    """Return html made safe to display (scripts, styles, handlers and unsafe URLs removed)."""
    return nh3.clean(html, url_schemes=HTML_URL_SCHEMES) if html.strip() else ""


def safe_filename(name: str, *, content_type: str = "application/octet-stream", index: int = 1) -> str:
    """Return a file name safe on any disk and in a download header: no path, controls or reserved names."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = CONTROL_RE.sub("", name)
    name = FILENAME_RESERVED_RE.sub("_", name)
    name = name.strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].lower() in WINDOWS_RESERVED:
        stem = "_" + stem
    if not stem:
        stem = f"attachment-{index}"
        if not ext:
            ext = (mimetypes.guess_extension(content_type) or ".bin").lstrip(".")
    ext = ext[:20]
    stem = stem[: MAX_FILENAME - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem


class _Extractor:
    """Walk one parsed message tree and fill a ParsedMessage."""

    def __init__(self, own: _Own):
        self.own = own

    def message(self, msg: Message, *, depth: int = 0) -> ParsedMessage:
        """Return everything we read from msg (recursing into forwarded messages up to a sane depth)."""
        self.depth = depth
        parsed = ParsedMessage()
        self.parsed = parsed
        _raw_header_view(msg)
        self.texts: list[str] = []
        self.htmls: list[str] = []
        headers = _Headers(msg)
        self._headers(headers, parsed)
        self._walk(msg)
        plain = _tidy_text("\n\n".join(t for t in self.texts if t.strip()))
        raw_html = "\n".join(self.htmls)
        parsed.html = sanitize_html(raw_html)
        if plain:
            parsed.text, parsed.text_source = plain, parsed.text_source or "text/plain"
        elif raw_html:
            parsed.text, parsed.text_source = html_to_text(raw_html), "text/html"
        attached = list(parsed.forwarded)
        self._inline_forwards(parsed)
        # Agents read (and codes are detected in) the forwarded text too, as a mail client shows it.
        for forwarded in attached:
            block = f"---------- Forwarded message ----------\nFrom: {forwarded.from_name} <{forwarded.from_address}>\n"
            block += f"Subject: {forwarded.subject}\n\n{forwarded.text}"
            parsed.text = f"{parsed.text}\n\n{block}".strip()
        self._flags(headers, msg, parsed)
        parsed.defects.extend(_defect_names(msg))
        return parsed

    def _headers(self, headers: _Headers, parsed: ParsedMessage) -> None:
        parsed.subject = " ".join(headers.text("Subject").split())
        parsed.message_id = _message_id(headers.raw("Message-ID"))
        if headers.raw("Message-ID") is None:
            parsed.defects.append("missing Message-ID")
        elif parsed.message_id is None:
            parsed.defects.append("malformed Message-ID")
        parsed.in_reply_to = _message_ids(headers.raw("In-Reply-To") or "")
        parsed.references = _message_ids(" ".join(headers.all_raw("References")))
        senders = headers.addresses("From") or headers.addresses("Sender")
        if senders:
            parsed.from_name, parsed.from_address = senders[0]
        elif headers.text("From"):
            parsed.from_name = headers.text("From").strip('" ')  # a name without an address
            parsed.defects.append("From has no address")
        else:
            parsed.defects.append("missing From")
        # Group syntax ("undisclosed-recipients:;") and bare names are not addresses anyone can be answered at.
        parsed.reply_to = _unique([address for _, address in headers.addresses("Reply-To") if "@" in address])
        parsed.to = _unique([address for _, address in headers.addresses("To") if "@" in address])
        parsed.cc = _unique([address for _, address in headers.addresses("Cc") if "@" in address])
        parsed.date = _date(headers.raw("Date"))
        if headers.raw("Date") is None:
            parsed.defects.append("missing Date")
        elif parsed.date is None:
            parsed.defects.append("malformed Date")

    # MIME walk -----------------------------------------------------------------------------------------

    def _walk(self, part: Message) -> None:
        ctype = _content_type(part)
        # The parser makes message/* parts multipart (a list of header blocks): check them first. Only
        # rfc822/global hold a message; delivery-status, disposition-notification and the like are reports.
        if ctype in ("message/rfc822", "message/global"):
            self._attached_message(part)
            return
        if ctype.startswith("message/"):
            self._attachment(part, default_name=ctype.partition("/")[2] + ".txt")
            return
        if part.is_multipart():
            subtype = ctype.partition("/")[2]
            children = _children(part)
            if subtype == "alternative":
                self._alternative(children)
            elif subtype == "related":
                self._related(part, children)
            elif subtype == "signed":
                self._signed(part, children)
            elif subtype == "report":
                self._report(part, children)
            else:
                for child in children:
                    self._walk(child)
            return
        if ctype in ("application/ms-tnef", "application/vnd.ms-tnef") or _filename(part).lower() == "winmail.dat":
            self._tnef(part)
        elif ctype in ("application/pkcs7-mime", "application/x-pkcs7-mime") and "signed" in _param(part, "smime-type"):
            self._opaque_signed(part)
        elif ctype.startswith("multipart/"):  # no usable boundary: the parser left the body as one string
            self.texts.append(_part_text(part))
        elif ctype in ("text/plain", "text/html") and not _is_attachment(part):
            text = _part_text(part)
            (self.htmls if ctype == "text/html" else self.texts).append(text)
        else:
            self._attachment(part)

    def _alternative(self, children: list[Message]) -> None:
        # Take the plain text if it says something, the richest HTML for display; attachments from all.
        before_texts, before_htmls = len(self.texts), len(self.htmls)
        for child in children:
            self._walk(child)
        texts = self.texts[before_texts:]
        if len(texts) > 1:
            self.texts[before_texts:] = [max(texts, key=len)]
        htmls = self.htmls[before_htmls:]
        if len(htmls) > 1:
            self.htmls[before_htmls:] = [htmls[-1]]

    def _related(self, part: Message, children: list[Message]) -> None:
        start = _param(part, "start")
        root_index = 0
        if start:
            for index, child in enumerate(children):
                if (child.get("Content-ID") or "").strip() == start.strip():
                    root_index = index
        for index, child in enumerate(children):
            if index == root_index:
                self._walk(child)
            else:
                self._attachment(child, inline=True)

    def _signed(self, part: Message, children: list[Message]) -> None:
        if not children:
            return
        self._walk(children[0])
        for signature in children[1:]:
            protocol = _param(part, "protocol").lower()
            default = "smime.p7s" if "pkcs7" in protocol or "pkcs7" in _content_type(signature) else "signature.asc"
            self._attachment(signature, default_name=default)

    def _report(self, part: Message, children: list[Message]) -> None:
        report_type = _param(part, "report-type").lower()
        if report_type == "delivery-status":
            self.parsed.bounce = True
        elif report_type == "disposition-notification":
            self._auto("read receipt (message disposition notification)")
        for child in children:
            ctype = _content_type(child)
            if ctype == "message/delivery-status":
                self._delivery_status(child)
                self._attachment(child, default_name="delivery-status.txt")
            elif ctype == "text/rfc822-headers":
                headers = email.message_from_bytes(child.get_payload(decode=True) or b"", policy=policy.compat32)
                self._bounced_ids(headers)
                self._attachment(child, default_name="original-headers.txt")
            elif ctype == "message/rfc822":
                original = _sub_message(child)
                if original is not None:
                    self._bounced_ids(original)
                self._attachment(child, default_name="original-message.eml")
            else:
                self._walk(child)

    def _delivery_status(self, part: Message) -> None:
        payload = part.get_payload()
        if isinstance(payload, list):  # the parser splits delivery-status into per-recipient header blocks
            blocks = [dict((k.lower(), str(v)) for k, v in block.items()) for block in payload]
        else:
            text = decode_bytes(part.get_payload(decode=True) or b"", "utf-8")
            blocks = [_header_block(chunk) for chunk in re.split(r"\r?\n\s*\r?\n", text)]
        for block in blocks:
            recipient = block.get("final-recipient") or block.get("original-recipient") or ""
            action = block.get("action", "failed").strip().lower()
            address = recipient.partition(";")[2].strip() if ";" in recipient else recipient.strip()
            if address and action in ("failed", "delayed"):
                self.parsed.bounce_recipients.append(address.strip("<>").lower())

    def _bounced_ids(self, original: Message) -> None:
        message_id = _message_id(_raw_header(original, "Message-ID"))
        if message_id:
            self.parsed.bounce_original_message_ids.append(message_id)

    def _attached_message(self, part: Message) -> None:
        inner = _sub_message(part)
        if inner is None:
            self._attachment(part, default_name="message.eml")
            return
        forwarded = _Extractor(self.own).message(inner, depth=self.depth + 1) if self.depth < 5 else None
        if forwarded is not None:
            self.parsed.forwarded.append(forwarded)
        name = (forwarded.subject if forwarded else "") or "forwarded message"
        data = _message_bytes(inner)
        self._add_attachment(
            original=_filename(part) or f"{name}.eml",
            content_type="message/rfc822",
            data=data,
            content_id=_content_id(part),
            inline=False,
        )

    def _tnef(self, part: Message) -> None:
        from tnefparse import TNEF

        data = part.get_payload(decode=True) or b""
        try:
            tnef = TNEF(data, do_checksum=False)
        except Exception as error:  # noqa: BLE001 - keep the blob when it cannot be unpacked
            self.parsed.defects.append(f"winmail.dat could not be unpacked: {error}")
            self._attachment(part, default_name="winmail.dat")
            return
        body = tnef.body
        if body and not any(text.strip() for text in self.texts):
            text = decode_bytes(body, None) if isinstance(body, bytes) else str(body)
            self.texts.append(text.replace("\x00", ""))
            self.parsed.text_source = "tnef"
        if tnef.htmlbody and not any(html.strip() for html in self.htmls):
            html = tnef.htmlbody
            self.htmls.append(decode_bytes(html, None) if isinstance(html, bytes) else str(html))
        for attachment in tnef.attachments:
            original = attachment.long_filename() or attachment.name
            if isinstance(original, bytes):
                original = decode_bytes(original.rstrip(b"\x00"), None)
            self._add_attachment(
                original=original,
                content_type=mimetypes.guess_type(original)[0] or "application/octet-stream",
                data=bytes(attachment.data or b""),
                content_id=None,
                inline=False,
            )

    def _opaque_signed(self, part: Message) -> None:
        data = part.get_payload(decode=True) or b""
        content = _signed_data_content(data)
        self._attachment(part, default_name="smime.p7m")
        if content is None:
            self.parsed.defects.append("S/MIME signed-data content could not be extracted; kept as smime.p7m")
            return
        try:
            inner = email.message_from_bytes(content, policy=PARSE_POLICY)
            _raw_header_view(inner)
            self._walk(inner)
        except Exception as error:  # noqa: BLE001
            self.parsed.defects.append(f"S/MIME content is not a MIME entity: {error}")

    def _attachment(self, part: Message, *, inline: bool = False, default_name: str = "") -> None:
        data = part.get_payload(decode=True)
        if data is None:
            payload = part.get_payload()
            if isinstance(payload, list):  # message/* parts: every embedded block (delivery-status has several)
                data = b"".join(_message_bytes(block) for block in payload)
            else:
                data = str(payload or "").encode("utf-8", "surrogateescape")
        disposition = (part.get_content_disposition() or "").lower()
        self._add_attachment(
            original=_filename(part) or default_name,
            content_type=_content_type(part),
            data=data,
            content_id=_content_id(part),
            inline=inline or disposition == "inline",
        )

    def _add_attachment(self, *, original: str, content_type: str, data: bytes, content_id: str | None, inline: bool) -> None:
        index = len(self.parsed.attachments) + 1
        self.parsed.attachments.append(
            ParsedAttachment(
                filename=safe_filename(original, content_type=content_type, index=index),
                original_filename=original,
                content_type=content_type,
                size=len(data),
                data=data,
                content_id=content_id,
                inline=inline,
            )
        )

    # Flags ---------------------------------------------------------------------------------------------

    def _auto(self, reason: str) -> None:
        if not self.parsed.auto_reply:
            self.parsed.auto_reply, self.parsed.auto_reply_reason = True, reason

    def _flags(self, headers: _Headers, msg: Message, parsed: ParsedMessage) -> None:
        auto_submitted = headers.text("Auto-Submitted").split(";")[0].strip().lower()
        if auto_submitted and auto_submitted != "no":
            self._auto(f"Auto-Submitted: {auto_submitted}")
        for name in AUTO_REPLY_HEADERS:
            if headers.raw(name) is not None:
                self._auto(f"{name} header")
        precedence = headers.text("Precedence").strip().lower()
        if precedence in ("bulk", "junk", "list", "auto_reply"):
            self._auto(f"Precedence: {precedence}")
        suppress = {v.strip().lower() for v in headers.text("X-Auto-Response-Suppress").split(",")}
        if suppress & {"oof", "all"}:
            self._auto("X-Auto-Response-Suppress: " + headers.text("X-Auto-Response-Suppress"))
        if headers.raw("X-MS-Exchange-Inbox-Rules-Loop") is not None:
            self._auto("X-MS-Exchange-Inbox-Rules-Loop header (Exchange rule or out-of-office)")
        if headers.raw("X-MS-Exchange-Generated-Message-Source") is not None:
            self._auto("X-MS-Exchange-Generated-Message-Source header")
        topic = headers.text("Thread-Topic")
        if OOF_SUBJECT_RE.match(parsed.subject) or (topic and OOF_SUBJECT_RE.match(topic)):
            self._auto("out-of-office subject")
        local_part = parsed.from_address.partition("@")[0].lower()
        failed = [a.strip().lower() for v in headers.all_raw("X-Failed-Recipients") for a in v.split(",") if a.strip()]
        if failed:
            parsed.bounce = True
            parsed.bounce_recipients.extend(failed)
        if local_part in DAEMON_LOCALPARTS or (headers.text("Return-Path").strip() == "<>" and not parsed.auto_reply):
            if local_part in DAEMON_LOCALPARTS or _content_type(msg) == "multipart/report":
                parsed.bounce = True
            else:
                self._auto("null Return-Path")
        if parsed.bounce and not parsed.bounce_original_message_ids:
            # Non-DSN bounces (qmail, Exchange legacy) quote the original headers in the body text.
            parsed.bounce_original_message_ids = MSGID_LINE_RE.findall(parsed.text)
            for forwarded in parsed.forwarded:
                if forwarded.message_id:
                    parsed.bounce_original_message_ids.append(forwarded.message_id)
        parsed.bounce_original_message_ids = _unique(parsed.bounce_original_message_ids)
        parsed.bounce_recipients = _unique(parsed.bounce_recipients)
        loop_name, loop_value = LOOP_HEADER
        if any(loop_value in value.lower() for value in headers.all_raw(loop_name)):
            parsed.own_loop = True
        elif not parsed.bounce:
            local, _, id_domain = (parsed.message_id or "").rpartition("@")
            # Only ids of the shape we generate (email.utils.make_msgid): an agent's own mail client may also
            # use our domain, and a customer mail an agent forwards to the desk must still become a ticket.
            ours = id_domain.lower() in self.own.domains and OUR_MSGID_LOCAL_RE.match(local) is not None
            parsed.own_loop = ours or parsed.from_address in self.own.addresses

    def _inline_forwards(self, parsed: ParsedMessage) -> None:
        if self.depth >= 5 or not parsed.text:
            return
        starts = [match.end() for match in FORWARD_MARKER_RE.finditer(parsed.text)]
        if not starts and FORWARD_SUBJECT_RE.match(parsed.subject):
            # HTML forwards (Outlook) lose the marker line in the text: a From:/Sent: block starts the message.
            starts = [match.start() for match in OUTLOOK_HEADER_BLOCK_RE.finditer(parsed.text)][:1]
        for start in starts:
            forwarded = _inline_forward(parsed.text[start:])
            if forwarded is not None:
                parsed.forwarded.append(forwarded)


class _Headers:
    """Raw header access with our own decoding (fast, and tolerant of what the modern policy rejects)."""

    def __init__(self, msg: Message):
        self.items: dict[str, list[str]] = {}
        for name, value in msg.raw_items():
            self.items.setdefault(name.lower(), []).append(str(value))

    def raw(self, name: str) -> str | None:
        values = self.items.get(name.lower())
        return _unfold(values[0]) if values else None

    def all_raw(self, name: str) -> list[str]:
        return [_unfold(v) for v in self.items.get(name.lower(), [])]

    def text(self, name: str) -> str:
        value = self.raw(name)
        return decode_header_value(value) if value is not None else ""

    def addresses(self, name: str) -> list[tuple[str, str]]:
        values = self.all_raw(name)
        if not values:
            return []
        values = [decode_bytes(v.encode("ascii", "surrogateescape"), None) if _has_surrogates(v) else v for v in values]
        found = []
        for display, address in email.utils.getaddresses(values):
            address = address.strip().strip("<>").lower()
            if "@" not in address and not display:
                continue
            found.append((decode_header_value(display).strip().strip('"').strip(), address))
        return found


def _raw_header_view(msg: Message) -> None:
    """Read headers of msg's parts as raw strings from now on; we decode them ourselves.

    The tree was parsed under policy.default, but its header objects cost most of the parse time and
    raise on broken headers; parameters and payloads read the compat32 way are what we decode anyway.
    """
    for part in msg.walk():
        part.policy = policy.compat32


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", " ") if "\n" in value else value


def _has_surrogates(value: str) -> bool:
    return SURROGATE_RE.search(value) is not None


def _tidy_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    match = MSGID_RE.search(value)
    candidate = match.group(1) if match else value.strip()
    if "@" not in candidate or any(ch.isspace() for ch in candidate) or candidate.startswith("@") or candidate.endswith("@"):
        return None
    return candidate


def _message_ids(value: str) -> list[str]:
    return _unique([v for v in MSGID_RE.findall(value) if "@" in v])


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        date = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if date is None or not 1970 <= date.year <= 2200:
        return None
    return date if date.tzinfo else date.replace(tzinfo=UTC)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _param(part: Message, name: str) -> str:
    value = part.get_param(name, header="content-type")
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return str(value or "")


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [child for child in payload if isinstance(child, Message)] if isinstance(payload, list) else []


def _is_attachment(part: Message) -> bool:
    return (part.get_content_disposition() or "").lower() == "attachment" or bool(_filename(part))


def _filename(part: Message) -> str:
    name = part.get_filename() or part.get_param("name", header="content-type") or ""
    if isinstance(name, tuple):
        name = email.utils.collapse_rfc2231_value(name)
    name = str(name)
    if _has_surrogates(name):
        name = decode_bytes(name.encode("ascii", "surrogateescape"), None)
    return decode_header_value(name) if name else ""


def _content_id(part: Message) -> str | None:
    value = _raw_header(part, "Content-ID")
    return value.strip().strip("<>") or None if value else None


def _raw_header(msg: Message, name: str) -> str | None:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _unfold(str(value))
    return None


def _part_text(part: Message) -> str:
    data = part.get_payload(decode=True)
    if data is None:
        data = str(part.get_payload() or "").encode("utf-8", "surrogateescape")
    return decode_bytes(data, _param(part, "charset"))


def _sub_message(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    data = part.get_payload(decode=True)
    return email.message_from_bytes(data, policy=PARSE_POLICY) if data else None


def _message_bytes(msg: Message) -> bytes:
    try:
        return msg.as_bytes(policy=policy.compat32)
    except Exception:  # noqa: BLE001
        return str(msg).encode("utf-8", "surrogateescape")


def _header_block(text: str) -> dict[str, str]:
    block = {}
    for line in re.sub(r"\n[ \t]+", " ", text).splitlines():
        name, sep, value = line.partition(":")
        if sep:
            block[name.strip().lower()] = value.strip()
    return block


def _defect_names(msg: Message) -> list[str]:
    names = []
    for part in msg.walk():
        names.extend(type(defect).__name__ for defect in getattr(part, "defects", []))
    return _unique(names)


def _inline_forward(block: str) -> ParsedMessage | None:
    """Return the message forwarded inline in block (header lines, blank line, body), or None."""
    lines = block.lstrip("\n").split("\n")
    fields: dict[str, str] = {}
    index = 0
    while index < len(lines):
        match = FORWARD_HEADER_RE.match(lines[index])
        if not match:
            if lines[index].strip() == "" and fields:
                break
            if fields and lines[index].startswith((" ", "\t")):  # wrapped header line
                last = list(fields)[-1]
                fields[last] += " " + lines[index].strip()
                index += 1
                continue
            if fields or index > 2:
                break
            index += 1
            continue
        fields.setdefault(match.group(1).lower(), match.group(2).strip())
        index += 1
    if "from" not in fields:
        return None
    end = FORWARD_MARKER_RE.search("\n".join(lines[index:]))
    body = "\n".join(lines[index:])
    if end:
        body = body[: end.start()]
    body = re.sub(r"^[ \t]*> ?", "", body, flags=re.MULTILINE) if block.lstrip().startswith(">") else body
    name, address = email.utils.parseaddr(fields["from"].replace("[mailto:", "<").replace("]", ">"))
    if "@" not in address:
        found = re.search(r"[\w.+-]+@[\w.-]+", fields["from"])
        address = found.group(0) if found else ""
    # Forward headers carry dates as the client displayed them, usually without a zone: keep RFC 5322 ones only.
    date_text = fields.get("date") or fields.get("sent") or ""
    date_text = date_text if RFC5322_DATE_RE.match(date_text) else ""
    to = [a.lower() for _, a in email.utils.getaddresses([fields.get("to", "")]) if "@" in a]
    cc = [a.lower() for _, a in email.utils.getaddresses([fields.get("cc", "")]) if "@" in a]
    return ParsedMessage(
        subject=" ".join(fields.get("subject", "").split()),
        from_name=name.strip().strip('"'),
        from_address=address.lower(),
        to=to,
        cc=cc,
        date=_date(date_text),
        text=_tidy_text(body),
        text_source="forwarded inline",
    )


def _signed_data_content(der: bytes) -> bytes | None:
    """Return the encapsulated content of a CMS SignedData blob (BER/DER), or None when it is not one."""
    try:
        tag, content, _ = _ber(der, 0)  # ContentInfo SEQUENCE
        if tag != 0x30:
            return None
        tag, oid, offset = _ber(content, 0)
        if tag != 0x06 or oid != SIGNED_DATA_OID:
            return None
        tag, explicit, _ = _ber(content, offset)  # [0] EXPLICIT SignedData
        tag, signed_data, _ = _ber(explicit, 0)
        offset = 0
        for _ in range(2):  # version, digestAlgorithms
            _, _, offset = _ber(signed_data, offset)
        _, encap, _ = _ber(signed_data, offset)  # EncapsulatedContentInfo
        _, _, offset = _ber(encap, 0)  # eContentType
        if offset >= len(encap):
            return None  # detached signature: no content inside
        _, wrapped, _ = _ber(encap, offset)  # [0] EXPLICIT eContent
        tag, octets, _ = _ber(wrapped, 0)
        if tag == 0x04:
            return octets
        if tag == 0x24:  # constructed OCTET STRING (BER chunks)
            chunks, offset = [], 0
            while offset < len(octets):
                chunk_tag, chunk, offset = _ber(octets, offset)
                if chunk_tag == 0x00:
                    break
                chunks.append(chunk)
            return b"".join(chunks)
    except (IndexError, ValueError):
        return None
    return None


def _ber(data: bytes, offset: int) -> tuple[int, bytes, int]:
    """Return (tag, content, next offset) of the BER element at offset (definite or indefinite length)."""
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length == 0x80:  # indefinite: content runs to the matching end-of-contents octets
        start = offset
        while data[offset : offset + 2] != b"\x00\x00":
            _, _, offset = _ber(data, offset)
        return tag, data[start:offset], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[offset : offset + count], "big")
        offset += count
    if offset + length > len(data):
        raise ValueError("truncated BER element")
    return tag, data[offset : offset + length], offset + length


def _usable(parsed: ParsedMessage, msg: Message) -> bool:
    """Return True when the parse found at least a sender, a subject, a body or an attachment."""
    has_headers = bool(parsed.from_address or parsed.subject or parsed.message_id)
    has_content = bool(parsed.text.strip() or parsed.attachments)
    return has_headers or (has_content and bool(list(msg.keys())))


@dataclass(frozen=True)
class _Own:
    """Our own sending addresses and their domains."""

    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    @functools.lru_cache(maxsize=16)  # called once per message with the same few settings values
    def from_addresses(cls, addresses: tuple[str, ...]) -> _Own:
        found = {a.lower() for _, a in email.utils.getaddresses([a for a in addresses if a]) if "@" in a}
        return cls(frozenset(found), frozenset(a.rpartition("@")[2] for a in found))


def _settings_own() -> _Own:
    """Return our own addresses from settings (none when Django is not configured)."""
    try:
        from django.conf import settings

        return _Own.from_addresses((settings.INQUIRIES_FROM_EMAIL, getattr(settings, "DEFAULT_FROM_EMAIL", "")))
    except Exception:  # noqa: BLE001 - parse() also runs outside Django (bench, scripts)
        return _Own(frozenset(), frozenset())
