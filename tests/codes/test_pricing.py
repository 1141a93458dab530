"""Pricing arithmetic: table-driven, no database. Figures from DOMAIN.md A1-A3 and their sources."""

from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

import pytest

from codes import pricing


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (D("144.307854"), D("144.31")),
        (D("0.005"), D("0.01")),  # half-up, not half-even
        (D("0.015"), D("0.02")),
        (D("2.675"), D("2.68")),
        (D("278.5975"), D("278.60")),
        (D("-1.005"), D("-1.01")),
        (D("13.50"), D("13.50")),
    ],
)
def test_round_dollars_is_half_up_to_cents(amount, expected):
    assert pricing.round_dollars(amount) == expected


@pytest.mark.parametrize(
    ("amount", "expected"), [(D("276.50"), D("277")), (D("32.53"), D("33")), (D("95.51"), D("96")), (D("144.31"), D("144"))]
)
def test_round_whole_dollars_is_half_up(amount, expected):
    # DOMAIN.md C: the guide's 276/32/95 are not half-up roundings of the CMS cents; ours are.
    assert pricing.round_whole_dollars(amount) == expected


NORTHSTAR = {"work_rvu": D("6.26"), "mp_rvu": D("0.99")}


@pytest.mark.parametrize(
    ("pe_rvu", "gpci", "cf", "expected"),
    [
        # northstar vignette: GPCI 1.000/0.883/1.125, CF 32.744
        (D("4.36"), pricing.Gpci(D("1.000"), D("0.883"), D("1.125")), D("32.744"), D("367.51")),
        (D("7.92"), pricing.Gpci(D("1.000"), D("0.883"), D("1.125")), D("32.744"), D("470.44")),
        # national (GPCI 1) with the 2024 CF: 11.61 x 32.7442 and 15.17 x 32.7442
        (D("4.36"), pricing.NATIONAL, D("32.7442"), D("380.16")),
        (D("7.92"), pricing.NATIONAL, D("32.7442"), D("496.73")),
        # 2025 CF
        (D("4.36"), pricing.NATIONAL, D("32.3465"), D("375.54")),
        (D("7.92"), pricing.NATIONAL, D("32.3465"), D("490.70")),
        # 2023 GPCIs, CF 33.8872: Alaska 1.500/1.100/0.603 and Alabama 1.000/0.878/0.748, facility
        (D("4.36"), pricing.Gpci(D("1.500"), D("1.100"), D("0.603")), D("33.8872"), D("500.95")),
        (D("4.36"), pricing.Gpci(D("1.000"), D("0.878"), D("0.748")), D("33.8872"), D("366.95")),
    ],
)
def test_physician_amount_worked_examples(pe_rvu, gpci, cf, expected):
    assert pricing.physician_amount(pe_rvu=pe_rvu, gpci=gpci, conversion_factor=cf, **NORTHSTAR) == expected


def test_no_intermediate_rounding_matches_cms_atlanta_example():
    # northstar README, CPT 33924 Atlanta: CMS file 278.60; rounding the RVU total first gives 278.65.
    atlanta = pricing.Gpci(D("1.000"), D("0.997"), D("1.128"))
    amount = pricing.physician_amount(
        work_rvu=D("5.49"), pe_rvu=D("1.50"), mp_rvu=D("1.35"), gpci=atlanta, conversion_factor=D("32.7442")
    )
    assert amount == D("278.60")


@pytest.mark.parametrize(
    ("exact_fee", "non_par", "limiting"),
    [
        (D("89.98"), D("85.48"), D("98.30")),  # CPT 92626, 2022 national (northstar calculations)
        (D("367.50654"), D("349.13"), D("401.50")),  # northstar vignette, facility
    ],
)
def test_non_participating_and_limiting_charge(exact_fee, non_par, limiting):
    assert pricing.non_participating_amount(exact_fee) == non_par
    assert pricing.limiting_charge(exact_fee) == limiting


