"""Gateway input through the API and the wizard: a clear error on the field and nothing
written for bad input; only project admins may enable, edit or disable."""

import html
import json
import os
import re
import tempfile

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from gateways import services
from gateways.models import Gateway
from tenants import permissions as perms
from tenants import services as tenant_services
from tenants.models import Project
from tests.conftest import PASSWORD, password_login, wait_for

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop(make_user, platform_admin, workspace):
    """Project shop: alice admin, olga operator, vera viewer; project hidden in another workspace."""
    for name in ("alice", "olga", "vera"):
        make_user(name)
        tenant_services.add_workspace_member(workspace, username=name, role=perms.WORKSPACE_REGULAR, by=platform_admin)
    alice = get_user_model().objects.get(username="alice")
    project = tenant_services.create_project(workspace=workspace, name="shop", by=alice)
    tenant_services.add_project_member(project, username="olga", role="operator", by=alice)
    tenant_services.add_project_member(project, username="vera", role="viewer", by=alice)
    bob = make_user("bob")
    other = tenant_services.create_workspace(name="ws-b", admin=bob, by=platform_admin)
    tenant_services.create_project(workspace=other, name="hidden", by=bob)
    return project


def api_as(username) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def logged_in(username) -> Client:
    client = Client()
    assert password_login(client, username, PASSWORD)
    return client


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"replicas": 0}, "replicas", "between 1 and 10"),
        ({"replicas": 11}, "replicas", "between 1 and 10"),
        ({"flavor": "haproxy"}, "flavor", "not a valid choice"),
        ({"access_mode": "ClusterIP"}, "access_mode", "not a valid choice"),
        ({"service_annotations": {"bad key!": "x"}}, "service_annotations", "not a valid key"),
        ({"service_annotations": {"example.com/": "x"}}, "service_annotations", "not a valid key"),
        ({"service_annotations": {"a" * 64: "x"}}, "service_annotations", "at most 63 characters"),
        ({"service_annotations": {"cloud/lb": "x" * 5000}}, "service_annotations", "at most 4096"),
        ({"config": {"worker-processes": "4"}}, "config", "not a setting the console allows"),
        ({"config": {"read-timeout": "0"}}, "config", "from 1 to 3600"),
        ({"config": {"read-timeout": "soon"}}, "config", "from 1 to 3600"),
        ({"config": {"body-size": "10g;"}}, "config", "not a body size"),
        ({"flavor": "traefik", "config": {"body-size": "10m"}}, "config", "Traefik does not support"),
        ({"route_api": "gateway-api"}, "route_api", "does not implement the Gateway API"),  # nginx-inc
        ({"flavor": "ingress-nginx", "route_api": "gateway-api"}, "route_api", "choose Traefik"),
        ({"flavor": "traefik", "route_api": "httproute"}, "route_api", "not a valid choice"),
        ({"default_domain": "Example.COM"}, "default_domain", "lowercase"),
        ({"default_domain": "a..b"}, "default_domain", "empty part"),
        ({"external_address": "10.0.0.1:80"}, "external_address", "not valid"),
    ],
)
def test_bad_gateway_settings_are_refused_on_the_field_and_nothing_is_written(
    shop, django_capture_on_commit_callbacks, body, field, message
):
    with django_capture_on_commit_callbacks() as queued:
        response = api_as("alice").put("/api/v1/projects/shop/gateway/", body, format="json")
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()[field])
    assert not Gateway.objects.exists()
    assert queued == []


