"""Form errors in a real Chromium with DEBUG on, as `scripts/start --development` runs the console: a
refused form keeps the page (its stylesheet, its header) and shows the error on its field, and a
dialog's Cancel still closes it. django-htmx's debug script used to replace the whole document with
the 400 answer, unstyled, and leave the dialog's buttons dead. Every wizard and dialog that takes
input is tried, and no step may break the Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from routes import services as route_services
from tests.conftest import log_in
from tests.test_browser_routes import next_step, refreshed, sock_shop  # noqa: F401 - the fixture

pytestmark = [pytest.mark.cluster, pytest.mark.development]


def still_styled(page) -> None:
    expect(page.locator("header.topbar")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display") != "inline"
    assert page.evaluate("document.styleSheets.length") >= 1


def test_refused_wizard_steps_and_dialogs_keep_the_page_with_debug_on(
    sock_shop,  # noqa: F811 - the fixture imported above
    live_server,
    browser,
    demo_passwords,
):
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(sock_shop, {"name": "shop", "rules": [rule]})
    said = []  # what the browser's console logged: a CSP violation shows there
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.on("console", lambda message: said.append(message.text))
    log_in(page, live_server.url, "project-regular", demo_passwords["project-regular"])
    assert "django-htmx.js" not in page.content()  # the debug script is not loaded at all

    refused_host_in_the_wizard(page, live_server.url)
    still_styled(page)
    in_the_wizard = room_of_the_rules_editor(page.locator("#route-wizard"))

    # Each route dialog that takes input: a bad value, the error on its field, then Cancel.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/shop/")
    page.click("#edit-rules")
    in_the_dialog = room_of_the_rules_editor(page.locator("dialog.modal"))
    page.locator("dialog.modal [data-close-modal]").click()
    # Edit Rules gets the room the wizard's rules step has: its selects were cut to "Pre" and "80 (ht".
    for part, width in in_the_wizard.items():
        assert in_the_dialog[part] >= width - 2, (part, in_the_dialog, in_the_wizard)
    refused_in_dialog(
        page, "#edit-rules", lambda d: d.locator("input[name=rule-0-path-0-path]").fill("no-slash"), "start with '/'"
    )
    refused_in_dialog(page, "#edit-info", too_long_description, "at most 1024")
    refused_in_dialog(page, "#edit-annotations", bad_annotation_key, "not a valid key")
    refused_in_dialog(page, "#edit-yaml", lambda d: d.locator("#id_manifest").fill("kind: [unclosed"), "YAML")
    expect(page.locator("h1")).to_have_text("shop")

    # The gateway wizard, as the project's admin: more replicas than a gateway may have.
    admin = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    admin.on("console", lambda message: said.append(message.text))
    log_in(admin, live_server.url, "project-admin", demo_passwords["project-admin"])
    admin.goto(f"{live_server.url}/projects/sock-shop/gateway/")
    refused_in_dialog(
        admin,
        "#edit-gateway",
        lambda d: d.locator("#id_replicas").fill("12"),
        "between 1 and 10",
        submit="button.primary[value=next]",
    )

    # The invite dialog: a name that is nobody.
    admin.goto(f"{live_server.url}/projects/sock-shop/members/")
    refused_in_dialog(
        admin, "#invite-member", lambda d: d.locator("#id_username").fill("nobody-here"), "", submit="button.primary"
    )
    assert not [text for text in said if "Content Security Policy" in text], said


def refused_host_in_the_wizard(page, base_url: str) -> None:
    """The route wizard, given a host that is not a host: it stays on the rules step with the error
    on the host's field."""
    page.goto(f"{base_url}/projects/sock-shop/routes/new/")
    page.fill("#id_name", "bad-host")
    next_step(page)
    refreshed(page, lambda: page.check("input[name=rule-0-host_mode][value=custom]"))
    page.fill("input[name=rule-0-host]", "Not A Host")
    refreshed(page, lambda: page.select_option("select[name=rule-0-path-0-service]", "front-end"))
    next_step(page)
    expect(page.locator("#route-wizard .field-error").first).to_contain_text("host")
    expect(page.locator(".steps li.current")).to_have_text("Rules")


def room_of_the_rules_editor(editor) -> dict[str, float]:
    """The widths of the first rule's path-type and port selects and of its host-mode radios."""
    return {
        "path type": editor.locator("select[name=rule-0-path-0-path_type]").bounding_box()["width"],
        "port": editor.locator("select[name=rule-0-path-0-port]").bounding_box()["width"],
        "host mode": editor.locator(".radios").first.bounding_box()["width"],
        "host mode, one line": -editor.locator(".radios").first.bounding_box()["height"],
    }


def bad_annotation_key(dialog) -> None:
    dialog.locator("[data-add-row]").click()
    dialog.locator(".key-value-row input[name=annotations-key]").last.fill("not a key!")
    dialog.locator(".key-value-row input[name=annotations-value]").last.fill("x")


def too_long_description(dialog) -> None:
    """A description past its limit, as a client that ignores the field's maxlength sends it."""
    field = dialog.locator("#id_description")
    field.evaluate("element => element.removeAttribute('maxlength')")
    field.fill("x" * 1025)


def refused_in_dialog(
    page, opener: str, bad_value, error: str, submit: str = "button.primary[value=save]", also=None
) -> None:
    """Opens a dialog, enters a bad value, submits, and finds the error on its field, the page
    styled (and whatever `also` checks of the refused dialog), and Cancel closing the dialog."""
    page.click(opener)
    dialog = page.locator("dialog.modal")
    expect(dialog).to_have_count(1)
    bad_value(dialog)
    dialog.locator(submit).click()
    expect(dialog.locator(".field-error").first).to_contain_text(error)
    still_styled(page)
    if also is not None:
        also(dialog)
    dialog.locator("[data-close-modal]").click()
    expect(page.locator("dialog.modal")).to_have_count(0)
