"""Build a guide's tables for a year and a locality from the loaded code sets and fee schedules.

The guide rows hold structure and words only; every figure comes from codes.pricing and every code
fact from the catalog. The page costs a fixed number of SQL queries however many codes it lists:
one for the guide with its sections, entries and notes, one for the ICD-10-CM versions of every
diagnosis entry (ranges included), and a fixed few per fee schedule for the year and the year before.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.urls import NoReverseMatch, reverse

from codes import catalog, pricing
from codes.models import Code, CodeSystem, CodeVersion, Guide, GuideEntry, GuideNote, GuideSection
from codes.models.catalog import display_code, normalize_code
from reimbursement import roles

NATIONAL = "national"


@dataclass
class Money:
    """One figure of a table: an amount, or the reason there is none ("N/A", "Contractor priced")."""

    amount: Decimal | None = None
    text: str = ""
    reason: str = ""
    whole: Decimal | None = None  # whole dollars when the fee schedule rounds them from the unrounded fee

    def rounded(self, *, cents: bool) -> Decimal | None:
        """Return the amount as displayed: cents, or whole dollars half-up as printed guides show them."""
        if self.amount is None:
            return None
        if cents:
            return pricing.round_dollars(self.amount)
        return self.whole if self.whole is not None else pricing.round_whole_dollars(self.amount)

    def shown(self, *, cents: bool) -> str:
        value = self.rounded(cents=cents)
        if value is None:
            return self.text
        sign = "-" if value < 0 else ""
        return f"{sign}${abs(value):,.2f}" if cents else f"{sign}${abs(value):,.0f}"


@dataclass
class Row:
    """One line of a guide table."""

    code: str  # display form, e.g. G89.29, 62322
    description: str = ""
    modifier: str = ""
    url: str = ""
    note: str = ""
    billable: bool | None = None
    flags: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # indicator columns (status, PI, SI, APC ...)
    money: dict[str, Money] = field(default_factory=dict)  # amount columns for the year shown
    change: dict[str, Money] = field(default_factory=dict)  # the same columns, change since the previous year
    children: list[Row] = field(default_factory=list)  # the codes of a range, or below a header
    cells: list[Cell] = field(default_factory=list)  # what the page prints after code and description
    billable_children: int = 0


@dataclass
class Group:
    label: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Table:
    section: GuideSection
    groups: list[Group]
    notes: list[str]
    columns: list[Column] = field(default_factory=list)
    width: int = 2
    releases: list[str] = field(default_factory=list)  # the code-set releases the table read

    @property
    def kind(self) -> str:
        return self.section.kind


@dataclass
class GuidePage:
    guide: Guide
    year: int
    locality: str  # "national" or MAC-locality such as 02102-01
    locality_name: str
    tables: list[Table]
    previous_year: int | None
    years: list[int]
    localities: list[tuple[str, str]]  # (key, label) for the picker
    notices: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def guides_for(user) -> list[Guide]:
    """Return the guides a user may read: published ones, and drafts for the reimbursement team."""
    guides = Guide.objects.all() if roles.is_reimbursement_team(user) else Guide.objects.published()
    return list(guides.order_by("title"))


def load_guide(slug: str, *, user) -> Guide | None:
    """Return a guide with its sections, entries and notes prefetched, or None when the user may not read it."""
    guides = Guide.objects.prefetch_related(
        Prefetch("sections", queryset=GuideSection.objects.order_by("position", "id")),
        Prefetch("sections__entries", queryset=GuideEntry.objects.order_by("position", "id")),
        Prefetch("sections__notes", queryset=GuideNote.objects.order_by("position", "id")),
    )
    if not roles.is_reimbursement_team(user):
        guides = guides.published()
    return guides.filter(slug=slug).first()


def _bounds(text: str) -> tuple[str, str]:
    return catalog.parse_range(text) or (normalize_code(text.rstrip("-")),) * 2


def _year_span(year: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def _overlapping(versions: list[CodeVersion], start: datetime.date, end: datetime.date) -> list[CodeVersion]:
    return [v for v in versions if v.effective_from <= end and (v.effective_to is None or v.effective_to >= start)]


def _diagnosis_flags(code: str, versions: list[CodeVersion], *, year: int) -> list[str]:
    """Say when a code is not valid in the year, ends during it, or changed meaning since the year before."""
    start, end = _year_span(year)
    shown = display_code(CodeSystem.ICD10CM, code)
    current = _overlapping(versions, start, end)
    if not current:
        if versions and max(v.effective_to or end for v in versions) < start:
            last = max(v.effective_to for v in versions)
            return [f"No longer exists in {year}: {shown} ended on {last:%Y-%m-%d}."]
        if versions:
            first = min(v.effective_from for v in versions)
            return [f"Not yet valid in {year}: {shown} takes effect on {first:%Y-%m-%d}."]
        return [f"{shown} is not in the loaded ICD-10-CM releases."]
    flags = []
    last = max(current, key=lambda v: v.effective_from)
    if last.effective_to is not None and last.effective_to < end:
        flags.append(f"{shown} ends on {last.effective_to:%Y-%m-%d}.")
    history = sorted(_overlapping(versions, datetime.date(year - 1, 1, 1), end), key=lambda v: v.effective_from)
    for before, after in zip(history, history[1:], strict=False):
        if before.billable != after.billable:
            now = "billable" if after.billable else "a header (not billable)"
            flags.append(f"Changed meaning on {after.effective_from:%Y-%m-%d}: {shown} is now {now}.")
        elif before.description != after.description:
            flags.append(f'Changed meaning on {after.effective_from:%Y-%m-%d}: now "{after.description}".')
    return flags


def _code_url_pattern() -> str:
    """Return the code page address with {system} and {code} slots: one reverse() per page, not per code."""
    try:
        return (
            reverse("codes:code_detail", kwargs={"system": "SYSTEM", "code": "CODE"})
            .replace("SYSTEM", "{system}")
            .replace("CODE", "{code}")
        )
    except NoReverseMatch:  # the code page is not routed: codes are shown without a link
        return ""


def _url(code, pattern: str) -> str:
    return pattern.format(system=code.system, code=code.code) if pattern else ""


def _diagnosis_row(version_by_code: dict[str, list[CodeVersion]], code: str, *, year: int, url: str) -> Row:
    versions = version_by_code.get(code, [])
    start, end = _year_span(year)
    current = _overlapping(versions, start, end)
    latest = max(current or versions, key=lambda v: v.effective_from, default=None)
    return Row(
        code=display_code(CodeSystem.ICD10CM, code),
        description=latest.description if latest else "",
        url=_url(latest.code, url) if latest else "",
        billable=latest.billable if latest and current else None,
        flags=_diagnosis_flags(code, versions, year=year),
    )


def diagnosis_table(section: GuideSection, *, year: int) -> Table:
    """Return the diagnosis codes by group, each range expanded to its codes (billable ones marked): one query."""
    entries = list(section.entries.all())
    # One indexed range scan per entry, UNIONed into one statement (an OR of ranges scans the whole code
    # table); codes are [0-9A-Z] and at most 7 long, so high + "ZZZZZZZ" bounds every descendant of high.
    # catalog.in_bounds decides membership afterwards. Two queries, however many entries and codes.
    scans = [
        Code.objects.filter(system=CodeSystem.ICD10CM, code__range=(low, high + "ZZZZZZZ"))
        .order_by()
        .values_list("id", flat=True)
        for low, high in (_bounds(entry.code_text) for entry in entries)
    ]
    code_ids = list(scans[0].union(*scans[1:])) if scans else []
    start, end = datetime.date(year - 1, 1, 1), datetime.date(year, 12, 31)
    versions = (
        CodeVersion.objects.filter(code_id__in=code_ids)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=start), effective_from__lte=end)
        .select_related("code", "release")
        # The page needs neither the tabular notes nor the release's change report (large JSON, decoded per row).
        .defer("notes", "seventh_characters", "code__search_text", "release__report", "release__counts")
        .order_by("code__code", "effective_from")
    )
    by_code: dict[str, list[CodeVersion]] = defaultdict(list)
    for version in versions:
        by_code[version.code.code].append(version)
    groups = _groups(section)
    url = _code_url_pattern()
    for entry in entries:
        low, high = _bounds(entry.code_text)
        if entry.is_range:
            members = [c for c in by_code if catalog.in_bounds(c, low, high)]
            row = Row(code=entry.code_text, description=entry.label, note=entry.note)
            row.children = [_diagnosis_row(by_code, c, year=year, url=url) for c in members]
            row.children = [child for child in row.children if not child.flags or child.billable is not None]
            if not row.children:
                row.flags.append(f"No code of {entry.code_text} is in the loaded ICD-10-CM releases for {year}.")
        else:
            code = normalize_code(entry.code_text)
            row = _diagnosis_row(by_code, code, year=year, url=url)
            row.note = entry.note
            if entry.label and not row.description:
                row.description = entry.label
            if row.billable is False:
                row.children = [
                    _diagnosis_row(by_code, c, year=year, url=url) for c in by_code if c.startswith(code) and c != code
                ]
        groups[entry.group].rows.append(row)
    table = Table(section, list(groups.values()), _section_notes(section))
    table.releases = sorted({f"{version.release} ({version.release.source_files.splitlines()[0]})" for version in versions})
    return table


def _groups(section: GuideSection) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for entry in section.entries.all():
        groups.setdefault(entry.group, Group(entry.group))
    for note in section.notes.all():
        if note.group and note.group in groups:
            groups[note.group].notes.append(note.text)
    return groups


def _section_notes(section: GuideSection) -> list[str]:
    return [note.text for note in section.notes.all() if not note.group]


class UnknownLocality(ValueError):
    """The locality is not `national` or a MAC-locality key such as 02102-01."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    money: bool = False