@pytest.mark.parametrize(
    ("rate", "wage_index", "labor_share", "expected"),
    [
        (D("10000"), D("0.9"), D("0.50"), D("9500.00")),  # ASC, DOMAIN.md A2
        (D("10000"), D("0.9"), D("0.60"), D("9400.00")),  # OPPS, DOMAIN.md A3
        (D("14468.87"), D("1.0000"), D("0.50"), D("14468.87")),
    ],
)
def test_wage_adjustment(rate, wage_index, labor_share, expected):
    assert pricing.wage_adjusted(national_rate=rate, wage_index=wage_index, labor_share=labor_share) == expected


@pytest.mark.parametrize(
    ("amounts", "flags", "factors"),
    [
        ([D("1000"), D("600")], [True, True], [D(1), D("0.5")]),
        ([D("600"), D("1000")], [True, True], [D("0.5"), D(1)]),
        ([D("600"), D("1000")], [True, False], [D(1), D(1)]),  # an unflagged line is never discounted
        ([D("3613.14"), D("14468.87"), D("328.58")], [True, True, True], [D("0.5"), D(1), D("0.5")]),
        ([D("500"), D("500")], [True, True], [D(1), D("0.5")]),  # tie: first listed in full
        ([], [], []),
    ],
)
def test_discount_factors(amounts, flags, factors):
    assert pricing.discount_factors(amounts, flags) == factors


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [(D("144.31"), D("140.29"), D("-2.8")), (D("4.17"), D("4.14"), D("-0.7")), (None, D("1"), None), (D("0"), D("1"), None)],
)
def test_percent_change(before, after, expected):
    assert pricing.percent_change(before, after) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("national", None),
        ("", None),
        (None, None),
        ("02102-01", ("02102", "01")),
        ("0210201", ("02102", "01")),
        ("00000-00", ("00000", "00")),  # well-formed, so no GPCI file has it: national is spelled "national"
    ],
)
def test_parse_locality(text, expected):
    assert pricing.parse_locality(text) == expected


@pytest.mark.parametrize("text", ["abc", "02102-1", "021020100", "02102-AB"])
def test_parse_locality_rejects_malformed(text):
    with pytest.raises(pricing.PricingError, match="MAC-LOCALITY"):
        pricing.parse_locality(text)


def rvu_row(**overrides):
    row = {
        "code": "62322",
        "modifier": "",
        "description": "Njx interlaminar lmbr/sac",
        "status_code": "A",
        "work_rvu": D("1.55"),
        "non_facility_pe_rvu": D("2.43"),
        "non_facility_na": False,
        "facility_pe_rvu": D("0.64"),
        "facility_na": False,
        "mp_rvu": D("0.19"),
        "non_facility_total": D("4.17"),
        "facility_total": D("2.38"),
        "global_days": "000",
        "pctc_indicator": "0",
        "multiple_procedure": "2",
        "bilateral_surgery": "9",
        "line": 11560,
    }
    row.update(overrides)
    return SimpleNamespace(**row)


def price(row, gpci=pricing.NATIONAL, cf=D("34.6062")):
    return pricing.price_physician_row(
        row, gpci=gpci, conversion_factor=cf, cf_note="test", release="PFS 2022 January", year=2022
    )


def test_price_physician_row_national_2022_62322():
    payment = price(rvu_row())
    assert (payment.non_facility_amount, payment.facility_amount) == (D("144.31"), D("82.36"))
    assert payment.payable and payment.reason == ""
    assert any("4.17 RVU x 34.6062 = 144.307854 -> $144.31" in step for step in payment.explanation.arithmetic)
    assert payment.explanation.source == "PFS 2022 January, line 11560"
    assert payment.explanation.inputs["Work RVU"] == "1.55"


