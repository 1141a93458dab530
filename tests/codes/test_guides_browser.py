"""The guide page in a real browser (Debian's Chromium via Playwright), on the starter extract of real CMS rows."""

import pytest

from codes import pricing, starter

pytestmark = pytest.mark.browser


def _cell(page, table: str, code: str, column: int) -> str:
    return page.locator(f'[data-testid="table-{table}"] tr[data-code="{code}"] td').nth(column).inner_text().strip()


def test_guide_switches_year_locality_and_amounts(page, live_server, artifacts_dir):
    starter.load_starter_data()
    alaska = pricing.physician_payments(["62362"], year=2022, locality="02102-01")["62362"][0]
    alaska_whole = pricing.physician_whole_dollars(alaska, setting="facility", gpci=pricing.gpci_for("02102-01", year=2022))

    page.goto(f"{live_server.url}/guides/intrathecal-drug-delivery/")
    assert page.locator("h1").inner_text() == "Intrathecal drug delivery: coding and payment guide"
    assert "2023" in page.locator(".guide-edition").inner_text()
    assert _cell(page, "physician", "62322", 2) == "$140"
    assert _cell(page, "physician", "62322", 4) == "-$4"  # change since 2022

    page.select_option("#year", "2022")
    page.click("#show")
    page.wait_for_url("**/intrathecal-drug-delivery/2022/**")
    assert _cell(page, "physician", "62322", 2) == "$144"
    assert _cell(page, "asc", "62362", 4) == "$14,469"

    page.select_option("#locality", "02102-01")
    page.check("input[name=amounts][value=cents]")
    page.click("#show")
    page.wait_for_load_state()
    assert "ALASKA" in page.get_by_test_id("locality-name").inner_text()
    assert _cell(page, "physician", "62362", 3) == f"${alaska.facility_amount:,.2f}"
    assert alaska.facility_amount != pricing.physician_payments(["62362"], year=2022)["62362"][0].facility_amount

    page.check("input[name=amounts][value=dollars]")
    page.click("#show")
    page.wait_for_load_state()
    assert _cell(page, "physician", "62362", 3) == f"${alaska_whole:,.0f}"

    page.set_viewport_size({"width": 1280, "height": 1000})
    page.locator("#section-physician").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "guide-2022-alaska.png"), full_page=False)
    page.locator("#section-physician").screenshot(path=str(artifacts_dir / "guide-2022-alaska-physician.png"))
    page.locator('tr[data-code="G89.2 - G89.29"] summary').click()
    assert page.locator('tr[data-code="G89.2 - G89.29"] li.billable').count() == 4


def test_claim_check_page_in_the_browser(page, live_server, artifacts_dir):
    starter.load_starter_data()
    page.goto(f"{live_server.url}/claim-check/")
    page.fill("#id_diagnoses", "G89.29 G57.71")
    page.select_option("#id_setting", "asc")
    page.fill("#id_date_of_service", "2022-06-01")
    page.fill("#id_lines-0-code", "62362")
    page.fill("#id_lines-1-code", "62350")
    page.click("button[type=submit]:has-text('Check claim')")
    page.wait_for_load_state()
    assert page.get_by_test_id("estimate-total").inner_text() == "$16,275.44"
    assert page.locator(".findings li.severity-error").count() >= 2
    page.screenshot(path=str(artifacts_dir / "claim-check.png"), full_page=True)
