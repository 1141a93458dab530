"""Codes in questions: find ICD-10-CM, CPT and HCPCS codes in a subject and body, keep those the catalog knows.

Pattern matches are only candidates (a 5-digit ZIP code looks like CPT); the catalog decides, in one query.
"""

from __future__ import annotations

import re

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
        if ICD10CM.match(head) and not head.isdigit():
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
    """Return, per linked code, its description and current Medicare payments (when the fee schedules know it)."""
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
        rows.append(
            {
                "link": link,
                "display": display(link.system, link.code),
                "system_label": System(link.system).label,
                "description": (code.short_description or code.long_description) if code else "",
                "url": catalog_url(link.system, link.code),
                "figures": _current_payments(code) if code else [],
            }
        )
    return rows


def _current_payments(code) -> list[tuple[str, str]]:
    """Return (setting, formatted amount) pairs of the code's current national Medicare payments."""
    return [(label, pricing.dollars(amount)) for label, amount in pricing.current_payments(code)]


def figures_text(inquiry: Inquiry) -> str:
    """Return the linked codes' current payments, one line per code, for canned responses."""
    lines = []
    for row in payments(inquiry):
        figures = "; ".join(f"{label}: {amount}" for label, amount in row["figures"]) or "no Medicare payment on file"
        lines.append(f"{row['system_label']} {row['display']}: {figures}")
    return "\n".join(lines) or "(no codes)"
