"""Fixtures shared by the whole suite: role users, the real CMS files, a real browser."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from reimbursement import roles
from tests import factories

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def _required(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "False")


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters and cached lookups never leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def cms_data_dir() -> Path:
    """The real CMS/NCHS files (CMS_DATA_DIR); skip where absent, fail in CI (REQUIRE_CMS_DATA=1)."""
    path = Path(settings.CMS_DATA_DIR)
    if not (path / "cms").is_dir() or not (path / "icd10cm").is_dir():
        reason = f"real CMS data files not found in CMS_DATA_DIR={path}"
        if _required("REQUIRE_CMS_DATA"):
            pytest.fail(reason + " (REQUIRE_CMS_DATA=1)")
        pytest.skip(reason)
    return path


@pytest.fixture
def office_user(db):
    return factories.UserFactory(username="office", role=roles.OFFICE_STAFF)


@pytest.fixture
def team_user(db):
    return factories.UserFactory(username="team", role=roles.REIMBURSEMENT_TEAM)


@pytest.fixture
def agent_user(db):
    return factories.UserFactory(username="agent", role=roles.SUPPORT_AGENTS)


@pytest.fixture
def superuser(db):
    return factories.UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def role_users(office_user, team_user, agent_user, superuser):
    """Every kind of visitor of the permission matrix; None is the anonymous visitor."""
    return {"anonymous": None, "office": office_user, "team": team_user, "agent": agent_user, "superuser": superuser}


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = "/usr/bin/chromium"
    if not os.path.exists(path):
        reason = "Debian's chromium is not installed (make test installs it when run as root)"
        if _required("REQUIRE_BROWSER"):
            pytest.fail(reason + " (REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    """Headless Debian Chromium driven by Playwright (no downloaded browser)."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def login_in_browser(page, live_server, username: str, password: str = factories.PASSWORD) -> None:
    """Log a Playwright page in through the real login form."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
