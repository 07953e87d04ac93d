"""Weighted backends: a path splitting its requests between up to 3 Services by weight, rendered
as Traefik IngressRoute services and Gateway API backendRefs, entered through the API, the rules
editor and Edit YAML, and refused on the field where the gateway cannot express it. The split
itself is measured through Traefik's pod in tests/test_gateway_e2e.py."""

from dataclasses import replace

import pytest
import yaml
from django.contrib.auth import get_user_model

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import render
from routes.models import HostClaim, Route, RoutePath
from routes.spec import BackendSpec, PathSpec, RouteSpec, RuleSpec
from tests.conftest import api_as, backend_service
from tests.route_pages import HTMX, edit_yaml, logged_in, url
from tests.test_gateway_api_render import API, PORTS
from tests.test_route_render import gateway, route, rule


def split_rule(host="shop.example.com", protocol="http", secret="", port="http") -> RuleSpec:
    """A rule whose one path sends 80% to front-end and 20% to catalogue."""
    path = PathSpec(
        path="/",
        service="front-end",
        port=80,
        weight=80,
        alternates=(BackendSpec(service="catalogue", port=port, weight=20),),
    )
    return replace(rule(host, protocol, secret), paths=(path,))


# The renderers


def test_a_split_path_becomes_weighted_backend_refs_with_named_ports_resolved():
    [http_route] = render.gateway_api_routes(route(split_rule()), gateway(flavor="traefik"), "route-9", PORTS)
    assert http_route["apiVersion"] == API
    assert http_route["spec"]["rules"] == [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [
                {"group": "", "kind": "Service", "name": "front-end", "port": 80, "weight": 80},
                {"group": "", "kind": "Service", "name": "catalogue", "port": 8080, "weight": 20},
            ],
        }
    ]


def test_a_split_grpc_path_becomes_weighted_backend_refs_of_a_grpcroute():
    [grpc_route] = render.gateway_api_routes(
        route(split_rule("api.example.com", "grpc", "api-tls", port=9000)), gateway(flavor="traefik"), "route-9", {}
    )
    assert grpc_route["kind"] == "GRPCRoute"
    assert [(ref["name"], ref["port"], ref["weight"]) for ref in grpc_route["spec"]["rules"][0]["backendRefs"]] == [
        ("front-end", 80, 80),
        ("catalogue", 9000, 20),
    ]


def test_a_split_path_becomes_an_ingress_route_with_weighted_services_and_a_plain_path_stays_unweighted():
    plain = rule("other.example.com")
    first, secure = render.ingress_routes(
        route(plain, split_rule("api.example.com", "grpc", "api-tls", port=9000)), gateway(flavor="traefik"), "route-9"
    )
    assert first["spec"]["routes"][0]["services"] == [{"name": "front-end", "port": 80}]
    assert secure["spec"]["routes"][0]["services"] == [
        {"name": "front-end", "port": 80, "scheme": "h2c", "weight": 80},
        {"name": "catalogue", "port": 9000, "scheme": "h2c", "weight": 20},
    ]


@pytest.mark.cluster
def test_the_api_server_accepts_a_weighted_httproute_unchanged(gateway_api_crds, ready_project):
    traefik = Gateway(pk=1, project=ready_project, flavor="traefik")
    spec = RouteSpec(name="front-end", namespace=ready_project.namespace, rules=(split_rule(),))
    [http_route] = render.gateway_api_routes(spec, traefik, "route-9", PORTS)
    answer = cluster.apply(http_route, dry_run=True)
    assert answer["spec"] == http_route["spec"]


# The API


def path_body(**path) -> dict:
    body = {"path": "/", "service": "front-end", "port": 80, **path}
    return {"name": "front-end", "rules": [{"host": "shop.example.com", "paths": [body]}]}


CATALOGUE = {"service": "catalogue", "port": 8080, "weight": 20}


def on_the_gateway_api(project):
    Gateway.objects.filter(project=project).update(flavor="traefik", route_api="gateway-api")


BAD_SPLITS = [
    ({"weight": 300, "alternate_backends": [CATALOGUE]}, "rules.0.paths.0.weight", "0 to 256"),
    ({"weight": 0}, "rules.0.paths.0.weight", "no requests at all"),
    (
        {"weight": 0, "alternate_backends": [{**CATALOGUE, "weight": 0}]},
        "rules.0.paths.0.weight",
        "Every Service of this path has weight 0",
    ),
    (
        {"alternate_backends": [CATALOGUE, {**CATALOGUE, "service": "b"}, {**CATALOGUE, "service": "c"}]},
        "rules.0.paths.0.alternate_backends",
        "at most 3 Services",
    ),
    (
        {"alternate_backends": [{**CATALOGUE, "service": "front-end", "port": 80}]},
        "rules.0.paths.0.alternate_backends.0.service",
        "already a backend of this path",
    ),
    (
        {"alternate_backends": [{**CATALOGUE, "service": "Cat"}]},
        "rules.0.paths.0.alternate_backends.0.service",
        "lowercase",
    ),
    ({"alternate_backends": [{**CATALOGUE, "port": 0}]}, "rules.0.paths.0.alternate_backends.0.port", "1 to 65535"),
    (
        {"alternate_backends": [{**CATALOGUE, "weight": 257}]},
        "rules.0.paths.0.alternate_backends.0.weight",
        "0 to 256",
    ),
]