def test_project_admin_enables_through_the_api(shop, shipped_allowances, django_capture_on_commit_callbacks):
    body = {
        "access_mode": "LoadBalancer",
        "replicas": 2,
        "service_annotations": {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
        "config": {"read-timeout": "120"},
        "default_domain": "apps.example.com",
    }
    with django_capture_on_commit_callbacks() as queued:
        response = api_as("alice").put("/api/v1/projects/shop/gateway/", body, format="json")
    assert response.status_code == 202
    assert len(queued) == 1
    gateway = Gateway.objects.get(project=shop)
    assert (gateway.access_mode, gateway.replicas, gateway.flavor, gateway.enabled) == (
        "LoadBalancer",
        2,
        "nginx-inc",
        True,
    )
    assert response.json()["status"]["ingress_class"] == "kubeconsole-shop"


@pytest.mark.parametrize("username", ["olga", "vera"])
def test_operators_and_viewers_cannot_enable_edit_or_disable(shop, username, django_capture_on_commit_callbacks):
    services.configure_gateway(shop)
    client = api_as(username)
    with django_capture_on_commit_callbacks() as queued:
        assert client.put("/api/v1/projects/shop/gateway/", {"replicas": 3}, format="json").status_code == 403
        assert client.delete("/api/v1/projects/shop/gateway/").status_code == 403
    assert queued == []
    assert client.get("/api/v1/projects/shop/gateway/").status_code == 200
    gateway = Gateway.objects.get(project=shop)
    assert (gateway.replicas, gateway.enabled) == (1, True)

    page = logged_in(username).get("/projects/shop/gateway/").content.decode()
    assert "kubeconsole-shop" in page
    assert 'id="edit-gateway"' not in page and 'id="disable-gateway"' not in page
    web = logged_in(username)
    assert web.get("/projects/shop/gateway/wizard/", **HTMX).status_code == 403
    assert web.post("/projects/shop/gateway/disable/").status_code == 403


def test_a_project_of_another_workspace_answers_404(shop):
    client = api_as("alice")
    for method in ("get", "put", "delete"):
        assert getattr(client, method)("/api/v1/projects/hidden/gateway/", {}, format="json").status_code == 404
    assert logged_in("alice").get("/projects/hidden/gateway/").status_code == 404
    assert not Gateway.objects.exists()


def wizard_post(client, step, action="next", **fields):
    data = {
        "step": step,
        "action": action,
        "access_mode": "NodePort",
        "flavor": "nginx-inc",
        "replicas": "1",
        "service_annotations-key": [""],
        "service_annotations-value": [""],
        "config-key": [""],
        "config-value": [""],
        "default_domain": "",
        "external_address": "",
    }
    data.update(fields)
    return client.post("/projects/shop/gateway/wizard/", data, **HTMX)


def test_wizard_validates_each_step_before_the_next(shop):
    alice = logged_in("alice")
    response = alice.get("/projects/shop/gateway/wizard/", **HTMX)
    assert "Enable Gateway" in response.content.decode() and response.context["step"] == 0

    response = wizard_post(alice, 0, replicas="11")
    assert response.status_code == 400 and response.context["step"] == 0
    assert "between 1 and 10" in " ".join(response.context["form"].errors["replicas"])

    response = wizard_post(alice, 0)
    assert response.context["step"] == 1
    response = wizard_post(alice, 1, **{"config-key": ["worker-processes"], "config-value": ["4"]})
    assert response.status_code == 400 and response.context["step"] == 1
    assert "not a setting the console allows" in " ".join(response.context["form"].errors["config"])

    response = wizard_post(alice, 1, **{"service_annotations-key": ["", "x"], "service_annotations-value": ["y", "1"]})
    assert "needs a key" in " ".join(response.context["form"].errors["service_annotations"])

    response = wizard_post(alice, 1, **{"config-key": ["read-timeout"], "config-value": ["60"]})
    assert response.context["step"] == 2
    response = wizard_post(alice, 2, action="back")
    assert response.context["step"] == 1
    response = wizard_post(alice, 2, external_address="not an address")
    assert response.status_code == 400 and response.context["step"] == 2
    assert not Gateway.objects.exists()


def test_wizard_enables_the_gateway_at_the_last_step_and_edits_it_later(shop, shipped_allowances):
    alice = logged_in("alice")
    response = wizard_post(
        alice,
        2,
        action="save",
        flavor="traefik",
        tracing="on",
        **{
            "config-key": ["read-timeout"],
            "config-value": ["60"],
            "service_annotations-key": ["service.beta.kubernetes.io/aws-load-balancer-internal"],
            "service_annotations-value": ["true"],
        },
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/projects/shop/gateway/"
    gateway = Gateway.objects.get(project=shop)
    assert (gateway.config, gateway.service_annotations, gateway.tracing) == (
        {"read-timeout": "60"},
        {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
        True,
    )

    edit = alice.get("/projects/shop/gateway/wizard/", **HTMX).content.decode()
    assert "Edit Gateway" in edit and 'value="service.beta.kubernetes.io/aws-load-balancer-internal"' in edit
    response = wizard_post(
        alice, 2, action="save", flavor="traefik", tracing="on", access_mode="LoadBalancer", replicas="3"
    )
    assert response.status_code == 204
    gateway.refresh_from_db()
    assert (gateway.access_mode, gateway.replicas, gateway.generation) == ("LoadBalancer", 3, 2)


def test_tracing_is_refused_on_the_tracing_field_for_a_flavor_that_cannot_trace(shop):
    """The NGINX the nginx-inc image runs has no OpenTelemetry module: the wizard and the API say so
    on the tracing field, and nothing is written."""
    response = wizard_post(logged_in("alice"), 2, action="save", flavor="nginx-inc", tracing="on")
    assert response.status_code == 400 and response.context["step"] == 1
    assert "NGINX needs its OpenTelemetry module" in " ".join(response.context["form"].errors["tracing"])
    answer = api_as("alice").put(
        "/api/v1/projects/shop/gateway/", {"flavor": "nginx-inc", "tracing": True}, format="json"
    )
    assert answer.status_code == 400, answer.content
    assert "NGINX needs its OpenTelemetry module" in answer.json()["tracing"][0]
    assert not Gateway.objects.exists()


def test_gateway_page_offers_enable_to_admins_and_disable_warns(shop):
    page = logged_in("alice").get("/projects/shop/gateway/").content.decode()
    assert "Gateway not enabled" in page and 'id="enable-gateway"' in page
    assert 'id="enable-gateway"' not in logged_in("olga").get("/projects/shop/gateway/").content.decode()

    services.configure_gateway(shop)
    modal = logged_in("alice").get("/projects/shop/gateway/disable/", **HTMX).content.decode()
    assert "This removes the ingress controller" in modal
    response = logged_in("alice").post("/projects/shop/gateway/disable/", **HTMX)
    assert response.status_code == 204
    assert Gateway.objects.get(project=shop).enabled is False


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"step": "x"}, "Enter a whole number"),
        ({"step": "3"}, "no step 4"),
        ({"action": "enable-everything"}, "not something this form can do"),
        ({"generation": "-2"}, "greater than or equal to 0"),
    ],
)
def test_a_crafted_gateway_wizard_state_re_shows_the_wizard_with_an_error(shop, fields, message):
    response = logged_in("alice").post(
        "/projects/shop/gateway/wizard/", {"step": 2, "action": "save", **fields}, **HTMX
    )
    assert response.status_code == 400
    assert message in " ".join(response.context["problems"])
    assert not Gateway.objects.exists()


