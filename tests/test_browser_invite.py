"""The invite journey in a real Chromium: a project admin invites a workspace member into
sock-shop through the Invite Member modal, and that member then sees the project."""

import re

import pytest
from playwright.sync_api import expect

from tenants.models import ProjectMembership
from tests.conftest import ARTIFACTS, log_in

pytestmark = pytest.mark.cluster


def test_project_admin_invites_a_workspace_member_who_then_sees_the_project(
    live_cluster, live_server, browser, demo_passwords
):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server.url, "project-admin", demo_passwords["project-admin"])

    page.click("text=workspace-demo")
    page.click("a:has-text('sock-shop')")
    page.click(".sidebar >> text=Members")
    expect(page.locator("h1")).to_have_text("Members")
    expect(page.locator('[data-member="project-regular"]')).to_have_count(0)

    page.click("#invite-member")
    dialog = page.locator("dialog.modal")
    expect(dialog).to_be_visible()
    page.fill("#member-search", "project-reg")
    candidate = dialog.locator('[data-pick="project-regular"]')
    expect(candidate).to_be_visible()
    candidate.click()
    expect(page.locator("#id_username")).to_have_value("project-regular")
    page.select_option("#id_role", "operator")
    page.screenshot(path=ARTIFACTS / "invite-member-modal.png")
    dialog.locator("button[type=submit]").click()

    expect(dialog).to_have_count(0)
    row = page.locator('[data-member="project-regular"]')
    expect(row).to_be_visible()
    expect(row.locator("select")).to_have_value("operator")
    expect(page.locator("#membership-log")).to_contain_text(re.compile(r"added\s+project-regular\s+as operator"))
    page.screenshot(path=ARTIFACTS / "members-after-invite.png")
    assert ProjectMembership.objects.get(project__name="sock-shop", user__username="project-regular").role == "operator"
    context.close()

    context = browser.new_context()
    page = context.new_page()
    log_in(page, live_server.url, "project-regular", demo_passwords["project-regular"])
    page.click(".topnav >> text=Projects")
    page.click("a:has-text('sock-shop')")
    expect(page.locator("h1")).to_have_text("Sock Shop")
    expect(page.locator("#project-status .status")).to_have_text("Ready", timeout=30_000)
    context.close()
