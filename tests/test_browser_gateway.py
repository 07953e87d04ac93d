"""Enabling a gateway in a real Chromium: the project admin walks the wizard and sees the node
ports the API server allocated on the status card."""

import pytest
from playwright.sync_api import expect

from console import cluster
from gateways import render
from tests.conftest import ARTIFACTS, log_in, wait_for

pytestmark = pytest.mark.cluster


def test_project_admin_enables_a_nodeport_gateway_through_the_wizard(
    node_address, live_cluster, live_server, browser, demo_passwords
):
    from tenants.models import Project

    wait_for(lambda: Project.objects.get(name="sock-shop").state == "Ready", what="sock-shop to be Ready")
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_context().new_page()
    log_in(page, live_server.url, "project-admin", demo_passwords["project-admin"])
    page.goto(f"{live_server.url}/projects/sock-shop/gateway/")
    expect(page.locator("#gateway-status h2")).to_have_text("Gateway not enabled")

    page.click("#enable-gateway")
    wizard = page.locator("dialog.modal")
    expect(wizard.locator("#wizard-title")).to_have_text("Enable Gateway")
    page.check("input[name=access_mode][value=NodePort]")
    page.check("input[name=flavor][value=nginx-inc]")
    page.fill("#id_replicas", "12")
    wizard.locator("button[value=next]").click()
    expect(wizard.locator(".field-error")).to_contain_text("between 1 and 10")
    page.fill("#id_replicas", "2")
    wizard.locator("button[value=next]").click()

    expect(wizard.locator(".steps li.current")).to_have_text("Controller")
    wizard.locator("[data-key-values=config] [data-add-row]").click()
    page.locator("[data-key-values=config] input[name=config-key]").last.fill("read-timeout")
    page.locator("[data-key-values=config] input[name=config-value]").last.fill("120")
    page.screenshot(path=ARTIFACTS / "gateway-wizard-controller.png")
    wizard.locator("button[value=next]").click()

    expect(wizard.locator(".steps li.current")).to_have_text("Addresses")
    wizard.locator("button[value=save]").click()

    expect(page.locator("[data-fact=access-mode]")).to_have_text("NodePort")
    service = wait_for(
        lambda: cluster.get("v1", "Service", render.NAME, "sock-shop"), what="the gateway Service in the cluster"
    )
    ports = {port["name"]: port["nodePort"] for port in service["spec"]["ports"]}
    expect(page.locator("[data-fact=node-ports]")).to_have_text(f"http {ports['http']}, https {ports['https']}")
    expect(page.locator("[data-fact=replicas]")).to_have_text("0 of 2 ready")
    expect(page.locator("[data-fact=addresses]")).to_have_text(node_address)
    page.screenshot(path=ARTIFACTS / "gateway-status.png", full_page=True)
