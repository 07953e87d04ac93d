"""Form errors in a real Chromium with DEBUG on, as `scripts/start` runs the console by default: a
refused form keeps the page (its stylesheet, its header) and shows the error on its field, and a
dialog's Cancel still closes it. django-htmx's debug script used to replace the whole document with
the 400 answer, unstyled, and leave the dialog's buttons dead."""

import pytest
from playwright.sync_api import expect

from routes import services as route_services
from tests.conftest import log_in
from tests.test_browser_routes import next_step, refreshed, sock_shop  # noqa: F401 - the fixture

pytestmark = pytest.mark.cluster


def still_styled(page) -> None:
    expect(page.locator("header.topbar")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display") != "inline"
    assert page.evaluate("document.styleSheets.length") >= 1


def test_refused_wizard_steps_and_dialogs_keep_the_page_with_debug_on(
    sock_shop,  # noqa: F811 - the fixture imported above
    live_server,
    browser,
    demo_passwords,
    settings,
):
    settings.DEBUG = True
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(sock_shop, {"name": "shop", "rules": [rule]})
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, live_server.url, "project-regular", demo_passwords["project-regular"])
    assert "django-htmx.js" not in page.content()  # the debug script is not loaded at all

    # The route wizard: a host that is not a host.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/new/")
    page.fill("#id_name", "bad-host")
    next_step(page)
    refreshed(page, lambda: page.check("input[name=rule-0-host_mode][value=custom]"))
    page.fill("input[name=rule-0-host]", "Not A Host")
    refreshed(page, lambda: page.select_option("select[name=rule-0-path-0-service]", "front-end"))
    next_step(page)
    expect(page.locator("#route-wizard .field-error").first).to_contain_text("host")
    expect(page.locator(".steps li.current")).to_have_text("Rules")
    still_styled(page)

    # The Edit Rules dialog: a path without its leading slash; then Cancel.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/shop/")
    page.click("#edit-rules")
    dialog = page.locator("dialog.modal")
    dialog.locator("input[name=rule-0-path-0-path]").fill("no-slash")
    dialog.locator("button.primary[value=save]").click()
    expect(dialog.locator(".field-error").first).to_contain_text("must start with '/'")
    still_styled(page)
    dialog.locator("[data-close-modal]").click()
    expect(page.locator("dialog.modal")).to_have_count(0)
    expect(page.locator("h1")).to_have_text("shop")