@dataclass
class Cell:
    text: str
    title: str = ""
    css: str = ""


@dataclass
class Figures:
    """The fee-schedule answers for all of a guide's procedure codes, for one year (None: not loaded)."""

    physician: dict | None
    asc: dict | None
    opps: dict | None
    gpci: object = None


def loaded_years() -> list[int]:
    """Return the years a guide edition exists for: those with a physician fee schedule loaded (else this year)."""
    return pricing.available_years("pfs") or [default_year()]


def default_year() -> int:
    """Return the latest year with a physician fee schedule loaded (this year when none is)."""
    years = pricing.available_years("pfs")
    return years[0] if years else datetime.date.today().year  # noqa: DTZ011 - a calendar year, no time zone question


def _figures(codes: list[str], *, year: int, locality: str) -> Figures:
    def fetch(function, **kwargs):
        try:
            return function(codes, year=year, **kwargs)
        except pricing.NotLoaded:
            return None

    physician = fetch(pricing.physician_payments, locality=locality)
    gpci = pricing.gpci_for(locality, year=year) if physician is not None and locality != NATIONAL else pricing.NATIONAL
    return Figures(physician, fetch(pricing.asc_payments), fetch(pricing.opps_payments), gpci)


def _change(current: Decimal | None, previous: Decimal | None, *, had_previous: bool) -> Money:
    if current is None or previous is None:
        return Money(text="new" if current is not None and not had_previous else "—")
    percent = pricing.percent_change(previous, current)
    return Money(amount=current - previous, reason=f"{percent:+}% since the year before" if percent is not None else "")