def test_a_wizard_saved_from_a_gateway_that_is_gone_is_refused_and_shows_the_empty_form(shop):
    data = {"step": 2, "action": "save", "generation": 4, "access_mode": "NodePort", "flavor": "nginx-inc"}
    data.update({"replicas": "1", "default_domain": "", "external_address": ""})
    response = logged_in("alice").post("/projects/shop/gateway/wizard/", data, **HTMX)
    assert response.status_code == 409 and response.context["generation"] == 0
    assert not Gateway.objects.exists()


def test_the_gateway_page_refreshes_its_status_until_the_gateway_is_settled(shop):
    """A newcomer's gateway said 'Pending, 0 of 1 ready' for 40 s after it was Ready: the page
    stopped refreshing once the change was applied, not once the gateway was ready."""
    gateway = services.configure_gateway(shop)
    vera = logged_in("vera")

    def polls() -> bool:
        return 'hx-trigger="every 2s"' in vera.get("/projects/shop/gateway/", **HTMX).content.decode()

    assert polls()  # the change is not applied yet
    pending = {"type": "Ready", "status": "False", "reason": "Pending", "message": "0 of 1 ready."}
    Gateway.objects.filter(pk=gateway.pk).update(observed_generation=gateway.generation, conditions=[pending])
    assert polls()  # applied, but its controller is not ready yet
    ready = {**pending, "status": "True", "reason": "Ready", "message": "1 of 1 ready."}
    Gateway.objects.filter(pk=gateway.pk).update(conditions=[ready])
    assert not polls()


def flavor_radios(html: str) -> dict[str, tuple[bool, str]]:
    """{flavor: (checked, its label's text)} of the wizard's controller choice."""
    found = re.findall(r'<input type="radio" name="flavor" value="([^"]+)"([^>]*)>\s*([^<]*)</label>', html)
    return {value: ("checked" in attributes, text.strip()) for value, attributes, text in found}


