"""The annotation policy at every door a tenant can send annotations through: the route API
(create and edit), the route wizard, Edit annotations, Edit YAML, and the gateway's Service
annotations (API and wizard). For every bad annotation of tests/test_annotation_policy.py: 400 with
the message on the field, no row written or changed, no task queued, no write to the API server."""

import pytest
import yaml

from console import cluster
from gateways.models import Gateway
from routes import services as route_services
from routes.models import Route
from tests.conftest import api_as, backend_service, browser_as
from tests.test_annotation_policy import BAD_VALUES, FLAVORS, NEVER

pytestmark = pytest.mark.cluster

HTMX = {"HTTP_HX_REQUEST": "true"}
FORBIDDEN = ["\n", "\r", "{", "}", ";", "'", '"', "#", "$", "\\"]
RESERVED = [
    "kubernetes.io/ingress.class",
    "k8s.io/anything",
    "kubeconsole.io/owner",
    "service.kubernetes.io/topology-mode",
]
# Keys under prefixes nobody allowed, and the key that would publish DNS for another tenant's host.
NOT_ALLOWED = [
    ("external-dns.alpha.kubernetes.io/hostname", "victim.example.com", "never allowed"),
    ("acme.example/x", "y", "ask a platform admin"),
    ("cert-manager.io/cluster-issuer", "letsencrypt", "ask a platform admin"),
]

# (flavor, key, value, what the message says)
CASES = (
    [(flavor, key, value, "never allowed") for flavor, key, value in NEVER]
    + [(flavor, key, value, message) for flavor, key, value, message in BAD_VALUES]
    + [(flavor, "example.com/note", f"a{char}b", "never allowed") for flavor in FLAVORS for char in FORBIDDEN]
    + [(flavor, key, "x", "reserved") for flavor in FLAVORS for key in RESERVED]
    + [(flavor, key, value, message) for flavor in FLAVORS for key, value, message in NOT_ALLOWED]
    + [
        ("ingress-nginx", "nginx.ingress.kubernetes.io/limit-rps", "other-ns/thing", "another namespace"),
        ("nginx-inc", "nginx.org/grpc-services", "other-ns/greeter", "another namespace"),
    ]
)
RULE = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}


@pytest.fixture
def shop(project_with_gateway):
    cluster.apply(backend_service(project_with_gateway.namespace, "front-end"))
    route_services.create_route(project_with_gateway, {"name": "front-end", "rules": [RULE]})
    return project_with_gateway


def snapshot(shop) -> tuple:
    route = Route.objects.get(project=shop, name="front-end")
    gateway = Gateway.objects.get(project=shop)
    return (
        Route.objects.count(),
        route.generation,
        route.annotations,
        gateway.generation,
        gateway.service_annotations,
    )


def check_every_case(shop, cluster_calls, capture, send, reads: bool = True):
    """Runs `send(key, value)` for every case; returns what went wrong, one line each. A route's door
    reads the facts its check needs (and a page its pickers' choices), never writes; the gateway's
    API door (`reads` False) makes no call to the API server at all."""
    wrong = []
    for flavor, key, value, message in CASES:
        Gateway.objects.filter(project=shop).update(flavor=flavor)
        before = snapshot(shop)
        with capture() as queued:
            status, errors = send(key, value)
        problems = []
        if status != 400:
            problems.append(f"answered {status}")
        if message not in errors:
            problems.append(f"field error {errors[:120]!r} lacks {message!r}")
        if snapshot(shop) != before:
            problems.append("changed a row")
        if queued:
            problems.append("queued a task")
        made = [call for call in cluster_calls if call[0] != "GET"] if reads else list(cluster_calls)
        if made:
            problems.append(f"called the API server: {made}")
        cluster_calls.clear()
        if problems:
            wrong.append(f"{flavor} {key}={value!r}: {'; '.join(problems)}")
    return wrong


@pytest.fixture
def olga(django_user_model):
    return django_user_model.objects.get(username="olga")


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.get(username="alice")