def _physician_money(payment, setting: str, gpci) -> Money:
    amount = payment.non_facility_amount if setting == "office" else payment.facility_amount
    if amount is not None:
        whole = pricing.physician_whole_dollars(payment, setting=setting, gpci=gpci)
        return Money(amount=amount, reason=str(payment.explanation), whole=whole)
    is_na = payment.non_facility_na if setting == "office" else payment.facility_na
    if payment.payable and is_na:
        return Money(text="N/A", reason=payment.reason)
    if payment.status_code == "C":
        return Money(text="Contractor priced", reason=payment.reason)
    return Money(text=f"Not paid under the PFS ({payment.status_code})", reason=payment.reason)


def _procedure_rows(table_kind: str, entry: GuideEntry, now: Figures, before: Figures | None, *, year: int) -> list[Row]:
    code = normalize_code(entry.code_text)
    previous_year = year - 1
    rows: list[Row] = []
    if table_kind == GuideSection.Kind.PHYSICIAN:
        payments = (now.physician or {}).get(code, [])
        earlier = {
            p.modifier: p for p in ((before.physician or {}).get(code, []) if before and before.physician is not None else [])
        }
        for payment in payments:
            row = Row(code=code, modifier=payment.modifier, description=entry.label or payment.description, note=entry.note)
            for setting in ("office", "facility"):
                row.money[setting] = _physician_money(payment, setting, now.gpci)
                if before is not None and before.physician is not None:
                    old = earlier.get(payment.modifier)
                    old_amount = (
                        old.non_facility_amount if old and setting == "office" else (old.facility_amount if old else None)
                    )
                    row.change[setting] = _change(row.money[setting].amount, old_amount, had_previous=old is not None)
            old = earlier.get(payment.modifier)
            if old is not None and old.description != payment.description:
                row.flags.append(f'Descriptor changed since {previous_year}: was "{old.description}".')
            if old is not None and old.status_code != payment.status_code:
                row.flags.append(f"PFS status changed since {previous_year}: {old.status_code} to {payment.status_code}.")
            rows.append(row)
        for extra in rows[1:]:
            extra.note = ""  # the entry's note once, on its first (global) row
        if not payments and now.physician is not None:
            gone = before is not None and before.physician is not None and code in before.physician
            flag = f"Not in the {year} physician fee schedule" + (
                f" (it was in {previous_year}): deleted or replaced." if gone else "."
            )
            rows.append(Row(code=code, description=entry.label, note=entry.note, flags=[flag]))
        return rows or [Row(code=code, description=entry.label, note=entry.note)]

    if table_kind == GuideSection.Kind.ASC:
        payment = (now.asc or {}).get(code)
        old = (before.asc or {}).get(code) if before is not None else None
        row = Row(code=code, description=entry.label or (payment.short_descriptor if payment else ""), note=entry.note)
        if payment is None:
            row.flags.append(
                f"Not on the {year} ASC covered procedures or ancillary services lists." if now.asc is not None else ""
            )
        else:
            row.values = {
                "pi": payment.payment_indicator,
                "mpd": {True: "Y", False: "N", None: ""}[payment.multiple_procedure_discount],
            }
            row.money["rate"] = (
                Money(amount=payment.national_rate, reason=str(payment.explanation))
                if payment.national_rate is not None
                else Money(text="Packaged" if payment.payment_indicator in ("N1", "L1") else "—", reason=payment.reason)
            )
            if before is not None and before.asc is not None:
                row.change["rate"] = _change(
                    payment.national_rate, old.national_rate if old else None, had_previous=old is not None
                )
            if old is not None and old.payment_indicator != payment.payment_indicator:
                row.flags.append(
                    f"Payment indicator changed since {previous_year}: {old.payment_indicator} to {payment.payment_indicator}."
                )
        row.flags = [flag for flag in row.flags if flag]
        return [row]

    if table_kind == GuideSection.Kind.HOSPITAL_OUTPATIENT:
        payment = (now.opps or {}).get(code)
        old = (before.opps or {}).get(code) if before is not None else None
        row = Row(code=code, description=entry.label or (payment.short_descriptor if payment else ""), note=entry.note)
        if payment is None:
            if now.opps is not None:
                row.flags.append(f"Not in the {year} OPPS Addendum B.")
        else:
            row.values = {"si": payment.status_indicator, "apc": payment.apc}
            row.money["rate"] = (
                Money(amount=payment.payment_rate, reason=str(payment.explanation))
                if payment.payment_rate is not None
                else Money(text="Packaged" if payment.status_indicator == "N" else "—", reason=payment.reason)
            )
            if before is not None and before.opps is not None:
                row.change["rate"] = _change(
                    payment.payment_rate, old.payment_rate if old else None, had_previous=old is not None
                )
            if old is not None and (old.status_indicator, old.apc) != (payment.status_indicator, payment.apc):
                row.flags.append(
                    f"Changed since {previous_year}: status indicator {old.status_indicator} to {payment.status_indicator}, "
                    f"APC {old.apc or 'none'} to {payment.apc or 'none'}."
                )
        return [row]

    # HCPCS Level II: how each fee schedule treats the device or drug code.
    physician = (now.physician or {}).get(code, [])
    asc = (now.asc or {}).get(code)
    opps = (now.opps or {}).get(code)
    description = entry.label or (physician[0].description if physician else (opps.short_descriptor if opps else ""))
    row = Row(code=code, description=description, note=entry.note)
    row.values = {
        "status": f"{physician[0].status_code}: {physician[0].status_meaning}" if physician else "not in the RVU file",
        "asc": f"{asc.payment_indicator}: {asc.indicator_meaning}" if asc else "not on the ASC lists",
        "opps": f"{opps.status_indicator}: {opps.indicator_meaning}" if opps else "not in Addendum B",
    }
    return [row]


