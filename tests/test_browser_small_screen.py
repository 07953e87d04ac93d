"""The console at phone width (390 px) in a real Chromium, with the settings `scripts/start` uses:
no page is wider than the screen, the navigation and the sidebar fold behind the menu button, wide
tables scroll inside their card, and dialogs and wizards fit, refused input and its errors too."""

import pytest
from playwright.sync_api import expect

from routes import services as route_services
from tests.conftest import log_in
from tests.test_browser_form_errors import bad_annotation_key, refused_host_in_the_wizard, refused_in_dialog
from tests.test_browser_routes import sock_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.cluster

WIDTH = 390


def fits(page, what: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= WIDTH, f"{what}: the page is {overflow} px wide on a {WIDTH} px screen"


def inside_the_screen(page, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{selector} at {box}"


def test_every_page_and_dialog_fits_a_phone(
    sock_shop,  # noqa: F811 - the fixture imported above
    live_server,
    browser,
    demo_passwords,
):
    long_host = "a-rather-long-host-name-for-a-phone-screen.shop.example.com"
    rule = {"host": long_host, "paths": [{"path": "/catalogue/items", "service": "catalogue", "port": 80}]}
    auto = {"host_mode": "auto", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(sock_shop, {"name": "shop", "rules": [rule, auto]})
    context = browser.new_context(viewport={"width": WIDTH, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    log_in(page, live_server.url, "project-admin", demo_passwords["project-admin"])

    pages = {
        "the workspace list": "/workspaces/",
        "the project list": "/projects/",
        "the project": "/projects/sock-shop/",
        "the route list": "/projects/sock-shop/routes/",
        "the route": "/projects/sock-shop/routes/shop/",
        "the gateway": "/projects/sock-shop/gateway/",
        "the members": "/projects/sock-shop/members/",
        "the route wizard": "/projects/sock-shop/routes/new/",
    }
    for what, path in pages.items():
        page.goto(live_server.url + path)
        fits(page, what)
        expect(page.locator("header.topbar .brand")).to_be_visible()
        inside_the_screen(page, "header.topbar .menu-button")

    # The sidebar and the navigation fold behind the menu button, and come out on a tap.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/")
    expect(page.locator("aside.sidebar")).to_be_hidden()
    expect(page.locator(".topnav")).to_be_hidden()
    page.click(".menu-button")
    expect(page.locator("aside.sidebar")).to_be_visible()
    expect(page.locator(".topnav a", has_text="Projects")).to_be_visible()
    expect(page.locator(".account .who")).to_be_visible()
    fits(page, "the route list with its menu open")
    page.locator("aside.sidebar a", has_text="Gateway").click()
    expect(page.locator("h1")).to_contain_text("Gateway")

    # A wide table scrolls inside its card instead of widening the page.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/shop/")
    rules = page.locator("#route-rules")
    assert rules.evaluate("table => table.scrollWidth > table.clientWidth"), "the rules table should scroll"
    fits(page, "the route with its long host")

    # Dialogs and the gateway wizard fit the screen.
    for opener in ("#edit-rules", "#edit-annotations", "#edit-yaml"):
        page.click(opener)
        expect(page.locator("dialog.modal")).to_be_visible()
        inside_the_screen(page, "dialog.modal")
        fits(page, f"the route with {opener} open")
        page.locator("dialog.modal [data-close-modal]").click()
        expect(page.locator("dialog.modal")).to_have_count(0)

    # Refused input at phone width: the error shows on its field, inside the screen.
    def fits_refused(dialog) -> None:
        inside_the_screen(page, "dialog.modal")
        inside_the_screen(page, "dialog.modal .field-error")
        fits(page, "a refused dialog")

    bad_path = lambda d: d.locator("input[name=rule-0-path-0-path]").fill("no-slash")  # noqa: E731
    refused_in_dialog(page, "#edit-rules", bad_path, "start with '/'", also=fits_refused)
    refused_in_dialog(page, "#edit-annotations", bad_annotation_key, "not a valid key", also=fits_refused)
    page.goto(f"{live_server.url}/projects/sock-shop/gateway/")
    bad_replicas = lambda d: d.locator("#id_replicas").fill("12")  # noqa: E731
    refused_in_dialog(
        page, "#edit-gateway", bad_replicas, "between 1 and 10", submit="button.primary[value=next]", also=fits_refused
    )
    refused_host_in_the_wizard(page, live_server.url)
    inside_the_screen(page, "#route-wizard .field-error")
    fits(page, "the route wizard with a refused host")