@pytest.mark.parametrize(
    ("status", "reason_part"),
    [
        ("C", "Carrier (MAC) priced"),
        ("E", "Excluded from the PFS"),
        ("B", "Bundled"),
        ("I", "Not valid for Medicare"),
        ("N", "Non-covered"),
        ("P", "Bundled or excluded"),
        ("X", "Statutory exclusion"),
        ("M", "Measurement code"),
        ("J", "Anesthesia"),
    ],
)
def test_not_payable_statuses_have_a_reason_never_zero(status, reason_part):
    payment = price(
        rvu_row(status_code=status, work_rvu=D("0"), non_facility_pe_rvu=D("0"), facility_pe_rvu=D("0"), mp_rvu=D("0"))
    )
    assert payment.non_facility_amount is None and payment.facility_amount is None
    assert not payment.payable
    assert "Not paid under the PFS" in payment.reason and reason_part in payment.reason


@pytest.mark.parametrize(("status", "note"), [("R", "Restricted coverage"), ("T", "no other PFS service")])
def test_r_and_t_are_paid_with_a_note(status, note):
    payment = price(rvu_row(status_code=status))
    assert payment.non_facility_amount == D("144.31")
    assert note in payment.reason


def test_na_indicator_gives_none_and_the_reason_not_zero():
    # 61070: the non-facility PE RVU holds 0.61 but the NA indicator says N/A.
    row = rvu_row(
        code="61070",
        work_rvu=D("0.89"),
        non_facility_pe_rvu=D("0.61"),
        non_facility_na=True,
        facility_pe_rvu=D("0.61"),
        mp_rvu=D("0.17"),
        non_facility_total=D("1.67"),
        facility_total=D("1.67"),
    )
    payment = price(row)
    assert payment.non_facility_amount is None and payment.non_facility_na
    assert payment.facility_amount == D("57.79")
    assert payment.reason.startswith("N/A")
    assert payment.non_facility_non_par is None and payment.facility_non_par == pricing.non_participating_amount(
        D("1.67") * D("34.6062")
    )


def test_modifier_rows_are_priced_separately_75809():
    global_row = price(
        rvu_row(
            code="75809",
            work_rvu=D("0.47"),
            non_facility_pe_rvu=D("1.94"),
            facility_pe_rvu=D("1.94"),
            facility_na=True,
            mp_rvu=D("0.05"),
        )
    )
    professional = price(
        rvu_row(
            code="75809",
            modifier="26",
            work_rvu=D("0.47"),
            non_facility_pe_rvu=D("0.17"),
            facility_pe_rvu=D("0.17"),
            mp_rvu=D("0.04"),
        )
    )
    assert global_row.non_facility_amount == D("85.13") and global_row.facility_amount is None
    assert professional.facility_amount == D("23.53") and professional.modifier == "26"


@pytest.mark.parametrize(
    ("total", "cents", "whole"),
    [(D("8.77"), D("303.50"), D("303")), (D("7.99"), D("276.50"), D("277")), (D("4.17"), D("144.31"), D("144"))],
)
def test_physician_whole_dollars_rounds_the_exact_fee_once(total, cents, whole):
    # 8.77 x 34.6062 = 303.496...: cents say 303.50 (-> 304), the exact fee says $303 (the 2022 guide's 62365 facility).
    payment = price(rvu_row(work_rvu=total, non_facility_pe_rvu=D("0"), facility_pe_rvu=D("0"), mp_rvu=D("0")))
    assert payment.facility_amount == cents
    assert pricing.physician_whole_dollars(payment, setting="facility") == whole
    assert pricing.physician_whole_dollars(price(rvu_row(status_code="C")), setting="office") is None


def test_budget_neutrality_adjusts_work_only():
    payment = pricing.price_physician_row(
        rvu_row(),
        gpci=pricing.NATIONAL,
        conversion_factor=D("34.6062"),
        cf_note="",
        release="r",
        year=2007,
        budget_neutrality=D("0.8994"),
    )
    expected = pricing.round_dollars((D("1.55") * D("0.8994") + D("2.43") + D("0.19")) * D("34.6062"))
    assert payment.non_facility_amount == expected