def test_the_wizard_marks_a_controller_whose_image_the_cluster_could_not_get_and_does_not_default_to_it(shop):
    alice = logged_in("alice")
    before = flavor_radios(alice.get("/projects/shop/gateway/wizard/", **HTMX).content.decode())
    assert before["nginx-inc"] == (True, "F5 NGINX Ingress Controller")

    # Another project's gateway is stuck on the nginx-inc image (the worker read the failed pull).
    hidden = Gateway.objects.create(project=Project.objects.get(name="hidden"), flavor="nginx-inc")
    Gateway.record_status(
        hidden.pk, [{"type": "Ready", "status": "False", "reason": "ImageNotAvailable", "message": "x"}]
    )

    page = alice.get("/projects/shop/gateway/wizard/", **HTMX).content.decode()
    after = flavor_radios(page)
    assert after["nginx-inc"] == (False, "F5 NGINX Ingress Controller (its image is not available on this cluster)")
    assert after["traefik"][0], after
    assert "nginx/nginx-ingress:5.5.4, which the cluster&#x27;s nodes could not get" in page


def test_the_tracing_checkbox_is_labelled_beside_it(shop):
    html = logged_in("alice").get("/projects/shop/gateway/wizard/", **HTMX).content.decode()
    found = re.search(
        r'<label class="checkbox-label">(<input type="checkbox" name="tracing"[^>]*>)\s*([^<]+)</label>', html
    )
    assert found and found.group(2).strip() == "Trace requests (OpenTelemetry)"
    assert 'id="id_tracing"' in found.group(1)


@pytest.mark.cluster
def test_the_gateway_page_names_the_crds_its_controller_needs_and_the_cluster_lacks(shop, gateway_api_crds, kubectl):
    """A platform team that installed the chart without crds.install and forgot a CRD: the tenant's
    gateway page says which are missing, what that costs, and who fixes it; once it is back, nothing.
    The CRD taken away is BackendTLSPolicy, which Traefik's Gateway API provider watches and no route
    of the console's uses, and it is put back as it was."""
    services.configure_gateway(shop, flavor="traefik", route_api="gateway-api")
    vera = logged_in("vera")

    def notice() -> str:
        page = vera.get("/projects/shop/gateway/").content.decode()
        found = re.search(r'<p class="warning" data-missing-crds="gateway.networking.k8s.io">(.*?)</p>', page, re.S)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split()) if found else ""

    assert notice() == ""
    name = "backendtlspolicies.gateway.networking.k8s.io"
    crd = json.loads(kubectl("get", "crd", name, "-o", "json"))
    crd["metadata"] = {key: crd["metadata"][key] for key in ("name", "labels", "annotations") if key in crd["metadata"]}
    crd.pop("status", None)
    kubectl("delete", "crd", name, "--wait=true", "--timeout=60s")
    try:
        said = wait_for(notice, timeout=20, what="the page to name the missing CRD")
        assert said.startswith("The Gateway API's CRDs (standard channel) are missing from the cluster")
        assert "(gateway.networking.k8s.io: backendtlspolicies)" in said
        assert "cannot serve its routes through the Gateway API" in said and "crds.install" in said
    finally:
        restored = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        with restored:
            json.dump(crd, restored)
        kubectl("create", "-f", restored.name)
        os.unlink(restored.name)
    wait_for(lambda: notice() == "", timeout=20, what="the notice to go once the CRD is back")


def test_with_a_platform_domain_the_wizard_offers_the_projects_part_of_it_as_the_default_domain(shop, settings):
    settings.CONSOLE_DEFAULT_DOMAIN = "tenants.example.org"
    wizard = logged_in("alice").get("/projects/shop/gateway/wizard/", **HTMX)
    assert wizard.context["form"]["default_domain"].value() == "shop.tenants.example.org"
    settings.CONSOLE_DEFAULT_DOMAIN = ""
    wizard = logged_in("alice").get("/projects/shop/gateway/wizard/", **HTMX)
    assert not wizard.context["form"]["default_domain"].value()


def test_the_wizard_says_which_controllers_refuse_a_setting(shop):
    html = logged_in("alice").get("/projects/shop/gateway/wizard/", **HTMX).content.decode()
    assert "send-timeout: Seconds to wait while sending a request to a backend (1-3600). Not on Traefik." in html
    assert "body-size: Largest request body" in html and "0 means no limit. Not on Traefik." in html
    assert "read-timeout: Seconds to wait for a backend&#x27;s response (1-3600). send-timeout" in html  # all have it
    assert "passes the trace context on to the backend. Not on F5 NGINX Ingress Controller." in html
