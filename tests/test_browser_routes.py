"""The product's main journey in a real Chromium: an operator creates routes through the wizard,
edits and deletes them, and Click to visit opens the right address."""

import pytest
from playwright.sync_api import expect

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import services as route_services
from routes.models import Route
from tenants import services as tenant_services
from tenants.models import Project, ProjectMembership
from tests.conftest import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL_FLAVORS,
    backend_service,
    log_in,
    run_demo_backends,
    skip_unless_the_node_runs,
    tls_secret_manifest,
    wait_for,
)
from tests.gateway_client import served

pytestmark = pytest.mark.cluster


@pytest.fixture
def sock_shop(live_cluster, demo_passwords):
    """sock-shop Ready, with Services front-end and catalogue, a TLS secret, a NodePort gateway
    whose node ports are known, and project-regular as its operator."""
    wait_for(lambda: Project.objects.get(name="sock-shop").state == "Ready", what="sock-shop to be Ready")
    project = Project.objects.get(name="sock-shop")
    admin = ProjectMembership.objects.get(project=project, role="admin").user
    tenant_services.add_project_member(project, username="project-regular", role="operator", by=admin)
    cluster.apply(backend_service("sock-shop", "front-end"))
    cluster.apply(backend_service("sock-shop", "catalogue"))
    cluster.apply(tls_secret_manifest("sock-shop", "shop-tls", ["shop.example.com"]))
    gateway = gateway_services.configure_gateway(project, access_mode="NodePort")
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).node_ports, what="the gateway's node ports")
    return project


def refreshed(page, change):
    """Makes a change that re-renders the rules editor, and waits until the new one is shown."""
    with page.expect_response(lambda response: "/routes/" in response.url and response.request.method == "POST"):
        change()
    page.wait_for_timeout(100)  # let htmx swap the answer in


def next_step(page):
    page.locator("#route-wizard button.primary[value=next]").click()