def asc_row(**overrides):
    row = {
        "code": "62362",
        "short_descriptor": "Implant spine infusion pump",
        "payment_indicator": "J8",
        "multiple_procedure_discount": True,
        "payment_weight": D("289.8699"),
        "payment_rate": D("14468.87"),
        "line": 3390,
    }
    row.update(overrides)
    return SimpleNamespace(**row)


@pytest.mark.parametrize(
    ("indicator", "rate", "expected_rate", "reason_part"),
    [
        ("J8", D("14468.87"), D("14468.87"), ""),
        ("N1", None, None, "Packaged (N1)"),
        ("N1", D("5.00"), None, "Packaged (N1)"),  # packaged even if a rate were printed
        ("K5", None, None, "No ASC payment"),
        ("D5", D("10.00"), None, "No ASC payment"),
        ("K7", None, None, "Contractor-priced"),
        ("P3", D("13.50"), D("13.50"), ""),
    ],
)
def test_price_asc_row_indicator_semantics(indicator, rate, expected_rate, reason_part):
    payment = pricing.price_asc_row(
        asc_row(payment_indicator=indicator, payment_rate=rate), addendum="AA", release="ASC AA", year=2022
    )
    assert payment.national_rate == expected_rate
    assert reason_part in payment.reason
    if not reason_part:
        assert payment.reason == ""


def test_asc_explanation_shows_weight_times_cf():
    payment = pricing.price_asc_row(
        asc_row(payment_indicator="G2", payment_weight=D("6.5826"), payment_rate=D("328.58")),
        addendum="AA",
        release="ASC AA",
        year=2022,
        asc_cf=D("49.916"),
    )
    assert any("6.5826 x ASC CF 49.916 = 328.5770616" in step for step in payment.explanation.arithmetic)


@pytest.mark.parametrize(
    ("indicator", "rate", "expected_rate", "reason_part"),
    [
        ("J1", D("17405.31"), D("17405.31"), ""),
        ("T", D("648.52"), D("648.52"), ""),
        ("N", None, None, "Packaged (N)"),
        ("C", None, None, "Not paid under the OPPS"),
        ("E1", None, None, "Not paid under the OPPS"),
        ("A", None, None, "Not paid under the OPPS"),
        ("B", None, None, "Not paid under the OPPS"),
    ],
)
def test_price_opps_row_status_semantics(indicator, rate, expected_rate, reason_part):
    row = SimpleNamespace(
        code="62362",
        short_descriptor="x",
        status_indicator=indicator,
        apc="5471",
        relative_weight=None,
        payment_rate=rate,
        national_copayment=None,
        minimum_copayment=None,
        line=6710,
    )
    payment = pricing.price_opps_row(row, release="OPPS B", year=2022)
    assert payment.payment_rate == expected_rate
    assert reason_part in payment.reason


def asc_payment(code, indicator, rate, discount):
    row = asc_row(code=code, payment_indicator=indicator, payment_rate=rate, multiple_procedure_discount=discount)
    return pricing.price_asc_row(row, addendum="AA", release="ASC AA", year=2022)


ASC_CASE = {
    "62362": asc_payment("62362", "J8", D("14468.87"), True),
    "62350": asc_payment("62350", "J8", D("3613.14"), True),
    "62355": asc_payment("62355", "A2", D("824.93"), False),
    "J2274": asc_payment("J2274", "N1", None, None),
}


