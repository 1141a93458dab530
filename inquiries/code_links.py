"""Codes in questions: find ICD-10-CM, CPT and HCPCS codes in a subject and body, keep those the catalog knows.

Pattern matches are only candidates (a 5-digit ZIP code looks like CPT); the catalog decides, in one query.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from codes import pricing
from codes.models import Code
from inquiries.models import CodeLink, Inquiry

System = CodeLink.System

TOKEN = re.compile(r"(?<![\w.])([A-Z0-9]{3,7})(?:\.([A-Z0-9]{1,4}))?(?![\w])", re.IGNORECASE)
ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")
HCPCS = re.compile(r"^[A-V][0-9]{4}$")
CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")
MAX_CANDIDATES = 200  # a pasted spreadsheet must not turn into a huge query


def candidates(text: str) -> set[tuple[str, str]]:
    """Return (system, code) pairs that look like codes in `text`, dotless and upper case."""
    found: set[tuple[str, str]] = set()
    for match in TOKEN.finditer(text):
        head, tail = match.group(1).upper(), (match.group(2) or "").upper()
        if tail:
            # A dot after three characters is ICD-10-CM's own notation.
            if len(head) == 3 and ICD10CM.match(head + tail):
                found.add((System.ICD10CM, head + tail))
            continue
        if ICD10CM.match(head) and not head.isdecimal():
            found.add((System.ICD10CM, head))
        if HCPCS.match(head):
            found.add((System.HCPCS, head))
        if CPT.match(head):
            found.add((System.CPT, head))
        if len(found) >= MAX_CANDIDATES:
            break
    return found


def detect(*texts: str) -> list[tuple[str, str]]:
    """Return the catalog codes mentioned in the texts as sorted (system, code) pairs."""
    wanted = set()
    for text in texts:
        wanted |= candidates(text or "")
    if not wanted:
        return []
    by_system: dict[str, list[str]] = {}
    for system, code in wanted:
        by_system.setdefault(system, []).append(code)
    query = Q()
    for system, codes in by_system.items():
        query |= Q(system=system, code__in=codes)
    return sorted(set(Code.objects.filter(query).values_list("system", "code")))


def link_mentioned(inquiry: Inquiry, *texts: str) -> int:
    """Link the catalog codes mentioned in the texts, in one INSERT ... SELECT against the catalog; return rows added."""
    return link_mentioned_many([(inquiry.pk, texts)])


def link_mentioned_many(items: list[tuple[int, tuple[str, ...]]]) -> int:
    """Link the catalog codes mentioned in each (inquiry id, texts) pair, all in one statement; return rows added."""
    wanted: set[tuple[int, str, str]] = set()
    for inquiry_id, texts in items:
        found: set[tuple[str, str]] = set()
        for text in texts:
            found |= candidates(text or "")
        wanted |= {(inquiry_id, system, code) for system, code in found}
    if not wanted:
        return 0
    qn = connection.ops.quote_name
    link = {f.name: qn(f.column) for f in CodeLink._meta.concrete_fields}
    catalog = {f.name: qn(f.column) for f in Code._meta.concrete_fields}
    rows = sorted(wanted)
    values = ", ".join(["(CAST(%s AS INTEGER), %s, %s)"] * len(rows))
    # One round trip instead of a SELECT then an INSERT: ingest must stay at a handful of queries per message.
    sql = (
        f"WITH wanted (inquiry, sys, code) AS (VALUES {values}) "
        f"INSERT INTO {qn(CodeLink._meta.db_table)} "
        f"({link['inquiry']}, {link['system']}, {link['code']}, {link['origin']}, {link['added_at']}) "
        f"SELECT w.inquiry, c.{catalog['system']}, c.{catalog['code']}, %s, %s FROM {qn(Code._meta.db_table)} c "
        f"JOIN wanted w ON c.{catalog['system']} = w.sys AND c.{catalog['code']} = w.code WHERE 1 = 1 "
        "ON CONFLICT DO NOTHING"
    )
    params: list = [value for row in rows for value in row]
    params += [CodeLink.Origin.DETECTED, connection.ops.adapt_datetimefield_value(timezone.now())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def validate(*, system: str, code: str) -> tuple[str, str]:
    """Return (system, code) normalised if the catalog holds it; raise WorkflowError otherwise."""
    from inquiries.workflow import WorkflowError

    code = "".join(code.split()).replace(".", "").upper()
    if system not in System.values:
        raise WorkflowError(f"Unknown code system {system!r}.")
    if not Code.objects.filter(system=system, code=code).exists():
        raise WorkflowError(f"{System(system).label} code {code} is not in the catalog.")
    return system, code


def display(system: str, code: str) -> str:
    """Return the code as coders write it (ICD-10-CM with its dot)."""
    if system == System.ICD10CM and len(code) > 3:
        return f"{code[:3]}.{code[3:]}"
    return code


def catalog_url(system: str, code: str) -> str:
    """Return the catalog page of a code."""
    return reverse("codes:code_detail", kwargs={"system": system, "code": code})


def codes_text(inquiry: Inquiry) -> str:
    """Return the linked codes as 'ICD-10-CM G89.29, CPT 62362' for canned responses."""
    links = inquiry.code_links.all()
    return ", ".join(f"{System(link.system).label} {display(link.system, link.code)}" for link in links) or "(no codes)"


def payments(inquiry: Inquiry) -> list[dict]:
    """Return, per linked code, its description and latest national Medicare payments (when the fee schedules know it)."""
    links = list(inquiry.code_links.all())
    if not links:
        return []
    query = Q()
    for link in links:
        query |= Q(system=link.system, code=link.code)
    catalog = {(c.system, c.code): c for c in Code.objects.filter(query)}
    rows = []
    for link in links:
        code = catalog.get((link.system, link.code))
        figures = _national_payments(code) if code and link.system != System.ICD10CM else []
        rows.append(
            {
                "link": link,
                "display": display(link.system, link.code),
                "system_label": System(link.system).label,
                "description": (code.short_description or code.long_description) if code else "",
                "url": catalog_url(link.system, link.code),
                # Diagnosis codes justify a claim; Medicare pays for procedures, services and supplies.
                "diagnosis": link.system == System.ICD10CM,
                "figures": [(label, pricing.dollars(amount)) for label, amount, _ in figures],
                "releases": sorted({release for _, _, release in figures}),
            }
        )
    return rows


def _national_payments(code: Code) -> list[tuple[str, Decimal, str]]:
    """Return (setting, amount, CMS release label) of the code's national payments in the latest loaded files."""
    value = code.code
    found: list[tuple[str, Decimal, str]] = []
    try:
        for row in pricing.physician_payments([value]).get(value, []):
            suffix = f"-{row.modifier}" if row.modifier else ""
            if row.non_facility_amount is not None:
                found.append((f"physician office{suffix}", row.non_facility_amount, row.release))
            if row.facility_amount is not None:
                found.append((f"physician facility{suffix}", row.facility_amount, row.release))
    except pricing.NotLoaded:
        pass
    for fetch, label, attribute in (
        (pricing.asc_payments, "ASC", "national_rate"),
        (pricing.opps_payments, "hospital outpatient", "payment_rate"),
    ):
        try:
            payment = fetch([value]).get(value)
        except pricing.NotLoaded:
            continue
        if payment is not None and getattr(payment, attribute) is not None:
            found.append((label, getattr(payment, attribute), payment.release))
    return found