COLUMNS = {
    GuideSection.Kind.DIAGNOSES: [Column("billable", "Billable")],
    GuideSection.Kind.PHYSICIAN: [Column("office", "Physician office", money=True), Column("facility", "Facility", money=True)],
    GuideSection.Kind.HCPCS: [
        Column("status", "Physician fee schedule"),
        Column("asc", "ASC"),
        Column("opps", "Hospital outpatient"),
    ],
    GuideSection.Kind.ASC: [
        Column("pi", "Payment indicator"),
        Column("mpd", "Multiple-procedure discount"),
        Column("rate", "National average", money=True),
    ],
    GuideSection.Kind.HOSPITAL_OUTPATIENT: [
        Column("si", "Status indicator"),
        Column("apc", "APC"),
        Column("rate", "Payment rate", money=True),
    ],
}


def _cells(row: Row, columns: list[Column], *, cents: bool, previous_year: int | None) -> list[Cell]:
    cells = []
    for column in columns:
        if column.key == "billable":
            text = (
                {True: "Billable", False: "Header", None: ""}[row.billable]
                if not row.children or row.billable is not None
                else ""
            )
            cells.append(Cell(text, css="billable" if row.billable else ""))
        elif column.money:
            money = row.money.get(column.key, Money(text="—"))
            cells.append(Cell(money.shown(cents=cents), money.reason, "num" if money.amount is not None else "unpaid"))
        else:
            cells.append(Cell(row.values.get(column.key, "")))
    if previous_year is not None:
        for column in columns:
            if column.money:
                change = row.change.get(column.key, Money(text="—"))
                shown, value = change.shown(cents=cents), change.rounded(cents=cents)
                if value is not None and value > 0:
                    shown = "+" + shown
                css = "num" + (" up" if value and value > 0 else " down" if value and value < 0 else "")
                cells.append(Cell(shown, change.reason, css))
    return cells