@pytest.mark.parametrize(
    ("lines", "amounts", "total"),
    [
        ([("62362", 1), ("62350", 1)], [D("14468.87"), D("1806.57")], D("16275.44")),  # the claim-check acceptance case
        ([("62350", 1), ("62362", 1)], [D("1806.57"), D("14468.87")], D("16275.44")),  # order does not matter
        ([("62362", 1), ("62355", 1)], [D("14468.87"), D("824.93")], D("15293.80")),  # N: never discounted
        ([("62362", 1), ("J2274", 3)], [D("14468.87"), D("0")], D("14468.87")),  # N1 packaged: $0 with reason
        ([("62350", 2)], [D("5419.71")], D("5419.71")),  # two units: 100% + 50%
    ],
)
def test_estimate_asc_multiple_procedure_discount(lines, amounts, total):
    priced = pricing._estimate_asc(
        [pricing.EstimateLine(code, (), units) for code, units in lines], ASC_CASE, wage_index=None, labor_share=D("0.5")
    )
    assert [line.amount for line in priced] == amounts
    assert sum(line.amount for line in priced) == total


def test_estimate_asc_wage_adjusts_before_ranking():
    priced = pricing._estimate_asc(
        [pricing.EstimateLine("62362"), pricing.EstimateLine("62350")], ASC_CASE, wage_index=D("0.9000"), labor_share=D("0.5")
    )
    assert priced[0].unit_amount == pricing.wage_adjusted(national_rate=D("14468.87"), wage_index=D("0.9"), labor_share=D("0.5"))
    assert priced[1].amount == pricing.round_dollars(D("3432.48") * D("0.5"))


def opps_payment(code, indicator, rate):
    row = SimpleNamespace(
        code=code,
        short_descriptor="x",
        status_indicator=indicator,
        apc="0000",
        relative_weight=None,
        payment_rate=rate,
        national_copayment=None,
        minimum_copayment=None,
        line=1,
    )
    return pricing.price_opps_row(row, release="OPPS B", year=2022)


OPPS_CASE = {
    "62362": opps_payment("62362", "J1", D("17405.31")),
    "62350": opps_payment("62350", "J1", D("5870.46")),
    "62322": opps_payment("62322", "T", D("648.52")),
    "62323": opps_payment("62323", "T", D("700.00")),
    "J2274": opps_payment("J2274", "N", None),
    "96372": opps_payment("96372", "Q1", D("55.00")),
}


@pytest.mark.parametrize(
    ("codes", "amounts"),
    [
        (["62362", "62350", "J2274"], [D("17405.31"), D("0"), D("0")]),  # J1: the primary only
        (["62350", "62362"], [D("0"), D("17405.31")]),  # the highest-paid J1 is primary
        (["62322", "62323"], [D("324.26"), D("700.00")]),  # T: lower-paid at 50%
        (["62322", "96372"], [D("648.52"), D("0")]),  # Q1 packaged with a T on the claim
        (["96372"], [D("55.00")]),  # Q1 alone is paid
    ],
)
def test_estimate_opps_rules(codes, amounts):
    priced = pricing._estimate_opps([pricing.EstimateLine(c) for c in codes], OPPS_CASE, wage_index=None, labor_share=D("0.6"))
    assert [line.amount for line in priced] == amounts


def test_estimate_rejects_bad_setting_and_units():
    with pytest.raises(pricing.PricingError, match="setting"):
        pricing.estimate(setting="home", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("62362")])
    with pytest.raises(pricing.PricingError, match="units"):
        pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=[pricing.EstimateLine("62362", (), 0)])
    with pytest.raises(pricing.PricingError, match="at least one"):
        pricing.estimate(setting="asc", date_of_service=date(2022, 6, 1), lines=[])


@pytest.mark.parametrize(("value", "text"), [(D("14468.87"), "$14,468.87"), (None, "-"), (D("0"), "$0.00")])
def test_dollars_display(value, text):
    assert pricing.dollars(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(D("4.170000"), "4.17"), (D("144.3078540000"), "144.307854"), (D("100"), "100"), (D("1E+2"), "100")]
)
def test_plain_never_uses_exponent_notation(value, text):
    assert pricing.plain(value) == text
