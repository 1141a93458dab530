"""Ingest benchmark: 1,000 varied e-mails through inquiries.ingest.receive on PostgreSQL; prints, never asserts.

    .venv/bin/python bench/ingest.py      # BENCH_DATABASE_URL, BENCH_MESSAGES, BENCH_WORKERS to change

It uses its own throwaway PostgreSQL database, BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/rd_bench_ingest; created and migrated if missing, its inquiry tables
emptied before each run), never DATABASE_URL. Prints messages per second (store + parse + dedupe + thread, one
receive() per message, as the MTA pipe and the poller call it), the parse-only rate, and the
reconciliation raw = tickets + replies + notes + quarantined + duplicates.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reimbursement.settings")
# Production settings: with DEBUG on, Django logs every query (time and memory the real desk does not spend).
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
# Its own database, never DATABASE_URL: the benchmark empties the inquiry tables of the database it uses.
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rd_bench_ingest")

TOTAL = int(os.environ.get("BENCH_MESSAGES", "1000"))
# One process (the poller) and one per core (concurrent MTA pipe deliveries; PostgreSQL groups their commits).
WORKERS = [int(w) for w in os.environ.get("BENCH_WORKERS", "1,2").split(",") if w]
# The poller's path (ingest.receive_many, BATCH_SIZE messages per call); BENCH_BATCH_WORKERS= (empty) skips it.
BATCH_WORKERS = [int(w) for w in os.environ.get("BENCH_BATCH_WORKERS", "1,2").split(",") if w]
CORPUS = ROOT / "tests" / "inquiries" / "emails"
OURS = "support@reimbursement.example.com"
PEOPLE = [
    ("Maria Gonzalez", "maria.gonzalez@example.com"),
    ("Peter Novak", "peter.novak@example.net"),
    ("Jürgen Müller", "juergen.mueller@example.net"),
    ("王丽", "li.wang@example.com"),
    ("김민준", "minjun.kim@example.com"),
    ("Zoë Ångström", "zoe.angstrom@example.com"),
    ("Priya Raman", "priya.raman@example.com"),
    ("Olivia Chen", "olivia.chen@example.org"),
    ("Tom Walsh", "tom.walsh@example.org"),
    ("Ольга Смирнова", "olga.smirnova@example.org"),
    ("François Lefèvre", "f.lefevre@example.net"),
    ("Sarah Lee", "sarah.lee@example.com"),
]
CODES = ["62362", "62368", "62369", "62370", "J2274", "J2278", "A4220", "G89.29", "G89.4", "M54.50", "95990", "E0782"]
QUESTIONS = [
    "What is the 2026 allowed amount for {a} in locality 01?",
    "Does {a} pay separately when billed with {b} on the same day?",
    "Our claim for {a} was denied with diagnosis {b}. Which modifier do we need?",
    "Is {b} acceptable as the primary diagnosis for {a}?",
    "What does an ASC get paid for {a} this year, and is {b} packaged?",
]
CHARSETS = [
    ("utf-8", "Grüße aus der Abrechnung — bitte um Rückmeldung zu {a}."),
    ("iso-8859-1", "Merci de votre aide, la pompe implantée coûte combien pour {a} ?"),
    ("windows-1252", "Thanks – “urgent” question about {a}."),
    ("gb2312", "您好，关于鞘内注射泵的报销问题：{a} 的支付金额是多少？"),
    ("shift_jis", "お世話になっております。{a} の償還について質問があります。"),
    ("koi8-r", "Здравствуйте! Вопрос о возмещении по коду {a}."),
    ("euc-kr", "안녕하세요. {a} 수가 문의드립니다."),
]


def _base(rng: random.Random, when: datetime, *, sender=None, subject: str) -> EmailMessage:
    name, address = sender or rng.choice(PEOPLE)
    msg = EmailMessage()
    msg["From"] = f"{name} <{address}>"
    msg["To"] = f"Reimbursement Support <{OURS}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
    return msg


def _question(rng: random.Random) -> tuple[str, str]:
    a, b = rng.sample(CODES, 2)
    return f"Question about {a}", rng.choice(QUESTIONS).format(a=a, b=b) + "\n\nThanks,\nBilling office\n"


def generate(rng: random.Random) -> list[tuple[str, bytes, int]]:
    """Return (kind, raw bytes, conversation) for TOTAL messages: mostly questions, with replies, forwards, noise.

    Messages of one conversation (a question, its replies, auto-replies and bounces, redeliveries) share
    the conversation number, so parallel workers see each conversation in order.
    """
    messages: list[tuple[str, bytes, int]] = []
    questions: list[EmailMessage] = []
    conversation: dict[str, int] = {}
    start = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    corpus = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
    kinds = (
        ["plain"] * 34
        + ["html"] * 10
        + ["attachment"] * 10
        + ["charset"] * 12
        + ["reply"] * 12
        + ["forward"] * 5
        + ["corpus"] * 5
        + ["auto_reply"] * 4
        + ["bounce"] * 3
        + ["duplicate"] * 4
        + ["garbage"] * 1
    )
    for index in range(TOTAL):
        when = start + timedelta(minutes=7 * index)
        kind = rng.choice(kinds) if questions or index else "plain"
        if kind in ("reply", "auto_reply", "bounce", "duplicate") and not questions:
            kind = "plain"
        subject, body = _question(rng)
        group = index
        if kind == "plain":
            msg = _base(rng, when, subject=subject)
            msg.set_content(body)
        elif kind == "html":
            msg = _base(rng, when, subject=subject)
            msg.set_content(body)
            paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines() if line)
            msg.add_alternative(
                f"<html><body>{paragraphs}<table><tr><td>{subject}</td></tr></table></body></html>", subtype="html"
            )
        elif kind == "attachment":
            msg = _base(rng, when, subject=subject + " (EOB attached)")
            msg.set_content(body)
            size = rng.randint(2_000, 60_000)
            msg.add_attachment(rng.randbytes(size), maintype="application", subtype="pdf", filename=f"EOB {index}.pdf")
            if rng.random() < 0.3:
                msg.add_attachment(rng.randbytes(5_000), maintype="image", subtype="png", filename="scan.png")
        elif kind == "charset":
            charset, text = rng.choice(CHARSETS)
            msg = _base(rng, when, subject=subject)
            msg.set_content(
                text.format(a=rng.choice(CODES)) + "\n", charset=charset, cte="8bit" if rng.random() < 0.5 else "base64"
            )
        elif kind == "reply":
            parent = rng.choice(questions)
            group = conversation[parent["Message-ID"]]
            msg = _base(rng, when, sender=_sender(parent), subject="Re: " + parent["Subject"])
            msg["In-Reply-To"] = parent["Message-ID"]
            msg["References"] = parent["Message-ID"]
            msg.set_content("One more detail: " + body + "\n> earlier question quoted here\n")
        elif kind == "forward":
            inner = _base(rng, when - timedelta(days=1), subject=subject)
            inner.set_content(body)
            msg = _base(rng, when, subject="Fwd: " + subject)
            msg.set_content("Forwarding this from our physician.\n")
            if rng.random() < 0.5:
                msg.add_attachment(inner)
            else:
                msg.set_content(
                    "See below.\n\n---------- Forwarded message ---------\n"
                    f"From: {inner['From']}\nDate: {inner['Date']}\nSubject: {subject}\nTo: billing@example.com\n\n{body}"
                )
        elif kind == "corpus":
            messages.append((kind, rng.choice(corpus), -1))  # corpus files thread among themselves
            continue
        elif kind == "auto_reply":
            parent = rng.choice(questions)
            group = conversation[parent["Message-ID"]]
            msg = _base(rng, when, sender=_sender(parent), subject="Automatic reply: " + parent["Subject"])
            msg["Auto-Submitted"] = "auto-replied"
            msg["In-Reply-To"] = parent["Message-ID"]
            msg.set_content("I am out of the office until Monday.\n")
        elif kind == "bounce":
            parent = rng.choice(questions)
            group = conversation[parent["Message-ID"]]
            msg = _base(rng, when, sender=("Mail Delivery System", "MAILER-DAEMON@mx.example.net"), subject="Undelivered Mail")
            msg["Auto-Submitted"] = "auto-replied"
            msg.set_content("Your message could not be delivered.\n")
            msg.make_mixed()
            msg.add_attachment(parent)
            msg.set_type("multipart/report")
            msg.set_param("report-type", "delivery-status")
        elif kind == "duplicate":
            _, raw, group = rng.choice(messages[-50:])
            messages.append((kind, raw, group))
            continue
        else:  # garbage
            messages.append((kind, rng.randbytes(400).replace(b":", b";"), group))
            continue
        if kind in ("plain", "html", "attachment", "charset"):
            questions.append(msg)
            conversation[msg["Message-ID"]] = group
        messages.append((kind, bytes(msg), group))
    return messages


def _sender(msg: EmailMessage) -> tuple[str, str]:
    address = msg["From"].addresses[0]
    return address.display_name, address.addr_spec


def setup_database() -> None:
    """Create the benchmark database if needed, migrate it and empty its inquiry tables."""
    import django
    import environ

    url = os.environ["DATABASE_URL"]
    config = environ.Env.db_url_config(url)
    if "postgresql" in config["ENGINE"]:
        import psycopg

        admin = {
            "host": config["HOST"] or "127.0.0.1",
            "port": config["PORT"] or 5432,
            "user": config["USER"],
            "dbname": "postgres",
        }
        with psycopg.connect(**admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone():
                conn.execute(f'CREATE DATABASE "{config["NAME"]}"')
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset() -> None:
    """Empty the benchmark database's inquiry tables (notes that matched no ticket have no inquiry to cascade from)."""
    from inquiries.models import Inquiry, Message, RawMessage

    Message.objects.all().delete()
    RawMessage.objects.all().delete()
    Inquiry.objects.all().delete()


