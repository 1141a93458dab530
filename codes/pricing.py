"""Medicare payment arithmetic: pure Decimal functions, one rounding helper, thin fetchers.

Nothing else in the project multiplies RVUs, GPCIs, weights or conversion factors. Money is Decimal,
rounded once, half-up, to cents, by `round_dollars` (DOMAIN.md A1: no intermediate rounding).

Interfaces other modules rely on (keep stable):

    round_dollars(amount: Decimal) -> Decimal
    physician_payments(codes: list[str], *, year: int | None = None, on: date | None = None,
                       locality: str = "national") -> dict[str, list[PhysicianPayment]]
        One PhysicianPayment per (code, modifier) row: modifier, status_code, non_facility_amount /
        facility_amount (Decimal, None when not payable or NA), non_facility_na / facility_na, reason,
        conversion_factor, non-participating amounts and limiting charges, explanation.
    asc_payments(codes, *, year=None, on=None) -> dict[str, AscPayment]
        payment_indicator, multiple_procedure_discount, payment_weight, national_rate (None + reason
        when packaged, e.g. N1), explanation.
    opps_payments(codes, *, year=None, on=None) -> dict[str, OppsPayment]
        status_indicator, apc, relative_weight, payment_rate, copayments, reason, explanation.
    estimate(*, setting: str, date_of_service: date, locality: str = "national",
             lines: list[EstimateLine], wage_index: Decimal | None = None) -> Estimate
        setting is "office" | "facility" | "asc" | "hospital_outpatient"; each line gets an amount,
        the discount applied and an explanation; total is a Decimal. Also behind POST /api/v1/estimates/.
    compare_years(codes, *, year_a, year_b, locality="national") -> list[Change]   (compare view and API)
    asp_payments(codes, *, year=None, on=None) -> dict[str, DrugPayment]      drug_allowed(*, payment_limit, units)
    dmepos_payments(codes, *, state, year=None, on=None) -> dict[str, list[DmeposPayment]]
    current_payments(code) -> list[tuple[str, Decimal]]  (latest year, national; for short figure lines)
    round_whole_dollars(amount) -> Decimal               (display like printed guides; not for arithmetic)
    physician_whole_dollars(payment, *, setting, gpci=None) -> Decimal | None   (whole dollars from the exact amount)
    available_years(kind: str) -> list[int]            kind: pfs, gpci, asc, opps, dmepos, asp
    localities(*, year=None, on=None) -> list[LocalityOption]   (national first)

Year/date resolution: with `on`, the latest published release of that calendar year whose quarter
started on or before `on`; with only `year`, the latest published release of that year; with neither,
the latest published release. The physician conversion factor is the one in force on `on` (or on the
release's first day); 2024 has two. Every fetcher runs a fixed number of queries, however many codes.
Unknown years, dates or localities raise NotLoaded, malformed input PricingError (a ValueError), each
with a message for the user. estimate() also accepts lines as {"code", "modifiers", "units"} dicts, and
Estimate.as_dict() gives JSON-ready data (decimal strings with cents).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ONE = Decimal(1)
ZERO = Decimal(0)
HALF = Decimal("0.5")
NON_PAR_RATE = Decimal("0.95")
LIMITING_CHARGE_RATE = Decimal("1.15")
MEDICARE_SHARE = Decimal("0.80")
BILATERAL_RATE = Decimal("1.5")

SETTINGS = ("office", "facility", "asc", "hospital_outpatient")
GPCI_SETTINGS = ("office", "facility")  # ASC and OPPS rates use no GPCI: a locality does not change them
MAX_UNITS = 99  # one limit for every estimate and claim check (API, pages): a case line never bills more
# Modifiers the estimate accepts: CPT Appendix A and the HCPCS Level II modifiers that matter on these
# claims (PC/TC, bilateral and sides, NCCI-associated, global-period, assistant, device credit, ABN).
# Anything else (e.g. "ZZ") is a typo, which must not be priced silently as the global row.
KNOWN_MODIFIERS = frozenset(
    {"22", "23", "24", "25", "26", "27", "32", "33", "47", "50", "51", "52", "53", "54", "55", "56", "57", "58", "59"}
    | {"62", "63", "66", "73", "74", "76", "77", "78", "79", "80", "81", "82", "90", "91", "92", "95", "96", "97", "99"}
    | {"TC", "AS", "XE", "XS", "XP", "XU", "LT", "RT", "E1", "E2", "E3", "E4", "FA", "TA", "LC", "LD", "RC", "LM", "RI"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
    | {"FB", "FC", "FX", "FY", "GA", "GC", "GE", "GX", "GY", "GZ", "KX", "PO", "PN", "Q6", "QW", "CR", "JW", "JZ", "JG", "TB"}
    | {"NU", "RR", "UE", "KF", "PT", "SG", "ET", "PD", "CS", "AQ", "QK", "QX", "QY", "QZ", "AA", "AD"}
)

# PFS status codes (RVU file documentation; DOMAIN.md A1). Only A, R and T are paid under the PFS.
PAID_STATUSES = {"A", "R", "T"}
STATUS_MEANINGS = {
    "A": "Active code, paid separately under the PFS",
    "B": "Bundled: payment is included in another service; never paid separately",
    "C": "Carrier (MAC) priced: the MAC sets the payment; no national amount",
    "D": "Deleted code",
    "E": "Excluded from the PFS by regulation",
    "F": "Deleted code (no grace period)",
    "G": "Not valid for Medicare: another code is used",
    "H": "Deleted modifier",
    "I": "Not valid for Medicare: another code is used (no grace period)",
    "J": "Anesthesia service: paid with anesthesia base and time units, not RVUs",
    "M": "Measurement code: reported for quality programs, not paid",
    "N": "Non-covered service",
    "P": "Bundled or excluded (e.g. incident-to supplies); no separate PFS payment",
    "R": "Restricted coverage: paid under the PFS only in limited circumstances",
    "T": "Paid under the PFS only when no other PFS service is billed the same day",
    "X": "Statutory exclusion: not a physician service (priced under another fee schedule)",
}
NA_REASON = {
    "office": "N/A: CMS sets no non-facility (office) practice expense for this service, which is typically performed "
    "in a facility; the office amount is not published",
    "facility": "N/A: CMS sets no facility amount for this row (the physician bills the professional component, "
    "modifier 26, in a facility)",
}

# ASC payment indicators (Addendum DD1; DOMAIN.md A2).
ASC_PAID = {"A2", "G2", "J8", "P2", "P3", "R2", "Z2", "Z3", "K2", "H2", "J7", "K7", "F4", "L6", "D1"}
ASC_PACKAGED = {"N1", "L1"}
ASC_MEANINGS = {
    "A2": "Surgical procedure on the ASC list in CY2007; payment based on the OPPS relative weight",
    "G2": "Non office-based surgical procedure added CY2008 or later; OPPS relative weight",
    "J8": "Device-intensive procedure; paid at the adjusted rate",
    "J7": "OPPS pass-through device paid separately; contractor-priced",
    "K2": "Drug or biological paid separately when integral to an ASC procedure; OPPS rate",
    "K7": "Unclassified drug or biological; contractor-priced",
    "N1": "Packaged service or item: no separate payment",
    "P2": "Office-based procedure with MPFS non-facility PE RVUs; OPPS relative weight",
    "P3": "Office-based procedure paid on MPFS non-facility PE RVUs",
    "R2": "Office-based procedure without MPFS non-facility PE RVUs; OPPS relative weight",
    "Z2": "Radiology or diagnostic service paid separately when integral; OPPS relative weight",
    "Z3": "Radiology or diagnostic service paid separately when integral; MPFS non-facility PE RVUs",
    "H2": "Brachytherapy source paid separately; OPPS rate",
    "L1": "Influenza or pneumococcal vaccine: packaged, no separate payment",
    "L6": "NTIOL or qualifying non-opioid device: special payment",
    "B5": "Alternative code available: no payment",
    "D5": "Deleted code: no payment",
    "K5": "No pricing data yet: no payment",
    "F4": "Corneal tissue or hepatitis B vaccine: paid at reasonable cost",
    "D1": "Dental ancillary service",
}
ASC_CONTRACTOR_PRICED = {"J7", "K7", "F4"}

# OPPS status indicators (Addendum D1; DOMAIN.md A3).
OPPS_MEANINGS = {
    "J1": "Comprehensive APC: one payment for the primary service; other services on the claim are packaged",
    "J2": "Comprehensive observation APC",
    "T": "Significant procedure; multiple-procedure reduction applies (50% on lower-paid T lines)",
    "S": "Significant procedure, not discounted",
    "N": "Packaged: no separate payment",
    "Q1": "STV-packaged: packaged when an S, T or V service is on the same claim",
    "Q2": "T-packaged: packaged when a T service is on the same claim",
    "Q3": "Paid through a composite APC",
    "Q4": "Conditionally packaged laboratory test",
    "V": "Clinic or emergency department visit",
    "G": "Pass-through drug or biological",
    "H": "Pass-through device category",
    "K": "Separately payable non-pass-through drug or biological",
    "R": "Blood or blood product",
    "U": "Brachytherapy source",
    "C": "Inpatient-only procedure: not paid under the OPPS",
    "E1": "Not paid by Medicare when submitted on outpatient claims",
    "E2": "Not paid by Medicare when submitted on outpatient claims (no other payment)",
    "B": "Not recognised on an OPPS bill type: an alternate code may be available",
    "A": "Paid under another fee schedule (e.g. clinical laboratory, DMEPOS), not the OPPS",
    "M": "Not billable to the MAC; items and services not billable to the MAC",
    "D": "Discontinued code",
    "F": "Corneal tissue, CRNA or hepatitis B vaccine: reasonable cost",
    "L": "Influenza or pneumococcal vaccine: reasonable cost",
    "P": "Partial hospitalization",
}
OPPS_UNPAID = {"C", "E1", "E2", "B", "M", "D", "A"}


class PricingError(ValueError):
    """A request cannot be priced (bad setting, locality format, units); the message says why."""


class NotLoaded(PricingError):
    """No published release (or locality) answers the request: unknown year, date or locality."""


def sentence(error: Exception) -> str:
    """Return an error message as a sentence for a page ("GPCI" stays upper case, unlike str.capitalize)."""
    text = str(error)
    return f"{text[:1].upper()}{text[1:]}."


# ---------------------------------------------------------------------------------------------------
# Pure arithmetic


def round_dollars(amount: Decimal) -> Decimal:
    """Return amount rounded half-up to whole cents (the only rounding of money in the project)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_whole_dollars(amount: Decimal) -> Decimal:
    """Return a cents amount rounded half-up to whole dollars, as printed guides show it (display only)."""
    return amount.quantize(ONE, rounding=ROUND_HALF_UP)