def test_operator_creates_edits_and_deletes_routes_through_the_wizard(
    sock_shop, live_server, browser, demo_passwords, node_address
):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, live_server.url, "project-regular", demo_passwords["project-regular"])
    page.goto(f"{live_server.url}/projects/sock-shop/routes/")
    page.click("#create-route")

    # Route 1: Auto Generate.
    page.fill("#id_name", "front-end")
    next_step(page)
    expect(page.locator(".steps li.current")).to_have_text("Rules")
    refreshed(page, lambda: page.select_option("select[name=rule-0-path-0-service]", "front-end"))
    expect(page.locator("[data-generated-host]")).to_have_text(f"front-end.sock-shop.{node_address}.nip.io")
    expect(page.locator("select[name=rule-0-path-0-port]")).to_have_value("80")
    page.screenshot(path=ARTIFACTS / "route-wizard-rules.png", full_page=True)
    next_step(page)
    expect(page.locator(".steps li.current")).to_have_text("Advanced")
    page.locator("#route-wizard button.primary[value=create]").click()
    expect(page.locator("h1")).to_have_text("front-end")

    # Route 2: Specify Domain, https, the secret picker.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/new/")
    page.fill("#id_name", "secure-shop")
    next_step(page)
    refreshed(page, lambda: page.check("input[name=rule-0-host_mode][value=custom]"))
    expect(page.locator("input[name=rule-0-host]")).to_be_visible()
    page.fill("input[name=rule-0-host]", "shop.example.com")
    refreshed(page, lambda: page.select_option("select[name=rule-0-protocol]", "https"))
    secret = page.locator("select[name=rule-0-tls_secret]")
    expect(secret).to_be_visible()
    expect(secret.locator("option[value=shop-tls]")).to_contain_text("shop.example.com")
    refreshed(page, lambda: secret.select_option("shop-tls"))
    refreshed(page, lambda: page.select_option("select[name=rule-0-path-0-service]", "front-end"))
    expect(page.locator("select[name=rule-0-path-0-port]")).to_have_value("80")
    expect(page.locator("[data-secret-warning]")).to_have_count(0)
    next_step(page)
    page.locator("#route-wizard button.primary[value=create]").click()
    expect(page.locator("h1")).to_have_text("secure-shop")

    page.goto(f"{live_server.url}/projects/sock-shop/routes/")
    expect(page.locator("[data-route=front-end]")).to_contain_text(f"front-end.sock-shop.{node_address}.nip.io")
    expect(page.locator("[data-route=secure-shop]")).to_contain_text("shop.example.com")

    # Edit the first route's rules: add /catalogue.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/front-end/")
    page.click("#edit-rules")
    dialog = page.locator("dialog.modal")
    dialog.locator("button[value=add-path-0]").click()
    dialog.locator("input[name=rule-0-path-1-path]").fill("/catalogue")
    refreshed(page, lambda: dialog.locator("select[name=rule-0-path-1-service]").select_option("catalogue"))
    expect(dialog.locator("select[name=rule-0-path-1-port]")).to_have_value("80")
    dialog.locator("button.primary[value=save]").click()
    expect(page.locator("#route-rules")).to_contain_text("/catalogue")
    # New rules rows, and the worker derives their host again: the page polls until it shows it.
    generated = f"front-end.sock-shop.{node_address}.nip.io"
    expect(page.locator(f'#route-rules tr[data-rule-path="{generated}/catalogue"]')).to_contain_text(generated)

    # Edit annotations.
    page.click("#edit-annotations")
    dialog = page.locator("dialog.modal")
    dialog.locator("[data-add-row]").click()
    dialog.locator("input[name=annotations-key]").last.fill("nginx.org/proxy-read-timeout")
    dialog.locator("input[name=annotations-value]").last.fill("120s")
    dialog.locator("button.primary[value=save]").click()
    expect(page.locator("#route-status")).to_contain_text("nginx.org/proxy-read-timeout: 120s")
    wait_for(lambda: Route.objects.get(name="front-end").in_sync, what="the edits to be applied")
    page.reload()
    page.screenshot(path=ARTIFACTS / "route-detail.png", full_page=True)

    # Delete the second by typing its name.
    page.goto(f"{live_server.url}/projects/sock-shop/routes/secure-shop/")
    page.click("#delete-route")
    dialog = page.locator("dialog.modal")
    dialog.locator("#id_name").fill("secure-shop")
    dialog.locator("button[value=save].danger").click()
    expect(page.locator("h1")).to_have_text("Routes")
    wait_for(lambda: not Route.objects.filter(name="secure-shop").exists(), what="the route to be deleted")
    assert cluster.get("networking.k8s.io/v1", "Ingress", "secure-shop", "sock-shop") is None
    ingress = cluster.get("networking.k8s.io/v1", "Ingress", "front-end", "sock-shop")
    assert [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]] == ["/", "/catalogue"]
    assert ingress["metadata"]["annotations"]["nginx.org/proxy-read-timeout"] == "120s"


@pytest.mark.parametrize("flavor", list(LOCAL_FLAVORS))
def test_click_to_visit_opens_the_front_end_pods_answer(
    node, control_plane, sock_shop, live_server, playwright, demo_passwords, flavor
):
    """The walk-through's promise, for real: a gateway's controller in a pod (Traefik, and the F5
    NGINX Ingress Controller), the demo backend's pods behind front-end and catalogue, and Click to
    visit in Chromium."""
    skip_unless_the_node_runs(control_plane, flavor)
    run_demo_backends(control_plane, "sock-shop")
    gateway_services.configure_gateway(Project.objects.get(name="sock-shop"), flavor=flavor)
    wait_for(lambda: Gateway.objects.get(project=sock_shop).state == "Ready", timeout=90, what="the gateway")
    body = {
        "name": "front-end",
        "rules": [
            {
                "host_mode": "auto",
                "paths": [
                    {"path": "/", "service": "front-end", "port": 80},
                    {"path": "/catalogue", "service": "catalogue", "port": 80},
                ],
            }
        ],
    }
    route_services.create_route(sock_shop, body)
    route = wait_for(lambda: (r := Route.objects.get(name="front-end")).state == "Ready" and r, what="the route")
    node_port = Gateway.objects.get(project=sock_shop).node_ports["http"]
    host = f"front-end.sock-shop.{node['NODE_IP']}.nip.io"
    assert [entry["url"] for entry in route.urls] == [
        f"http://{host}:{node_port}/",
        f"http://{host}:{node_port}/catalogue",
    ]
    # A controller takes up a new route a moment later: the first click is made once it serves this one.
    wait_for(lambda: served(node["NODE_IP"], node_port, host, "/catalogue"), what="the controller to serve the route")

    # This browser resolves nip.io names as DNS would: to the address written in them, the node's.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP *.nip.io {node['NODE_IP']}"]
    )
    try:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, live_server.url, "project-regular", demo_passwords["project-regular"])
        page.goto(f"{live_server.url}/projects/sock-shop/routes/front-end/")
        for path, service in (("/", "front-end"), ("/catalogue", "catalogue")):
            with context.expect_page() as opened:
                page.locator(f'[data-rule-path="{host}{path}"] a.visit-link').click()
            visited = opened.value
            visited.wait_for_load_state()
            assert visited.url == f"http://{host}:{node_port}{path}"
            expect(visited.locator("h1")).to_have_text(service)
            expect(visited.locator("p")).to_contain_text(f"Pod {service}-")
            if service == "front-end":
                visited.screenshot(path=ARTIFACTS / f"click-to-visit-{flavor}.png")
            visited.close()
    finally:
        browser.close()