def work(messages: list[bytes], results, batch: bool = False) -> None:
    """Receive the messages in order (one worker process); put the outcome counts on results.

    Single: ingest.receive per message, as the MTA pipe does. Batch: ingest.receive_many per BATCH_SIZE
    messages, as poll_mailbox does.
    """
    from django.db import connection

    from inquiries import ingest
    from inquiries.models import RawMessage

    outcomes: Counter[str] = Counter()
    cpu = time.process_time()
    if batch:
        for start in range(0, len(messages), ingest.BATCH_SIZE):
            try:
                received = ingest.receive_many(messages[start : start + ingest.BATCH_SIZE], source=RawMessage.Source.IMAP)
                outcomes.update(str(result.outcome) for result in received)
            except Exception as error:  # noqa: BLE001 - a benchmark counts crashes instead of stopping
                outcomes["crash"] += 1
                print(f"  crash: {type(error).__name__}: {error}")
    for raw in [] if batch else messages:
        try:
            outcomes[str(ingest.receive(raw, source=RawMessage.Source.PIPE).outcome)] += 1
        except Exception as error:  # noqa: BLE001 - a benchmark counts crashes instead of stopping
            outcomes["crash"] += 1
            print(f"  crash: {type(error).__name__}: {error}")
    outcomes["cpu_ms"] = round((time.process_time() - cpu) * 1000)
    connection.close()
    results.put(outcomes)