@pytest.mark.cluster
@pytest.mark.parametrize(("path", "field", "message"), BAD_SPLITS)
def test_bad_splits_are_refused_on_their_field_and_nothing_is_written(
    project_with_gateway, django_capture_on_commit_callbacks, path, field, message
):
    on_the_gateway_api(project_with_gateway)
    client = api_as(get_user_model().objects.get(username="olga"))
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"/api/v1/projects/{project_with_gateway.name}/routes/", path_body(**path), format="json"
        )
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()[field]), response.json()
    assert not Route.objects.exists() and not HostClaim.objects.exists() and queued == []


@pytest.mark.cluster
@pytest.mark.parametrize("flavor", ["nginx-inc", "ingress-nginx"])
def test_a_split_is_refused_on_a_gateway_whose_routes_are_ingresses(
    project_with_gateway, django_capture_on_commit_callbacks, flavor
):
    gateway_services.configure_gateway(project_with_gateway, flavor=flavor)
    client = api_as(get_user_model().objects.get(username="olga"))
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            f"/api/v1/projects/{project_with_gateway.name}/routes/",
            path_body(alternate_backends=[CATALOGUE]),
            format="json",
        )
    assert response.status_code == 400
    [message] = response.json()["rules.0.paths.0.alternate_backends"]
    assert "send a path to one Service: splitting traffic by weight needs a Traefik gateway" in message
    assert not Route.objects.exists() and queued == []


@pytest.mark.cluster
def test_the_api_stores_and_answers_a_split_and_a_gateway_cannot_leave_traefik_under_it(project_with_gateway):
    on_the_gateway_api(project_with_gateway)
    client = api_as(get_user_model().objects.get(username="olga"))
    base = f"/api/v1/projects/{project_with_gateway.name}/routes/"
    created = client.post(base, path_body(weight=80, alternate_backends=[CATALOGUE]), format="json")
    assert created.status_code == 201, created.json()
    [path] = client.get(f"{base}front-end/").json()["rules"][0]["paths"]
    assert (path["weight"], path["alternate_backends"]) == (80, [CATALOGUE])
    preview = client.get(f"{base}front-end/manifest/?as=gateway-api").json()["manifests"]
    assert [ref["weight"] for ref in preview[0]["spec"]["rules"][0]["backendRefs"]] == [80, 20]

    gateway_url = f"/api/v1/projects/{project_with_gateway.name}/gateway/"
    admin = api_as(get_user_model().objects.get(username="alice"))
    refused = admin.put(gateway_url, {"flavor": "nginx-inc"}, format="json")
    assert refused.status_code == 400
    assert "1 paths of this project's routes split traffic" in refused.json()["flavor"][0]
    assert Gateway.objects.get(project=project_with_gateway).flavor == "traefik"

    unsplit = client.patch(f"{base}front-end/", path_body(), format="json")  # the split removed
    assert unsplit.status_code == 200, unsplit.json()
    assert RoutePath.objects.get().alternate_backends == []
    assert admin.put(gateway_url, {"flavor": "nginx-inc"}, format="json").status_code == 202  # accepted


# The rules editor and Edit YAML


@pytest.fixture
def split_shop(project_with_gateway):
    namespace = project_with_gateway.namespace
    cluster.apply(backend_service(namespace, "front-end"))
    cluster.apply(backend_service(namespace, "catalogue", 8080, "web"))
    on_the_gateway_api(project_with_gateway)
    return project_with_gateway


def editor_post(action="save", **paths) -> dict:
    data = {
        "action": action,
        "rule-0-host_mode": "custom",
        "rule-0-host": "shop.example.com",
        "rule-0-protocol": "http",
        "rule-0-tls_secret": "",
        "rule-0-path-0-path": "/",
        "rule-0-path-0-path_type": "Prefix",
        "rule-0-path-0-service": "front-end",
        "rule-0-path-0-port": "80",
    }
    data.update({f"rule-0-path-0-{key}": value for key, value in paths.items()})
    return data