def rule_paths(name: str) -> list[str]:
    return [path.path for path in Route.objects.get(name=name).rules.get().paths.all()]


def test_two_people_editing_one_route_lose_nothing_of_each_others_work(sock_shop, live_server, browser, demo_passwords):
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(sock_shop, {"name": "front-end", "rules": [rule]})
    pages = {}
    for username in ("project-regular", "project-admin"):
        pages[username] = page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        log_in(page, live_server.url, username, demo_passwords[username])
        page.goto(f"{live_server.url}/projects/sock-shop/routes/front-end/")
        page.click("#edit-rules")
        expect(page.locator("dialog.modal")).to_be_visible()
    first, second = pages["project-regular"], pages["project-admin"]

    # The first adds /catalogue and saves.
    dialog = first.locator("dialog.modal")
    dialog.locator("button[value=add-path-0]").click()
    dialog.locator("input[name=rule-0-path-1-path]").fill("/catalogue")
    refreshed(first, lambda: dialog.locator("select[name=rule-0-path-1-service]").select_option("catalogue"))
    dialog.locator("button.primary[value=save]").click()
    expect(first.locator("#route-rules")).to_contain_text("/catalogue")

    # The second, still looking at the version without it, renames / and saves: refused, with the
    # current version in front of them, and the first one's path kept.
    dialog = second.locator("dialog.modal")
    dialog.locator("input[name=rule-0-path-0-path]").fill("/shop")
    dialog.locator("button.primary[value=save]").click()
    expect(dialog.locator("[data-problems]")).to_contain_text("Someone else changed this route")
    expect(dialog.locator("input[name=rule-0-path-1-path]")).to_have_value("/catalogue")
    expect(dialog.locator("input[name=rule-0-path-0-path]")).to_have_value("/")
    second.screenshot(path=ARTIFACTS / "route-edit-conflict.png", full_page=True)
    assert rule_paths("front-end") == ["/", "/catalogue"]

    # Made again on the current version, the change goes through and both stand.
    dialog.locator("input[name=rule-0-path-0-path]").fill("/shop")
    dialog.locator("button.primary[value=save]").click()
    expect(second.locator("#route-rules")).to_contain_text("/shop")
    assert rule_paths("front-end") == ["/shop", "/catalogue"]

    # Edit YAML opened before someone else's rule change does not revert it.
    first.reload()
    first.click("#edit-yaml")
    yaml_box = first.locator("dialog.modal textarea[name=manifest]")
    expect(yaml_box).to_contain_text("/catalogue")
    second.reload()
    second.click("#edit-rules")
    dialog = second.locator("dialog.modal")
    dialog.locator("button[value=remove-path-0-1]").click()
    expect(dialog.locator("input[name=rule-0-path-1-path]")).to_have_count(0)
    dialog.locator("button.primary[value=save]").click()
    expect(second.locator("#route-rules")).not_to_contain_text("/catalogue")
    yaml_box.fill(yaml_box.input_value().replace("shop.example.com", "store.example.com"))
    first.locator("dialog.modal button.primary[value=save]").click()
    expect(first.locator("dialog.modal [data-problems]")).to_contain_text("Someone else changed this route")
    expect(yaml_box).not_to_contain_text("/catalogue")
    route = Route.objects.get(name="front-end")
    assert (rule_paths("front-end"), route.rules.get().host) == (["/shop"], "shop.example.com")