def _table_columns(kind: str, *, previous_year: int | None) -> list[Column]:
    columns = list(COLUMNS[kind])
    if previous_year is not None:
        columns += [
            Column(f"{c.key}_change", f"{c.label}: change since {previous_year}", money=True) for c in COLUMNS[kind] if c.money
        ]
    return columns


def build_page(guide: Guide, *, year: int, locality: str = NATIONAL, cents: bool = False) -> GuidePage:
    """Return the guide's tables for a year and locality: figures from the fee schedules, codes from the catalog."""
    try:
        pricing.parse_locality(locality)
    except pricing.PricingError as exc:
        raise UnknownLocality(str(exc)) from exc
    years = pricing.available_years("pfs")
    options = pricing.localities(year=year)
    names = {option.key: option.label for option in options}
    notices = []
    if locality not in names:
        notices.append(f"No GPCIs for locality {locality} are loaded for {year}: national amounts are shown.")
        locality = NATIONAL
    if years and year not in years:
        notices.append(f"No physician fee schedule is loaded for {year}; loaded years: {', '.join(map(str, years))}.")
    previous_year = year - 1 if year - 1 in years else None
    sections = list(guide.sections.all())
    codes = sorted(
        {normalize_code(e.code_text) for s in sections if s.kind != GuideSection.Kind.DIAGNOSES for e in s.entries.all()}
    )
    now = _figures(codes, year=year, locality=locality)
    before = None
    if previous_year is not None:
        previous_locality = locality if locality == NATIONAL or pricing.localities(year=previous_year)[1:] else NATIONAL
        try:
            before = _figures(codes, year=previous_year, locality=previous_locality)
        except pricing.NotLoaded:  # the locality has no GPCIs that year
            before = _figures(codes, year=previous_year, locality=NATIONAL)
    tables = []
    for section in sections:
        if section.kind == GuideSection.Kind.DIAGNOSES:
            table = diagnosis_table(section, year=year)
        else:
            groups = _groups(section)
            for entry in section.entries.all():
                groups[entry.group].rows += _procedure_rows(section.kind, entry, now, before, year=year)
            table = Table(section, list(groups.values()), _section_notes(section))
            url = _code_url_pattern()
            for group in table.groups:
                for row in group.rows:
                    system = CodeSystem.CPT if row.code[:1].isdecimal() else CodeSystem.HCPCS
                    row.url = url.format(system=system, code=row.code) if url else ""
        money_columns = previous_year if section.kind != GuideSection.Kind.DIAGNOSES else None
        table.columns = _table_columns(section.kind, previous_year=money_columns)
        table.width = 2 + len(table.columns)
        for group in table.groups:
            for row in group.rows:
                row.cells = _cells(row, COLUMNS[section.kind], cents=cents, previous_year=money_columns)
                row.billable_children = sum(1 for child in row.children if child.billable)
        tables.append(table)
    page = GuidePage(
        guide=guide,
        year=year,
        locality=locality,
        locality_name=names.get(locality, "National"),
        tables=tables,
        previous_year=previous_year,
        years=sorted(set(years) | {year}, reverse=True),
        localities=[(option.key, option.label) for option in options],
    )
    page.notices = notices
    page.sources = [release for table in tables for release in table.releases] + _sources(now)
    return page