def plain(number: Decimal) -> str:
    """Return a Decimal without trailing zeros and never in exponent notation (for explanations)."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def dollars(amount: Decimal | None) -> str:
    """Return "$1,234.56" for display (rounded by round_dollars), "-" for None."""
    return "-" if amount is None else f"${round_dollars(amount):,}"


@dataclass(frozen=True)
class Gpci:
    """The three geographic practice cost indices of a locality (national: all 1.000)."""

    work: Decimal = Decimal("1.000")
    pe: Decimal = Decimal("1.000")
    mp: Decimal = Decimal("1.000")
    key: str = "national"
    name: str = "National (GPCI 1.000)"


NATIONAL = Gpci()


def weighted_rvus(
    *, work_rvu: Decimal, pe_rvu: Decimal, mp_rvu: Decimal, gpci: Gpci, budget_neutrality: Decimal = ONE
) -> Decimal:
    """Return (work x BN x wGPCI) + (PE x peGPCI) + (MP x mpGPCI), unrounded."""
    return work_rvu * budget_neutrality * gpci.work + pe_rvu * gpci.pe + mp_rvu * gpci.mp


def physician_amount(
    *,
    work_rvu: Decimal,
    pe_rvu: Decimal,
    mp_rvu: Decimal,
    gpci: Gpci,
    conversion_factor: Decimal,
    budget_neutrality: Decimal = ONE,
) -> Decimal:
    """Return the PFS amount: GPCI-weighted RVUs x CF, rounded once to cents."""
    rvus = weighted_rvus(work_rvu=work_rvu, pe_rvu=pe_rvu, mp_rvu=mp_rvu, gpci=gpci, budget_neutrality=budget_neutrality)
    return round_dollars(rvus * conversion_factor)


def non_participating_amount(exact_fee: Decimal) -> Decimal:
    """Return the non-participating amount, 95% of the unrounded fee schedule amount."""
    return round_dollars(exact_fee * NON_PAR_RATE)


def limiting_charge(exact_fee: Decimal) -> Decimal:
    """Return the limiting charge, 115% of the non-participating amount (fee x 1.0925)."""
    return round_dollars(exact_fee * NON_PAR_RATE * LIMITING_CHARGE_RATE)


def wage_adjusted(*, national_rate: Decimal, wage_index: Decimal, labor_share: Decimal) -> Decimal:
    """Return national x (labor share x wage index + (1 - labor share)), rounded (ASC 50%, OPPS 60%)."""
    return round_dollars(national_rate * (labor_share * wage_index + (ONE - labor_share)))


def percent_change(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """Return the change from before to after in percent, to 0.1; None when either is missing or zero."""
    if before is None or after is None or before == 0:
        return None
    return ((after - before) * 100 / before).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def discount_factors(amounts: list[Decimal], flagged: list[bool]) -> list[Decimal]:
    """Return the multiple-procedure factor per line: the highest flagged line 100%, other flagged 50%.

    Unflagged lines keep 100%. Ties keep their order (the first listed is paid in full).
    """
    factors = [ONE] * len(amounts)
    ranked = sorted((i for i, flag in enumerate(flagged) if flag), key=lambda i: (-amounts[i], i))
    for i in ranked[1:]:
        factors[i] = HALF
    return factors


def normalise_code(code: str) -> str:
    """Return a code as stored: dotless, upper case, no spaces."""
    return code.strip().replace(".", "").replace(" ", "").upper()


# ---------------------------------------------------------------------------------------------------
# Results


@dataclass
class Explanation:
    """Where an amount comes from: inputs, arithmetic and the source release and row."""

    inputs: dict[str, str] = field(default_factory=dict)
    arithmetic: list[str] = field(default_factory=list)
    source: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        inputs = "; ".join(f"{k} {v}" for k, v in self.inputs.items())
        return " | ".join(part for part in (inputs, " ; ".join(self.arithmetic), self.source) if part)


@dataclass
class PhysicianPayment:
    """The PFS amounts of one (code, modifier) row for one locality and date."""

    code: str
    modifier: str
    description: str
    status_code: str
    status_meaning: str
    payable: bool
    non_facility_amount: Decimal | None
    facility_amount: Decimal | None
    non_facility_na: bool
    facility_na: bool
    reason: str
    conversion_factor: Decimal | None
    locality: str
    locality_name: str
    year: int
    release: str
    work_rvu: Decimal
    non_facility_pe_rvu: Decimal
    facility_pe_rvu: Decimal
    mp_rvu: Decimal
    non_facility_rvu_total: Decimal
    facility_rvu_total: Decimal
    global_days: str
    pctc_indicator: str
    multiple_procedure: str
    bilateral_surgery: str
    non_facility_exact: Decimal | None = None  # unrounded, for display rules such as whole dollars
    facility_exact: Decimal | None = None
    non_facility_non_par: Decimal | None = None
    facility_non_par: Decimal | None = None
    non_facility_limiting_charge: Decimal | None = None
    facility_limiting_charge: Decimal | None = None
    explanation: Explanation = field(default_factory=Explanation)

    def amount_for(self, setting: str) -> Decimal | None:
        return self.non_facility_amount if setting == "office" else self.facility_amount


@dataclass
class AscPayment:
    """The ASC national rate of one code for one quarter (Addendum AA, else BB)."""

    code: str
    short_descriptor: str
    payment_indicator: str
    indicator_meaning: str
    multiple_procedure_discount: bool | None
    payment_weight: Decimal | None
    national_rate: Decimal | None
    reason: str
    addendum: str
    year: int
    release: str
    explanation: Explanation = field(default_factory=Explanation)


@dataclass
class OppsPayment:
    """The OPPS (hospital outpatient) payment of one code for one quarter (Addendum B)."""

    code: str
    short_descriptor: str
    status_indicator: str
    indicator_meaning: str
    apc: str
    relative_weight: Decimal | None
    payment_rate: Decimal | None
    national_copayment: Decimal | None
    minimum_copayment: Decimal | None
    reason: str
    year: int
    release: str
    explanation: Explanation = field(default_factory=Explanation)


@dataclass
class DrugPayment:
    """A Part B drug's ASP payment limit for one quarter (already 106% of ASP: never add 6% again)."""

    code: str
    short_description: str
    dosage: str
    payment_limit: Decimal | None
    coinsurance_percentage: Decimal | None
    reason: str
    year: int
    release: str
    explanation: Explanation = field(default_factory=Explanation)