@pytest.mark.cluster
def test_the_rules_editor_splits_a_path_shows_each_share_and_saves_the_weights(split_shop):
    from routes import services as route_services

    route_services.create_route(split_shop, path_body())
    olga = logged_in("olga")
    dialog = url(split_shop, "front-end/edit-rules/")
    opened = olga.get(dialog, **HTMX).content.decode()
    assert 'value="add-backend-0-0"' in opened and "Split traffic" in opened

    split = olga.post(dialog, editor_post("add-backend-0-0"), **HTMX)
    page = split.content.decode()
    assert 'name="rule-0-path-0-backend-0-service"' in page and 'name="rule-0-path-0-weight"' in page

    fields = {"backend-0-service": "catalogue", "backend-0-port": "8080", "backend-0-weight": "20", "weight": "80"}
    shares = olga.post(dialog, editor_post("refresh", **fields), **HTMX).content.decode()
    assert "80%" in shares and "20%" in shares

    bad = olga.post(dialog, editor_post(**{**fields, "backend-0-weight": "900"}), **HTMX)
    assert bad.status_code == 400 and "A weight is a whole number from 0 to 256" in bad.content.decode()
    assert RoutePath.objects.get().alternate_backends == []

    saved = olga.post(dialog, editor_post(**fields), **HTMX)
    assert saved.status_code == 204
    path = RoutePath.objects.get()
    assert (path.weight, path.alternate_backends) == (80, [{"service": "catalogue", "port": 8080, "weight": 20}])

    removed = olga.post(dialog, editor_post("remove-backend-0-0-0", **fields), **HTMX).content.decode()
    assert 'name="rule-0-path-0-backend-0-service"' not in removed
    assert 'type="hidden" name="rule-0-path-0-weight" value="1"' in removed  # the sole Service takes everything


@pytest.mark.cluster
def test_the_rules_editor_offers_no_split_on_an_ingress_gateway(project_with_gateway):
    from routes import services as route_services

    cluster.apply(backend_service(project_with_gateway.namespace, "front-end"))
    route_services.create_route(project_with_gateway, path_body())
    opened = logged_in("olga").get(url(project_with_gateway, "front-end/edit-rules/"), **HTMX).content.decode()
    assert "add-backend" not in opened


@pytest.mark.cluster
def test_edit_yaml_carries_weighted_ingress_route_services(split_shop, ingress_route_crd):
    from routes import services as route_services

    gateway_services.configure_gateway(split_shop, flavor="traefik", route_api="ingress")
    route_services.create_route(split_shop, path_body(weight=80, alternate_backends=[CATALOGUE]))
    olga = logged_in("olga")
    shown = olga.get(url(split_shop, "front-end/edit-yaml/"), **HTMX)
    [doc] = yaml.safe_load_all(shown.context["form"].initial["manifest"])
    assert [s.get("weight") for s in doc["spec"]["routes"][0]["services"]] == [80, 20]

    def rebalance(docs):
        docs[0]["spec"]["routes"][0]["services"][0]["weight"] = 50
        docs[0]["spec"]["routes"][0]["services"][1]["weight"] = 50

    assert edit_yaml(olga, split_shop, rebalance).status_code == 204
    path = RoutePath.objects.get()
    assert (path.weight, path.alternate_backends[0]["weight"]) == (50, 50)

    def too_many(docs):
        services = docs[0]["spec"]["routes"][0]["services"]
        services += [{**services[1], "name": f"extra-{i}"} for i in range(2)]

    refused = edit_yaml(olga, split_shop, too_many)
    assert refused.status_code == 400
    assert "1 to 3 Services" in " ".join(refused.context["form"].errors["manifest"])
    assert RoutePath.objects.get().weight == 50


@pytest.mark.cluster
def test_edit_yaml_carries_weighted_backend_refs_on_a_gateway_api_gateway(split_shop):
    from routes import services as route_services

    route_services.create_route(split_shop, path_body(weight=80, alternate_backends=[CATALOGUE]))
    olga = logged_in("olga")
    shown = olga.get(url(split_shop, "front-end/edit-yaml/"), **HTMX)
    [doc] = yaml.safe_load_all(shown.context["form"].initial["manifest"])
    refs = doc["spec"]["rules"][0]["backendRefs"]
    assert [(ref["name"], ref["port"], ref["weight"]) for ref in refs] == [
        ("front-end", 80, 80),
        ("catalogue", 8080, 20),
    ]

    def rebalance(docs):
        docs[0]["spec"]["rules"][0]["backendRefs"][0]["weight"] = 30
        docs[0]["spec"]["rules"][0]["backendRefs"][1]["weight"] = 70

    assert edit_yaml(olga, split_shop, rebalance).status_code == 204
    path = RoutePath.objects.get()
    assert (path.weight, path.alternate_backends) == (30, [{**CATALOGUE, "weight": 70}])

    def too_heavy(docs):
        docs[0]["spec"]["rules"][0]["backendRefs"][1]["weight"] = 900

    refused = edit_yaml(olga, split_shop, too_heavy)
    assert refused.status_code == 400
    assert "0 to 256" in " ".join(refused.context["form"].errors["manifest"])
    assert RoutePath.objects.get().alternate_backends[0]["weight"] == 70
