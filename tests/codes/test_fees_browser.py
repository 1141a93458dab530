"""Payment pages in a real browser (Debian's Chromium via Playwright): estimator and the htmx payments fragment."""

from datetime import date
from decimal import Decimal as D

import pytest

from codes import pricing
from codes.importers import registry
from tests.codes.test_fee_importers import DATA, PPRRVU_SMALL, ensure_conversion_factors, gpci_workbook

pytestmark = pytest.mark.browser


def test_estimator_in_the_browser(page, live_server, artifacts_dir):
    registry.run_import([DATA / "ASC_Addendum_AA_small.csv", DATA / "ASC_Addendum_BB_small.csv"])
    page.goto(f"{live_server.url}/estimator/")
    page.select_option("#id_setting", "asc")
    page.fill("#id_date_of_service", "2022-06-01")
    codes = page.locator("input[name=code]")
    codes.nth(0).fill("62362")
    codes.nth(1).fill("62350")
    codes.nth(2).fill("J2274")
    page.click("button:has-text('Estimate')")
    page.wait_for_load_state()
    assert page.locator("#estimate-total").inner_text() == "$16,275.44"
    second = page.locator('table.estimate tr[data-code="62350"]')
    assert second.locator("td.amount").inner_text() == "$1,806.57"
    assert "multiple procedure: 1 x 50%" in second.inner_text()
    packaged = page.locator('table.estimate tr[data-code="J2274"]')
    assert "$0.00" in packaged.inner_text() and "Packaged (N1)" in packaged.inner_text()
    explanation = second.locator("details")
    assert not explanation.locator("ul.arithmetic").is_visible()
    explanation.locator("summary").click()
    assert "$3,613.14 x 0.5 (multiple procedure: 1 x 50%) = $1,806.57" in explanation.inner_text()
    page.screenshot(path=str(artifacts_dir / "estimator-asc.png"), full_page=True)
    # The URL holds the case: it can be shared and reloaded.
    assert "code=62362" in page.url and "setting=asc" in page.url


def test_payments_fragment_switches_locality_with_htmx(page, live_server, tmp_path, artifacts_dir):
    ensure_conversion_factors()
    registry.run_import([PPRRVU_SMALL, gpci_workbook(tmp_path / "GPCI2024.xlsx")])
    (alaska,) = pricing.physician_payments(["62322"], year=2024, locality="02102-01")["62322"]
    assert alaska.non_facility_amount == pricing.round_dollars(
        (D("1.55") * D("1.5") + D("2.38") * D("1.118") + D("0.19") * D("0.614"))
        * pricing.conversion_factor_on(date(2024, 1, 1)).value
    )
    page.goto(f"{live_server.url}/codes/cpt/62322/payments/")
    section = page.locator("section.code-payments")
    assert "$134.91" in section.inner_text()  # national, CF 32.7442 on the release's first day
    page.select_option("#locality-62322", "02102-01")
    page.click("section.code-payments button:has-text('Show')")
    # The select's options name Alaska too: wait for the swapped-in physician row itself.
    page.wait_for_selector('section.code-payments tr[data-kind="physician"] th:has-text("AK ALASKA")')
    assert pricing.dollars(alaska.non_facility_amount) in page.locator("section.code-payments").inner_text()
    assert page.url.endswith("/codes/cpt/62322/payments/")  # swapped in place by htmx, no navigation
    row = page.locator('section.code-payments tr[data-kind="physician"]')
    row.locator("summary").click()
    assert "1.500" in row.locator("details").inner_text()
    page.screenshot(path=str(artifacts_dir / "code-payments-alaska.png"), full_page=True)