@dataclass
class DmeposPayment:
    """A DMEPOS fee for one code + modifiers in one state, non-rural and rural."""

    code: str
    modifier: str
    modifier2: str
    state: str
    category: str
    non_rural_fee: Decimal | None
    rural_fee: Decimal | None
    ceiling: Decimal | None
    floor: Decimal | None
    year: int
    release: str


@dataclass(frozen=True)
class EstimateLine:
    """One procedure line to estimate: code, modifiers (e.g. ("26",) or ("50",)) and units."""

    code: str
    modifiers: tuple[str, ...] = ()
    units: int = 1


@dataclass
class EstimatedLine:
    """One priced estimate line: unit amount, factor applied (discount, bilateral), amount and why."""

    code: str
    modifiers: tuple[str, ...]
    units: int
    indicator: str
    unit_amount: Decimal | None
    factor: Decimal
    amount: Decimal | None
    discount: str
    reason: str
    explanation: Explanation


@dataclass
class Estimate:
    """An estimate for one setting and date of service: priced lines and their total."""

    setting: str
    date_of_service: date
    locality: str
    lines: list[EstimatedLine]
    total: Decimal
    medicare_pays: Decimal
    patient_coinsurance: Decimal
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """Return JSON-ready data: amounts as decimal strings with cents, None where not payable."""

        def money(value: Decimal | None) -> str | None:
            return None if value is None else str(round_dollars(value))

        return {
            "setting": self.setting,
            "date_of_service": self.date_of_service.isoformat(),
            "locality": self.locality,
            "lines": [
                {
                    "code": line.code,
                    "modifiers": list(line.modifiers),
                    "units": line.units,
                    "indicator": line.indicator,
                    "unit_amount": money(line.unit_amount),
                    "factor": str(line.factor),
                    "amount": money(line.amount),
                    "discount": line.discount,
                    "reason": line.reason,
                    "explanation": line.explanation.as_dict(),
                }
                for line in self.lines
            ],
            "total": money(self.total),
            "medicare_pays": money(self.medicare_pays),
            "patient_coinsurance": money(self.patient_coinsurance),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LocalityOption:
    """A locality for pickers: key "MAC-NN", MAC, state, number, name and GPCIs."""

    key: str
    mac: str
    state: str
    number: str
    name: str
    work_gpci: Decimal
    pe_gpci: Decimal
    mp_gpci: Decimal

    @property
    def label(self) -> str:
        if self.key == "national":
            return self.name
        return f"{self.state} {self.name} (MAC {self.mac}, locality {self.number})"


# ---------------------------------------------------------------------------------------------------
# Pricing one row (pure: rows are any object with the model's attribute names)


def price_physician_row(
    row, *, gpci: Gpci, conversion_factor: Decimal | None, cf_note: str, release: str, year: int, budget_neutrality: Decimal = ONE
) -> PhysicianPayment:
    """Return the office and facility amounts of one RVU row, with status and NA semantics and explanation."""
    status = row.status_code
    payable = status in PAID_STATUSES
    explanation = Explanation(
        inputs={
            "Work RVU": str(row.work_rvu),
            "Non-facility PE RVU": str(row.non_facility_pe_rvu) + (" (NA)" if row.non_facility_na else ""),
            "Facility PE RVU": str(row.facility_pe_rvu) + (" (NA)" if row.facility_na else ""),
            "MP RVU": str(row.mp_rvu),
            "GPCI work/PE/MP": f"{gpci.work}/{gpci.pe}/{gpci.mp} ({gpci.name})",
            "Conversion factor": f"{conversion_factor} ({cf_note})" if conversion_factor is not None else "none",
            "Status": f"{status}: {STATUS_MEANINGS.get(status, 'unknown status')}",
        },
        source=f"{release}, line {row.line}",
    )
    if budget_neutrality != ONE:
        explanation.inputs["Budget-neutrality adjustor (work)"] = str(budget_neutrality)
    amounts: dict[str, Decimal | None] = {"office": None, "facility": None}
    exact: dict[str, Decimal | None] = {"office": None, "facility": None}
    reasons = []
    if not payable:
        reasons.append(f"Not paid under the PFS: {STATUS_MEANINGS.get(status, f'status {status}')}")
    elif conversion_factor is None:
        reasons.append("No conversion factor is known for this date")
    else:
        for setting, pe_rvu, is_na in (
            ("office", row.non_facility_pe_rvu, row.non_facility_na),
            ("facility", row.facility_pe_rvu, row.facility_na),
        ):
            if is_na:
                reasons.append(NA_REASON[setting])
                continue
            rvus = weighted_rvus(
                work_rvu=row.work_rvu, pe_rvu=pe_rvu, mp_rvu=row.mp_rvu, gpci=gpci, budget_neutrality=budget_neutrality
            )
            exact[setting] = rvus * conversion_factor
            amounts[setting] = round_dollars(exact[setting])
            bn = f" x {budget_neutrality}" if budget_neutrality != ONE else ""
            explanation.arithmetic.append(
                f"{setting.capitalize()}: ({row.work_rvu}{bn} x {gpci.work} + {pe_rvu} x {gpci.pe} + {row.mp_rvu} x {gpci.mp})"
                f" = {plain(rvus)} RVU x {conversion_factor} = {plain(exact[setting])} -> {dollars(amounts[setting])}"
            )
        if status == "R":
            reasons.append("Restricted coverage: paid only in limited circumstances")
        elif status == "T":
            reasons.append("Paid only when no other PFS service is billed the same day")
    payment = PhysicianPayment(
        code=row.code,
        modifier=row.modifier,
        description=row.description,
        status_code=status,
        status_meaning=STATUS_MEANINGS.get(status, ""),
        payable=payable,
        non_facility_amount=amounts["office"],
        facility_amount=amounts["facility"],
        non_facility_na=row.non_facility_na,
        facility_na=row.facility_na,
        reason="; ".join(reasons),
        conversion_factor=conversion_factor,
        locality=gpci.key,
        locality_name=gpci.name,
        year=year,
        release=release,
        work_rvu=row.work_rvu,
        non_facility_pe_rvu=row.non_facility_pe_rvu,
        facility_pe_rvu=row.facility_pe_rvu,
        mp_rvu=row.mp_rvu,
        non_facility_rvu_total=row.non_facility_total,
        facility_rvu_total=row.facility_total,
        global_days=row.global_days,
        pctc_indicator=row.pctc_indicator,
        multiple_procedure=row.multiple_procedure,
        bilateral_surgery=row.bilateral_surgery,
        explanation=explanation,
    )
    payment.non_facility_exact, payment.facility_exact = exact["office"], exact["facility"]
    if exact["office"] is not None:
        payment.non_facility_non_par = non_participating_amount(exact["office"])
        payment.non_facility_limiting_charge = limiting_charge(exact["office"])
    if exact["facility"] is not None:
        payment.facility_non_par = non_participating_amount(exact["facility"])
        payment.facility_limiting_charge = limiting_charge(exact["facility"])
    if payment.non_facility_non_par is not None or payment.facility_non_par is not None:
        explanation.arithmetic.append("Non-participating = 95% of the fee; limiting charge = 115% of that (fee x 1.0925)")
    return payment


def drug_allowed(*, payment_limit: Decimal, units: int) -> Decimal:
    """Return the allowed amount of a drug: payment limit (ASP + 6%, as published) x billing units, rounded."""
    return round_dollars(payment_limit * units)


def physician_whole_dollars(payment: PhysicianPayment, *, setting: str, gpci: Gpci | None = None) -> Decimal | None:
    """Return the office or facility amount in whole dollars, rounded half-up once from the unrounded amount.

    Printed guides show whole dollars; rounding the exact amount (not the cents) is what reproduces them
    (62365 facility: 303.496 -> $303, while 303.50 -> $304; used by codes/guides.py). `gpci` is accepted
    for callers that hold it; the payment already carries its locality's (and budget-neutrality) arithmetic.
    """
    exact = payment.non_facility_exact if setting == "office" else payment.facility_exact
    return None if exact is None else round_whole_dollars(exact)


def price_asc_row(row, *, addendum: str, release: str, year: int, asc_cf: Decimal | None = None) -> AscPayment:
    """Return the ASC national rate of one Addendum AA/BB row, with packaging semantics and explanation."""
    indicator = row.payment_indicator
    meaning = ASC_MEANINGS.get(indicator, f"Payment indicator {indicator}")
    explanation = Explanation(
        inputs={
            "Payment indicator": f"{indicator}: {meaning}",
            "Payment weight": str(row.payment_weight) if row.payment_weight is not None else "blank",
            "Multiple-procedure discount": {True: "Y", False: "N", None: "n/a (Addendum BB)"}[row.multiple_procedure_discount],
        },
        source=f"{release}, line {row.line}",
    )
    rate = row.payment_rate
    reason = ""
    if indicator in ASC_PACKAGED:
        rate, reason = None, f"Packaged ({indicator}): no separate ASC payment"
    elif indicator in ASC_CONTRACTOR_PRICED and rate is None:
        reason = f"Contractor-priced ({indicator}): no national rate"
    elif indicator not in ASC_PAID:
        rate, reason = None, f"No ASC payment ({indicator}: {meaning})"
    elif rate is None:
        reason = "No national rate in the addendum"
    if rate is not None:
        explanation.inputs["National rate"] = dollars(rate)
        if row.payment_weight is not None and asc_cf is not None:
            explanation.arithmetic.append(
                f"Weight {row.payment_weight} x ASC CF {asc_cf} = {plain(row.payment_weight * asc_cf)} "
                f"(the addendum publishes {dollars(rate)})"
            )
        elif row.payment_weight is None:
            explanation.arithmetic.append(
                f"Rate published by CMS (office-based {indicator}: lesser of ASC and PFS non-facility PE amounts)"
            )
    return AscPayment(
        code=row.code,
        short_descriptor=row.short_descriptor,
        payment_indicator=indicator,
        indicator_meaning=meaning,
        multiple_procedure_discount=row.multiple_procedure_discount,
        payment_weight=row.payment_weight,
        national_rate=rate,
        reason=reason,
        addendum=addendum,
        year=year,
        release=release,
        explanation=explanation,
    )


def price_opps_row(row, *, release: str, year: int, opps_cf: Decimal | None = None) -> OppsPayment:
    """Return the OPPS payment of one Addendum B row, with status-indicator semantics and explanation."""
    indicator = row.status_indicator
    meaning = OPPS_MEANINGS.get(indicator, f"Status indicator {indicator}")
    rate = row.payment_rate
    reason = ""
    if indicator in OPPS_UNPAID:
        rate, reason = None, f"Not paid under the OPPS ({indicator}: {meaning})"
    elif indicator == "N":
        rate, reason = None, "Packaged (N): no separate OPPS payment"
    elif rate is None:
        reason = f"No national payment rate in Addendum B ({indicator}: {meaning})"
    explanation = Explanation(
        inputs={
            "Status indicator": f"{indicator}: {meaning}",
            "APC": row.apc or "none",
            "Relative weight": str(row.relative_weight) if row.relative_weight is not None else "blank",
        },
        source=f"{release}, row {row.line}",
    )
    if rate is not None:
        explanation.inputs["Payment rate"] = dollars(rate) if rate == round_dollars(rate) else f"${plain(rate)} (published)"
        if row.relative_weight is not None and opps_cf is not None:
            explanation.arithmetic.append(
                f"Weight {row.relative_weight} x OPPS CF {opps_cf} = {plain(row.relative_weight * opps_cf)} "
                f"(Addendum B publishes {dollars(rate)})"
            )
    return OppsPayment(
        code=row.code,
        short_descriptor=row.short_descriptor,
        status_indicator=indicator,
        indicator_meaning=meaning,
        apc=row.apc,
        relative_weight=row.relative_weight,
        payment_rate=rate,
        national_copayment=row.national_copayment,
        minimum_copayment=row.minimum_copayment,
        reason=reason,
        year=year,
        release=release,
        explanation=explanation,
    )


# ---------------------------------------------------------------------------------------------------
# Fetchers (thin: a fixed number of queries, then the pure functions above)


def _codes(codes: Iterable[str]) -> list[str]:
    return sorted({normalise_code(c) for c in codes if c and c.strip()})


def _release_query(kinds: list[str], *, year: int | None, on: date | None):
    from codes.models import FeeRelease

    if on is not None and year is not None and on.year != year:
        raise PricingError(f"date {on.isoformat()} is not in year {year}")
    releases = FeeRelease.objects.filter(kind__in=kinds, status=FeeRelease.Status.PUBLISHED)
    if on is not None:
        releases = releases.filter(year=on.year, effective_from__lte=on)
    elif year is not None:
        releases = releases.filter(year=year)
    return releases.order_by("-effective_from")


def _latest_per_kind(kinds: list[str], *, year: int | None, on: date | None) -> dict:
    found = {}
    for release in _release_query(kinds, year=year, on=on):
        if year is None and on is None and found and release.year != next(iter(found.values())).year:
            continue  # "latest" means the latest year's releases, not a mix of years
        found.setdefault(release.kind, release)
    return found


def _missing(kind_label: str, *, year: int | None, on: date | None) -> NotLoaded:
    if on is not None:
        return NotLoaded(f"no {kind_label} is loaded for {on.isoformat()}")
    if year is not None:
        return NotLoaded(f"no {kind_label} is loaded for {year}")
    return NotLoaded(f"no {kind_label} is loaded")


def conversion_factor_on(day: date, kind: str = "physician"):
    """Return the ConversionFactor row in force on `day` (None when the table has none)."""
    from django.db.models import Q

    from codes.models import ConversionFactor

    return (
        ConversionFactor.objects.filter(kind=kind, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )


def parse_locality(locality: str | None) -> tuple[str, str] | None:
    """Return (MAC, locality number) from "02102-01" or "0210201"; None for national; PricingError else."""
    value = (locality or "national").strip()
    if value.lower() in ("national", ""):
        return None  # national is spelled "national"; "00000-00" is a MAC-LOCALITY that no GPCI file has
    digits = value.replace("-", "")
    if not digits.isdecimal() or len(digits) != 7:
        raise PricingError(f"locality {value!r} is not 'national' or MAC-LOCALITY such as '02102-01'")
    return digits[:5], digits[5:]


def gpci_for(locality: str | None, *, year: int, on: date | None = None) -> Gpci:
    """Return the GPCIs of a locality for a PFS year (national: all 1.000); with `on`, the GPCI file in force then."""
    from codes.models import FeeRelease, Locality

    key = parse_locality(locality)
    if key is None:
        return NATIONAL
    rows = Locality.objects.filter(release__kind="gpci", release__status=FeeRelease.Status.PUBLISHED, release__year=year)
    if on is not None:
        rows = rows.filter(release__effective_from__lte=on)  # GPCI floors can change mid-year
    row = rows.filter(mac=key[0], number=key[1]).order_by("-release__effective_from").first()
    if row is None:
        raise NotLoaded(f"unknown locality {key[0]}-{key[1]} for {year} (is the {year} GPCI file loaded?)")
    return Gpci(work=row.work_gpci, pe=row.pe_gpci, mp=row.mp_gpci, key=row.key, name=f"{row.state} {row.name}")


def check_locality(locality: str | None, *, on: date) -> str:
    """Return the locality key ("national" or MAC-LOCALITY) in force on a date; NotLoaded when no GPCI file has it."""
    return gpci_for(locality, year=on.year, on=on).key


def locality_note(*, setting: str, locality: str) -> str:
    """Return why a (known) locality leaves this setting's amounts national; empty when it applies or is national."""
    if setting in GPCI_SETTINGS or parse_locality(locality) is None:
        return ""
    label = "ASC" if setting == "asc" else "OPPS"
    return (
        f"Locality {locality} does not apply to {label} payment: {label} rates use no GPCI, "
        "so the national rate is shown (a wage index adjusts it)."
    )


def check_lines(lines: Iterable) -> list[EstimateLine]:
    """Return the lines as EstimateLines; PricingError for units outside 1..MAX_UNITS or an unknown modifier."""
    checked = [_as_line(line) for line in lines]
    for line in checked:
        code = normalise_code(line.code)
        if not 1 <= line.units <= MAX_UNITS:
            raise PricingError(f"units of {code} must be a whole number from 1 to {MAX_UNITS}")
        unknown = [m for m in line.modifiers if m.upper() not in KNOWN_MODIFIERS]
        if unknown:
            raise PricingError(f"unknown modifier {', '.join(unknown)} on {code}: not a CPT or HCPCS Level II modifier")
    return checked


def unknown_codes(codes: Iterable[str]) -> set[str]:
    """Return the codes found in no loaded code set (catalog) and no loaded fee file of any kind or year."""
    from codes.models import AscRate, AspPrice, Code, DmeposFee, OppsRate, PhysicianFee

    left = set(_codes(codes))
    for model in (PhysicianFee, AscRate, OppsRate, AspPrice, DmeposFee, Code):
        if not left:
            break
        left -= set(model.objects.filter(code__in=left).values_list("code", flat=True))
    return left


def physician_payments(
    codes: list[str], *, year: int | None = None, on: date | None = None, locality: str = "national"
) -> dict[str, list[PhysicianPayment]]:
    """Return each code's PFS rows priced for a locality and date (or year); codes not in the file are absent."""
    from codes.models import PhysicianFee

    wanted = _codes(codes)
    release = _release_query(["pfs"], year=year, on=on).first()
    if release is None:
        raise _missing("physician fee schedule (RVU file)", year=year, on=on)
    gpci = gpci_for(locality, year=release.year, on=on)
    day = on or release.effective_from
    factor = conversion_factor_on(day)
    rows = list(PhysicianFee.objects.filter(release=release, code__in=wanted).order_by("code", "modifier"))
    if factor is not None:
        cf, bn = factor.value, factor.budget_neutrality_adjustor
        end = factor.effective_to.isoformat() if factor.effective_to else "open"
        cf_note = f"in force {factor.effective_from.isoformat()} to {end}"
        if on is None:
            cf_note += f"; taken on {day.isoformat()}, the release's first day"
    else:
        cf = next((r.file_conversion_factor for r in rows if r.file_conversion_factor is not None), None)
        bn, cf_note = ONE, f"from {release.source_name}; no conversion factor entry covers {day.isoformat()}"
    label = f"{release} ({release.source_name})"
    result: dict[str, list[PhysicianPayment]] = {}
    for row in rows:
        payment = price_physician_row(
            row, gpci=gpci, conversion_factor=cf, cf_note=cf_note, release=label, year=release.year, budget_neutrality=bn
        )
        result.setdefault(row.code, []).append(payment)
    return result


def asc_payments(codes: list[str], *, year: int | None = None, on: date | None = None) -> dict[str, AscPayment]:
    """Return each code's ASC national rate from Addendum AA (else BB) for a quarter; absent codes are not on the list."""
    from codes.models import AscRate

    wanted = _codes(codes)
    releases = _latest_per_kind(["asc_aa", "asc_bb"], year=year, on=on)
    if not releases:
        raise _missing("ASC addendum", year=year, on=on)
    any_release = next(iter(releases.values()))
    factor = conversion_factor_on(on or any_release.effective_from, "asc")
    by_id = {r.pk: r for r in releases.values()}
    result: dict[str, AscPayment] = {}
    for row in AscRate.objects.filter(release__in=list(by_id), code__in=wanted):
        release = by_id[row.release_id]
        addendum = "AA" if release.kind == "asc_aa" else "BB"
        if row.code in result and result[row.code].addendum == "AA":
            continue  # a surgical procedure row wins over an ancillary row
        result[row.code] = price_asc_row(
            row,
            addendum=addendum,
            release=f"{release} ({release.source_name})",
            year=release.year,
            asc_cf=factor.value if factor else None,
        )
    return result


def opps_payments(codes: list[str], *, year: int | None = None, on: date | None = None) -> dict[str, OppsPayment]:
    """Return each code's OPPS payment from Addendum B for a quarter; absent codes are not in the addendum."""
    from codes.models import OppsRate

    wanted = _codes(codes)
    release = _release_query(["opps"], year=year, on=on).first()
    if release is None:
        raise _missing("OPPS Addendum B", year=year, on=on)
    factor = conversion_factor_on(on or release.effective_from, "opps")
    label = f"{release} ({release.source_name})"
    return {
        row.code: price_opps_row(row, release=label, year=release.year, opps_cf=factor.value if factor else None)
        for row in OppsRate.objects.filter(release=release, code__in=wanted)
    }


def current_payments(code) -> list[tuple[str, Decimal]]:
    """Return (setting, amount) pairs of a code (or Code row) for the latest loaded year, national.

    Used for short figure lines (inquiry replies); settings without a payable amount are left out.
    """
    value = normalise_code(getattr(code, "code", code))
    pairs: list[tuple[str, Decimal]] = []
    try:
        for row in physician_payments([value]).get(value, []):
            suffix = f"-{row.modifier}" if row.modifier else ""
            year = row.year
            if row.non_facility_amount is not None:
                pairs.append((f"{year} physician office{suffix}", row.non_facility_amount))
            if row.facility_amount is not None:
                pairs.append((f"{year} physician facility{suffix}", row.facility_amount))
    except NotLoaded:
        pass
    for fetch, label, attribute in (
        (asc_payments, "ASC", "national_rate"),
        (opps_payments, "hospital outpatient", "payment_rate"),
    ):
        try:
            payment = fetch([value]).get(value)
        except NotLoaded:
            continue
        if payment is not None and getattr(payment, attribute) is not None:
            pairs.append((f"{payment.year} {label}", getattr(payment, attribute)))
    return pairs


@dataclass
class Change:
    """One compared value of a code between two years: before, after, difference and percent."""

    code: str
    modifier: str
    item: str
    before: Decimal | str | None
    after: Decimal | str | None
    difference: Decimal | None
    percent: Decimal | None
    changed: bool


def compare_values(*, code: str, modifier: str, item: str, before, after) -> Change:
    """Return the change between two values (numbers get a difference and a percent)."""
    difference = percent = None
    if isinstance(before, Decimal) and isinstance(after, Decimal):
        difference = after - before
        percent = percent_change(before, after)
    return Change(code, modifier, item, before, after, difference, percent, before != after)


def _pfs_value(row: PhysicianPayment | None, attribute: str):
    """Return a compared PFS value; an amount or RVU total whose PE RVU is NA is "N/A" with its reason."""
    if row is None:
        return None
    for setting, prefix in (("office", "non_facility"), ("facility", "facility")):
        if attribute in (f"{prefix}_rvu_total", f"{prefix}_amount") and getattr(row, f"{prefix}_na"):
            return NA_REASON[setting]
    return getattr(row, attribute)


def compare_years(codes: list[str], *, year_a: int, year_b: int, locality: str = "national") -> list[Change]:
    """Return what changed for each code from year A to year B: PFS amounts, RVU totals, CF, ASC and OPPS."""
    wanted = _codes(codes)
    loaded = sorted({year for kind in ("pfs", "asc", "opps") for year in available_years(kind)})
    for year in (year_a, year_b):
        if year not in loaded:
            raise NotLoaded(f"no fee schedule is loaded for {year}; loaded years: {', '.join(map(str, loaded)) or 'none'}")
    if parse_locality(locality) is not None and available_years("pfs"):
        for year in (year_a, year_b):
            gpci_for(locality, year=year)  # a locality one year lacks would blank that year's amounts without a word

    def fetch(function, year, **kwargs):
        try:
            return function(wanted, year=year, **kwargs)
        except NotLoaded:
            return {}

    pfs = (fetch(physician_payments, year_a, locality=locality), fetch(physician_payments, year_b, locality=locality))
    asc = (fetch(asc_payments, year_a), fetch(asc_payments, year_b))
    opps = (fetch(opps_payments, year_a), fetch(opps_payments, year_b))
    if not any(pfs + asc + opps):
        raise NotLoaded(f"none of {', '.join(wanted)} is in the files loaded for {year_a} or {year_b}")
    changes: list[Change] = []
    for code in wanted:
        rows_a = {row.modifier: row for row in pfs[0].get(code, [])}
        rows_b = {row.modifier: row for row in pfs[1].get(code, [])}
        for modifier in sorted(set(rows_a) | set(rows_b)):
            a, b = rows_a.get(modifier), rows_b.get(modifier)
            for item, attribute in (
                ("Physician office amount", "non_facility_amount"),
                ("Physician facility amount", "facility_amount"),
                ("Office RVU total", "non_facility_rvu_total"),
                ("Facility RVU total", "facility_rvu_total"),
                ("Conversion factor", "conversion_factor"),
                ("PFS status code", "status_code"),
                ("Global days", "global_days"),
            ):
                before, after = _pfs_value(a, attribute), _pfs_value(b, attribute)
                changes.append(compare_values(code=code, modifier=modifier, item=item, before=before, after=after))
        a, b = asc[0].get(code), asc[1].get(code)
        if a or b:
            for item, attribute in (
                ("ASC payment indicator", "payment_indicator"),
                ("ASC multiple-procedure discount", "multiple_procedure_discount"),
                ("ASC payment weight", "payment_weight"),
                ("ASC national rate", "national_rate"),
            ):
                before, after = getattr(a, attribute, None), getattr(b, attribute, None)
                if isinstance(before, bool) or isinstance(after, bool):
                    before = {True: "Y", False: "N"}.get(before)
                    after = {True: "Y", False: "N"}.get(after)
                changes.append(compare_values(code=code, modifier="", item=item, before=before, after=after))
        a, b = opps[0].get(code), opps[1].get(code)
        if a or b:
            for item, attribute in (
                ("OPPS status indicator", "status_indicator"),
                ("OPPS APC", "apc"),
                ("OPPS relative weight", "relative_weight"),
                ("OPPS payment rate", "payment_rate"),
            ):
                before, after = getattr(a, attribute, None), getattr(b, attribute, None)
                changes.append(compare_values(code=code, modifier="", item=item, before=before, after=after))
    return changes


def asp_payments(codes: list[str], *, year: int | None = None, on: date | None = None) -> dict[str, DrugPayment]:
    """Return each drug code's ASP payment limit for a quarter; absent codes have no ASP row (e.g. NOC drugs)."""
    from codes.models import AspPrice

    wanted = _codes(codes)
    release = _release_query(["asp"], year=year, on=on).first()
    if release is None:
        raise _missing("ASP pricing file", year=year, on=on)
    label = f"{release} ({release.source_name})"
    result = {}
    for row in AspPrice.objects.filter(release=release, code__in=wanted):
        reason = "" if row.payment_limit is not None else "No payment limit in the ASP file for this code"
        explanation = Explanation(
            inputs={
                "Dosage (one billing unit)": row.dosage or "-",
                "Payment limit": dollars(row.payment_limit),
                "Coinsurance": f"{row.coinsurance_percentage}%" if row.coinsurance_percentage is not None else "-",
            },
            arithmetic=["The payment limit is already 106% of ASP; allowed = limit x billing units (dose / dosage)"],
            source=f"{label}, line {row.line}",
        )
        result[row.code] = DrugPayment(
            row.code,
            row.short_description,
            row.dosage,
            row.payment_limit,
            row.coinsurance_percentage,
            reason,
            release.year,
            label,
            explanation,
        )
    return result


def dmepos_payments(
    codes: list[str], *, state: str, year: int | None = None, on: date | None = None
) -> dict[str, list[DmeposPayment]]:
    """Return each code's DMEPOS fees (one per modifier combination) in a state for a quarter."""
    from codes.models import DmeposFee

    wanted = _codes(codes)
    release = _release_query(["dmepos"], year=year, on=on).first()
    if release is None:
        raise _missing("DMEPOS fee schedule", year=year, on=on)
    label = f"{release} ({release.source_name})"
    result: dict[str, list[DmeposPayment]] = {}
    rows = DmeposFee.objects.filter(release=release, code__in=wanted, state=state.upper()).order_by(
        "code", "modifier", "modifier2"
    )
    for row in rows:
        result.setdefault(row.code, []).append(
            DmeposPayment(
                row.code,
                row.modifier,
                row.modifier2,
                row.state,
                row.category,
                row.non_rural_fee,
                row.rural_fee,
                row.ceiling,
                row.floor,
                release.year,
                label,
            )
        )
    return result


def available_years(kind: str) -> list[int]:
    """Return the years with a published release of a kind (pfs, gpci, asc, opps, dmepos, asp), newest first."""
    from codes.models import FeeRelease

    kinds = ["asc_aa", "asc_bb"] if kind == "asc" else [kind]
    years = FeeRelease.objects.filter(kind__in=kinds, status=FeeRelease.Status.PUBLISHED).values_list("year", flat=True)
    return sorted(set(years), reverse=True)


def default_date_of_service(today: date) -> date:
    """Return the date a form starts with: today when this year's physician fee schedule is loaded, else the
    first day of the latest loaded year (a form that starts on an unpriceable date fails on its first submit)."""
    years = available_years("pfs")
    if not years or today.year in years:
        return today
    return date(years[0], 1, 1)


def locality_picker(*, year: int | None = None, selected: str | None = None) -> list[LocalityOption]:
    """Return the localities a picker offers: the year's GPCI file, else the latest loaded one.

    A selected locality the list lacks is kept (named by its key), so a redisplayed form never switches it silently.
    """
    gpci_years = available_years("gpci")
    if year not in gpci_years:
        year = gpci_years[0] if gpci_years else None
    options = localities(year=year)
    if selected and selected not in {option.key for option in options}:
        options.append(LocalityOption(selected, "", "", "", selected, ONE, ONE, ONE))
    return options


def localities(*, year: int | None = None, on: date | None = None) -> list[LocalityOption]:
    """Return national and every locality of the GPCI release for a year (or date), sorted by state and name."""
    from codes.models import Locality

    options = [LocalityOption("national", "", "", "", "National (GPCI 1.000)", ONE, ONE, ONE)]
    release = _release_query(["gpci"], year=on.year if on is not None else year, on=None).first()
    if release is None:
        return options
    for row in Locality.objects.filter(release=release).order_by("state", "name"):
        options.append(LocalityOption(row.key, row.mac, row.state, row.number, row.name, row.work_gpci, row.pe_gpci, row.mp_gpci))
    return options


# ---------------------------------------------------------------------------------------------------
# Estimates


def estimate(
    *,
    setting: str,
    date_of_service: date,
    locality: str = "national",
    lines: list[EstimateLine],
    wage_index: Decimal | None = None,
) -> Estimate:
    """Price a case: each line's amount after multiple-procedure rules, and the total (Decimal)."""
    if setting not in SETTINGS:
        raise PricingError(f"setting must be one of {', '.join(SETTINGS)}")
    if not lines:
        raise PricingError("add at least one procedure line")
    lines = check_lines(lines)
    locality = check_locality(locality, on=date_of_service)  # unknown everywhere, whatever the setting
    codes = [line.code for line in lines]
    notes: list[str] = []
    if setting in GPCI_SETTINGS:
        payments = physician_payments(codes, on=date_of_service, locality=locality)
        priced = _estimate_physician(lines, payments, setting=setting)
        notes.append("Multiple procedures (PFS indicator 2 or 3): the highest-paid procedure 100%, others 50%.")
    elif setting == "asc":
        factor = conversion_factor_on(date_of_service, "asc")
        labor_share = factor.labor_share if factor and factor.labor_share is not None else HALF
        payments = asc_payments(codes, on=date_of_service)
        priced = _estimate_asc(lines, payments, wage_index=wage_index, labor_share=labor_share)
        notes.append("ASC multiple procedures: among lines flagged Y, the highest-paid 100%, the others 50%.")
        if wage_index is not None:
            notes.append(f"Wage-adjusted: rate x ({labor_share} x wage index {wage_index} + {ONE - labor_share}).")
    else:
        factor = conversion_factor_on(date_of_service, "opps")
        labor_share = factor.labor_share if factor and factor.labor_share is not None else Decimal("0.6")
        payments = opps_payments(codes, on=date_of_service)
        priced = _estimate_opps(lines, payments, wage_index=wage_index, labor_share=labor_share)
        notes.append("Comprehensive APC (J1): only the primary J1 service is paid; other lines are packaged.")
    if note := locality_note(setting=setting, locality=locality):
        notes.append(note)
    unknown = unknown_codes(code for code in codes if normalise_code(code) not in payments)
    priced = [
        replace(line, reason=f"Unknown code: {line.code} is not in any loaded code set or fee file")
        if line.code in unknown and line.amount is None
        else line
        for line in priced
    ]
    total = sum((line.amount for line in priced if line.amount is not None), ZERO)
    medicare = round_dollars(total * MEDICARE_SHARE)
    notes.append("Medicare pays 80% of the allowed amount after the deductible; the patient owes 20% coinsurance.")
    return Estimate(
        setting=setting,
        date_of_service=date_of_service,
        locality=locality,  # as asked; a note says when the setting ignores it
        lines=priced,
        total=total,
        medicare_pays=medicare,
        patient_coinsurance=total - medicare,
        notes=notes,
    )


def _as_line(line) -> EstimateLine:
    if isinstance(line, EstimateLine):
        return line
    if isinstance(line, dict):
        return EstimateLine(str(line["code"]), tuple(line.get("modifiers") or ()), int(line.get("units", 1)))
    return EstimateLine(line.code, tuple(line.modifiers), int(line.units))


def _not_found(line: EstimateLine, where: str) -> EstimatedLine:
    return EstimatedLine(
        code=normalise_code(line.code),
        modifiers=line.modifiers,
        units=line.units,
        indicator="",
        unit_amount=None,
        factor=ONE,
        amount=None,
        discount="",
        reason=f"Not payable here: {where}",
        explanation=Explanation(),
    )


def _pick_modifier_row(rows: list[PhysicianPayment], modifiers: tuple[str, ...]) -> PhysicianPayment | None:
    by_modifier = {row.modifier: row for row in rows}
    for modifier in modifiers:
        if modifier.upper() in by_modifier:
            return by_modifier[modifier.upper()]
    return by_modifier.get("")


def _estimate_physician(lines, payments, *, setting: str) -> list[EstimatedLine]:
    chosen = []
    for line in lines:
        row = _pick_modifier_row(payments.get(normalise_code(line.code), []), tuple(m.upper() for m in line.modifiers))
        chosen.append(row)
    # Each unit of a multiple-procedure line counts as one procedure when ranking.
    units, amounts, flags = [], [], []
    for index, (line, row) in enumerate(zip(lines, chosen, strict=True)):
        amount = row.amount_for(setting) if row else None
        flagged = bool(row and amount is not None and row.multiple_procedure in ("2", "3"))
        for _ in range(line.units if flagged else 1):
            units.append(index)
            amounts.append(amount or ZERO)
            flags.append(flagged)
    factors = discount_factors(amounts, flags)
    result = []
    for index, (line, row) in enumerate(zip(lines, chosen, strict=True)):
        if row is None:
            result.append(_not_found(line, "no PFS row for this code and modifier on this date"))
            continue
        unit_amount = row.amount_for(setting)
        line_factors = [factors[i] for i, owner in enumerate(units) if owner == index]
        explanation = Explanation(dict(row.explanation.inputs), list(row.explanation.arithmetic), row.explanation.source)
        if unit_amount is None:
            reason = row.reason or "not payable"
            result.append(
                EstimatedLine(row.code, line.modifiers, line.units, row.status_code, None, ONE, None, "", reason, explanation)
            )
            continue
        bilateral = "50" in line.modifiers and row.bilateral_surgery == "1"
        scale = BILATERAL_RATE if bilateral else ONE
        # A multiple-procedure line has one factor per unit; others are paid per unit in full.
        factor_sum = sum(line_factors, ZERO) if len(line_factors) == line.units else ONE * line.units
        amount = round_dollars(unit_amount * factor_sum * scale)
        discount = _discount_text(line_factors, bilateral)
        explanation.arithmetic.append(
            f"{dollars(unit_amount)} x {factor_sum * scale} ({discount or 'no reduction'}) = {dollars(amount)}"
        )
        result.append(
            EstimatedLine(
                row.code,
                line.modifiers,
                line.units,
                row.status_code,
                unit_amount,
                factor_sum * scale,
                amount,
                discount,
                row.reason,
                explanation,
            )
        )
    return result


def _discount_text(line_factors: list[Decimal], bilateral: bool = False) -> str:
    parts = []
    if any(f == HALF for f in line_factors):
        full = sum(1 for f in line_factors if f == ONE)
        half = sum(1 for f in line_factors if f == HALF)
        parts.append(f"multiple procedure: {full} x 100%, {half} x 50%" if full else f"multiple procedure: {half} x 50%")
    if bilateral:
        parts.append("bilateral (modifier 50): 150%")
    return "; ".join(parts)


def _estimate_asc(lines, payments, *, wage_index: Decimal | None, labor_share: Decimal) -> list[EstimatedLine]:
    found = [payments.get(normalise_code(line.code)) for line in lines]
    rates: list[Decimal | None] = []
    for payment in found:
        rate = payment.national_rate if payment else None
        if rate is not None and wage_index is not None:
            rate = wage_adjusted(national_rate=rate, wage_index=wage_index, labor_share=labor_share)
        rates.append(rate)
    units, amounts, flags = [], [], []
    for index, (line, payment) in enumerate(zip(lines, found, strict=True)):
        flagged = bool(payment and payment.multiple_procedure_discount and rates[index] is not None)
        for _ in range(line.units if flagged else 1):
            units.append(index)
            amounts.append(rates[index] or ZERO)
            flags.append(flagged)
    factors = discount_factors(amounts, flags)
    result = []
    for index, (line, payment) in enumerate(zip(lines, found, strict=True)):
        if payment is None:
            result.append(_not_found(line, "not on the ASC covered procedures or ancillary lists (Addenda AA/BB) for this date"))
            continue
        explanation = Explanation(
            dict(payment.explanation.inputs), list(payment.explanation.arithmetic), payment.explanation.source
        )
        rate = rates[index]
        if rate is None:
            amount = ZERO if payment.payment_indicator in ASC_PACKAGED else None
            result.append(
                EstimatedLine(
                    payment.code,
                    line.modifiers,
                    line.units,
                    payment.payment_indicator,
                    None,
                    ONE,
                    amount,
                    "",
                    payment.reason,
                    explanation,
                )
            )
            continue
        if wage_index is not None:
            national = dollars(payment.national_rate)
            explanation.arithmetic.append(
                f"Wage-adjusted: {national} x ({labor_share} x {wage_index} + {ONE - labor_share}) = {dollars(rate)}"
            )
        line_factors = [factors[i] for i, owner in enumerate(units) if owner == index]
        factor_sum = sum(line_factors, ZERO) if len(line_factors) == line.units else ONE * line.units
        amount = round_dollars(rate * factor_sum)
        discount = _discount_text(line_factors)
        explanation.arithmetic.append(f"{dollars(rate)} x {factor_sum} ({discount or 'no reduction'}) = {dollars(amount)}")
        result.append(
            EstimatedLine(
                payment.code,
                line.modifiers,
                line.units,
                payment.payment_indicator,
                rate,
                factor_sum,
                amount,
                discount,
                payment.reason,
                explanation,
            )
        )
    return result


def _estimate_opps(lines, payments, *, wage_index: Decimal | None, labor_share: Decimal) -> list[EstimatedLine]:
    found = [payments.get(normalise_code(line.code)) for line in lines]
    indicators = {p.status_indicator for p in found if p}
    comprehensive = [i for i, p in enumerate(found) if p and p.status_indicator == "J1" and p.payment_rate is not None]
    primary = max(comprehensive, key=lambda i: (found[i].payment_rate, -i)) if comprehensive else None
    rates = []
    for payment in found:
        rate = payment.payment_rate if payment else None
        if rate is not None and wage_index is not None:
            rate = wage_adjusted(national_rate=rate, wage_index=wage_index, labor_share=labor_share)
        rates.append(rate)
    t_lines = [i for i, p in enumerate(found) if p and p.status_indicator == "T" and rates[i] is not None and primary is None]
    t_factors = discount_factors([rates[i] for i in t_lines], [True] * len(t_lines))
    t_factor = dict(zip(t_lines, t_factors, strict=True))
    result = []
    for index, (line, payment) in enumerate(zip(lines, found, strict=True)):
        if payment is None:
            result.append(_not_found(line, "not in OPPS Addendum B for this date"))
            continue
        si = payment.status_indicator
        explanation = Explanation(
            dict(payment.explanation.inputs), list(payment.explanation.arithmetic), payment.explanation.source
        )
        packaged_reason = ""
        if primary is not None and index != primary:
            packaged_reason = f"Packaged into the comprehensive APC of {found[primary].code} (J1): no separate payment"
        elif si == "Q1" and indicators & {"S", "T", "V"}:
            packaged_reason = "Packaged (Q1): an S, T or V service is on the same claim"
        elif si == "Q2" and "T" in indicators:
            packaged_reason = "Packaged (Q2): a T service is on the same claim"
        if packaged_reason:
            result.append(
                EstimatedLine(
                    payment.code, line.modifiers, line.units, si, rates[index], ONE, ZERO, "", packaged_reason, explanation
                )
            )
            continue
        rate = rates[index]
        if rate is None:
            amount = ZERO if si == "N" else None
            result.append(
                EstimatedLine(payment.code, line.modifiers, line.units, si, None, ONE, amount, "", payment.reason, explanation)
            )
            continue
        units = 1 if index == primary else line.units
        factor = t_factor.get(index, ONE)
        # Units of a T line beyond the first are further procedures, each reduced to 50%.
        factor_sum = factor + HALF * (units - 1) if index in t_factor else ONE * units
        amount = round_dollars(rate * factor_sum)
        discount = "multiple procedure (T): 50%" if factor == HALF else ""
        if index == primary:
            discount = "comprehensive APC: single payment for the claim"
        explanation.arithmetic.append(f"{dollars(rate)} x {factor_sum} ({discount or 'no reduction'}) = {dollars(amount)}")
        result.append(
            EstimatedLine(
                payment.code, line.modifiers, line.units, si, rate, factor_sum, amount, discount, payment.reason, explanation
            )
        )
    return result