RELEASE_LABEL = re.compile(r"\b(\d{4}) ([A-Z][a-z]+)\b")


def release_name(release: str) -> str:
    """Return a priced row's release ("Physician fee schedule (RVU file) 2023 January (PPRRVU23_JAN.csv)") as "January 2023"."""
    match = RELEASE_LABEL.search(release)
    return f"{match.group(2)} {match.group(1)}" if match else release


def figures_source(releases: Iterable[str], *, today: datetime.date | None = None) -> str:
    """Return the heading that says which year's CMS files the figures come from, warning when they are not this year's."""
    names = sorted({release_name(release) for release in releases}, key=lambda name: (name[-4:], name))
    if not names:
        return ""
    years = sorted({name[-4:] for name in names if name[-4:].isdecimal()})
    heading = f"{'/'.join(years)} Medicare national average (CMS {', '.join(names)} files, the latest loaded)".lstrip()
    this_year = (today or timezone.localdate()).year
    if years and int(years[-1]) < this_year:
        heading += f"; {this_year} amounts are not loaded yet and may differ"
    return heading


def figures_text(inquiry: Inquiry, *, today: datetime.date | None = None) -> str:
    """Return the linked procedure and supply codes' payments under a heading naming the CMS files, for canned responses."""
    rows = [row for row in payments(inquiry) if not row["diagnosis"]]
    if not rows:
        return "(no procedure or supply codes linked)"
    lines = []
    for row in rows:
        figures = "; ".join(f"{label} {amount}" for label, amount in row["figures"]) or "no Medicare payment on file"
        lines.append(f"{row['system_label']} {row['display']}: {figures}")
    heading = figures_source([release for row in rows for release in row["releases"]], today=today)
    return "\n".join([f"{heading}:", *lines] if heading else lines)
