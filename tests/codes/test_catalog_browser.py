"""The lookup page in a real browser: results appear as the user types (htmx), and lead to the code page."""

import pytest

from codes.importers import registry
from tests.codes.test_catalog_importers import ORDER_LINES, TABULAR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_results_appear_while_typing_and_open_the_code_page(live_server, page, tmp_path):
    order = tmp_path / "icd10cm-order-2030.txt"
    order.write_text("\r\n".join(ORDER_LINES) + "\r\n", newline="")
    tabular = tmp_path / "icd10cm_tabular_2030.xml"
    tabular.write_text(TABULAR)
    registry.run_import([order, tabular])

    page.goto(f"{live_server.url}/lookup/")
    page.fill("#q", "g892")  # typing only: no submit
    page.wait_for_selector("#results a[href='/codes/icd10cm/G892/']")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 2 and rows.nth(0).inner_text().startswith("G89.2")
    assert "q=g892" in page.url  # the address follows the search, so it can be shared
    page.fill("#q", "other chronic")
    page.wait_for_selector("#results a[href='/codes/icd10cm/G8929/']")
    page.click("#results a[href='/codes/icd10cm/G8929/']")
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text().startswith("G89.29")
    assert "causalgia, lower limb (G57.7-)" in page.content()  # the Excludes1 note of G89.2 above it

    # A long unbroken query wraps inside the page instead of widening it.
    page.goto(f"{live_server.url}/lookup/")
    page.fill("#q", "x" * 300)
    page.wait_for_selector("#results p:has-text('No code matches')")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