def run(messages: list[tuple[str, bytes, int]], workers: int, batch: bool = False) -> tuple[float, Counter]:
    """Ingest all messages with this many worker processes (a conversation stays on one); return seconds, outcomes."""
    from django.db import connection

    shares: list[list[bytes]] = [[] for _ in range(workers)]
    for _, raw, group in messages:
        shares[group % workers if group >= 0 else 0].append(raw)
    connection.close()  # each forked worker opens its own connection
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=work, args=(share, results, batch)) for share in shares]
    started = time.perf_counter()
    for process in processes:
        process.start()
    outcomes: Counter[str] = Counter()
    for _ in processes:
        outcomes.update(results.get())
    for process in processes:
        process.join()
    return time.perf_counter() - started, outcomes


def reconcile(total: int) -> str:
    """Return the line raw = tickets + replies + notes + quarantined + duplicates, from the database."""
    from inquiries.models import Inquiry, Message, RawMessage

    stored = Counter(RawMessage.objects.exclude(source=RawMessage.Source.OUTBOUND).values_list("outcome", flat=True))
    raw_total = sum(stored.values())
    accounted = sum(stored[p] for p in ("new_ticket", "reply", "note", "quarantined", "duplicate"))
    verdict = "nothing lost" if raw_total == accounted == total else "MISMATCH"
    return (
        f"raw {raw_total} = tickets {stored['new_ticket']} + replies {stored['reply']} + notes {stored['note']}"
        f" + quarantined {stored['quarantined']} + duplicates {stored['duplicate']} = {accounted} -> {verdict}"
        f" (pending {stored['pending']}; {Inquiry.objects.count()} inquiries, {Message.objects.count()} messages)"
    )