def test_route_api_create(shop, olga, cluster_calls, django_capture_on_commit_callbacks):
    client = api_as(olga)

    def send(key, value):
        body = {"name": "back-end", "rules": [RULE], "annotations": {key: value}}
        response = client.post(f"/api/v1/projects/{shop.name}/routes/", body, format="json")
        return response.status_code, " ".join(response.json().get("annotations", []))

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_route_api_edit(shop, olga, cluster_calls, django_capture_on_commit_callbacks):
    client = api_as(olga)

    def send(key, value):
        url = f"/api/v1/projects/{shop.name}/routes/front-end/"
        response = client.patch(url, {"annotations": {key: value}}, format="json")
        return response.status_code, " ".join(response.json().get("annotations", []))

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_route_wizard(shop, olga, cluster_calls, django_capture_on_commit_callbacks):
    client = browser_as(olga)

    def send(key, value):
        data = {"step": 2, "action": "create", "name": "back-end", "alias": "", "description": ""}
        data.update({"rule-0-host_mode": "custom", "rule-0-host": "wizard.example.com", "rule-0-protocol": "http"})
        data.update({"rule-0-tls_secret": "", "rule-0-path-0-path": "/", "rule-0-path-0-path_type": "Prefix"})
        data.update({"rule-0-path-0-service": "front-end", "rule-0-path-0-port": "80"})
        data.update({"annotations-key": [key], "annotations-value": [value], "labels-key": [""], "labels-value": [""]})
        response = client.post(f"/projects/{shop.name}/routes/new/", data, **HTMX)
        advanced = response.context["advanced"] if response.context else None
        return response.status_code, " ".join(advanced.errors.get("annotations", [])) if advanced else ""

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_edit_annotations_dialog(shop, olga, cluster_calls, django_capture_on_commit_callbacks):
    client = browser_as(olga)

    def send(key, value):
        url = f"/projects/{shop.name}/routes/front-end/edit-annotations/"
        response = client.post(url, {"annotations-key": [key], "annotations-value": [value]}, **HTMX)
        form = response.context["form"] if response.context else None
        return response.status_code, " ".join(form.errors.get("annotations", [])) if form else ""

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_edit_yaml(shop, olga, cluster_calls, django_capture_on_commit_callbacks):
    client = browser_as(olga)
    url = f"/projects/{shop.name}/routes/front-end/edit-yaml/"

    def send(key, value):
        manifest = yaml.safe_load(client.get(url, **HTMX).context["form"].initial["manifest"])
        manifest["metadata"].setdefault("annotations", {})[key] = value
        response = client.post(url, {"manifest": yaml.safe_dump(manifest)}, **HTMX)
        form = response.context["form"] if response.context else None
        return response.status_code, " ".join(form.errors.get("manifest", [])) if form else ""

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_gateway_api_service_annotations(shop, alice, cluster_calls, django_capture_on_commit_callbacks):
    client = api_as(alice)

    def send(key, value):
        flavor = Gateway.objects.get(project=shop).flavor
        body = {"flavor": flavor, "service_annotations": {key: value}}
        response = client.put(f"/api/v1/projects/{shop.name}/gateway/", body, format="json")
        return response.status_code, " ".join(response.json().get("service_annotations", []))

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send, reads=False) == []


def test_gateway_wizard_service_annotations(shop, alice, cluster_calls, django_capture_on_commit_callbacks):
    client = browser_as(alice)

    def send(key, value):
        gateway = Gateway.objects.get(project=shop)
        data = {"step": 2, "action": "next", "access_mode": gateway.access_mode, "flavor": gateway.flavor}
        data.update({"replicas": gateway.replicas, "default_domain": "", "external_address": ""})
        data.update({"service_annotations-key": [key], "service_annotations-value": [value]})
        data.update({"config-key": [""], "config-value": [""]})
        response = client.post(f"/projects/{shop.name}/gateway/wizard/", data, **HTMX)
        form = response.context["form"] if response.context else None
        return response.status_code, " ".join(form.errors.get("service_annotations", [])) if form else ""

    assert check_every_case(shop, cluster_calls, django_capture_on_commit_callbacks, send) == []


def test_a_shipped_cloud_load_balancer_key_passes_on_the_gateway_and_is_refused_on_a_route(
    shop, alice, olga, shipped_allowances, cluster_calls, django_capture_on_commit_callbacks
):
    key = "service.beta.kubernetes.io/aws-load-balancer-internal"
    response = api_as(alice).put(
        f"/api/v1/projects/{shop.name}/gateway/", {"service_annotations": {key: "true"}}, format="json"
    )
    assert response.status_code == 202, response.json()
    assert Gateway.objects.get(project=shop).service_annotations == {key: "true"}

    before = snapshot(shop)
    with django_capture_on_commit_callbacks() as queued:
        body = {"name": "back-end", "rules": [RULE], "annotations": {key: "true"}}
        response = api_as(olga).post(f"/api/v1/projects/{shop.name}/routes/", body, format="json")
    assert response.status_code == 400
    assert "reserved for Kubernetes" in " ".join(response.json()["annotations"])
    assert (snapshot(shop), queued, [call for call in cluster_calls if call[0] != "GET"]) == (before, [], [])