def _sources(figures: Figures) -> list[str]:
    releases = []
    for answer in (figures.physician, figures.asc, figures.opps):
        for value in (answer or {}).values():
            for payment in value if isinstance(value, list) else [value]:
                if payment.release not in releases:
                    releases.append(payment.release)
    return releases or ["no fee schedule loaded for this year"]


def csv_rows(page: GuidePage) -> list[list[str]]:
    """Return the guide as spreadsheet rows: a header, then one line per code (ranges listed code by code)."""
    lines = [[f"{page.guide.title} — {page.year} — {page.locality_name}"], [page.guide.disclaimer], []]
    for table in page.tables:
        lines.append([table.section.title])
        lines.append(["Group", "Code", "Modifier", "Description", *[c.label for c in table.columns], "Flags", "Note"])
        for group in table.groups:
            for row in group.rows:
                lines.append(
                    [
                        group.label,
                        row.code,
                        row.modifier,
                        row.description,
                        *[c.text for c in row.cells],
                        " ".join(row.flags),
                        row.note,
                    ]
                )
                for child in row.children:
                    billable = "Billable" if child.billable else "Header"
                    lines.append(
                        [group.label, child.code, "", child.description, billable, " ".join(child.flags), f"in {row.code}"]
                    )
            lines += [[group.label, "", "", f"Note: {note}"] for note in group.notes]
        lines += [["", "", "", f"Note: {note}"] for note in table.notes]
        lines.append([])
    return lines