def exclusive(url: str):
    """Return a connection holding an advisory lock on the benchmark database: two runs would empty each other's tables."""
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    if "postgresql" not in config["ENGINE"]:
        return None
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    conn = psycopg.connect(host=host, port=port, user=config["USER"], dbname=config["NAME"], autocommit=True)
    if not conn.execute("SELECT pg_try_advisory_lock(6006)").fetchone()[0]:
        print("another bench/ingest.py run holds this database; waiting for it to finish")
        conn.execute("SELECT pg_advisory_lock(6006)")
    return conn


def main() -> None:
    rng = random.Random(6)
    messages = generate(rng)
    setup_database()
    lock = exclusive(os.environ["DATABASE_URL"])  # noqa: F841 - held until the process exits
    from django.conf import settings
    from django.db import connection

    from inquiries import ingest, mailparse

    settings.MEDIA_ROOT = Path(os.environ.get("BENCH_MEDIA_ROOT", "/tmp/rd_bench_ingest_media"))
    kinds = Counter(kind for kind, _, _ in messages)
    size = sum(len(raw) for _, raw, _ in messages)
    print(f"{len(messages)} messages, {size / 1e6:.1f} MB, on {connection.vendor} ({connection.settings_dict['NAME']}):")
    print("  " + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())))

    started, cpu = time.perf_counter(), time.process_time()
    unparseable = 0
    for _, raw, _ in messages:
        try:
            mailparse.parse(raw)
        except mailparse.MessageParseError:
            unparseable += 1
    seconds = time.perf_counter() - started
    cpu_ms = (time.process_time() - cpu) * 1000 / len(messages)
    print(
        f"parse only (mailparse.parse):  {len(messages) / seconds:6.0f} messages/s, {unparseable} unparseable;"
        f" CPU {cpu_ms:.2f} ms/message"
    )

    runs = [(False, workers) for workers in WORKERS] + [(True, workers) for workers in BATCH_WORKERS]
    for batch, workers in runs:
        reset()
        seconds, outcomes = run(messages, workers, batch)
        label = f"{workers} process" + ("es" if workers > 1 else "")
        path = f"ingest.receive_many ({ingest.BATCH_SIZE}/batch)" if batch else "ingest.receive (one by one)"
        # Python CPU per message does not depend on how busy the machine is; wall-clock rate does.
        cpu_ms = outcomes.pop("cpu_ms") / len(messages)
        print(
            f"{path:32}, {label:11}: {len(messages) / seconds:6.0f} messages/s"
            f" ({seconds:.2f} s, {outcomes['crash']} crashes; Django-side CPU {cpu_ms:.1f} ms/message)"
        )
        print(f"  reconciliation: {reconcile(len(messages))}")


if __name__ == "__main__":
    main()
