"""The Gateway API renderers: a route as HTTPRoutes and GRPCRoutes attached to its gateway's
Gateway, and the Gateway with a listener per TLS host; pure functions compared field by field."""

import json
import re

import pytest
import yaml
from django.core.exceptions import ValidationError

from console import cluster
from gateways import listeners
from gateways import render as gateway_render
from gateways.models import Gateway
from routes import controller_status, render
from routes.spec import RouteSpec
from tests.test_route_render import OWNER_LABELS, gateway, route, rule

API_GROUP = "gateway.networking.k8s.io"
API = f"{API_GROUP}/v1"
SECTION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")  # the CRD's pattern
PORTS = {("catalogue", "http"): 8080}


def backend(service: str, port: int) -> dict:
    """A backendRef as the API server defaults it."""
    return {"group": "", "kind": "Service", "name": service, "port": port, "weight": 1}


def objects(spec, flavor="traefik") -> list[dict]:
    return render.gateway_api_routes(spec, gateway(flavor=flavor), "route-9", PORTS)


def test_an_http_route_becomes_one_httproute_on_the_plain_listener_without_the_routes_annotations():
    spec = route(
        rule("shop.example.com", paths=(("/", "front-end", 80), ("/catalogue", "catalogue", "http"))),
        annotations={"traefik.ingress.kubernetes.io/router.priority": "10"},
        labels={"team": "socks"},
    )
    assert objects(spec) == [
        {
            "apiVersion": API,
            "kind": "HTTPRoute",
            "metadata": {
                "name": "front-end",
                "namespace": "sock-shop",
                "labels": {"team": "socks", **OWNER_LABELS},
                "annotations": {},
            },
            "spec": {
                "parentRefs": [
                    {"group": API_GROUP, "kind": "Gateway", "name": "kubeconsole-gateway", "sectionName": "http"}
                ],
                "hostnames": ["shop.example.com"],
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                        "backendRefs": [backend("front-end", 80)],
                    },
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/catalogue"}}],
                        "backendRefs": [backend("catalogue", 8080)],  # the named port's number
                    },
                ],
            },
        }
    ]


def test_a_named_port_without_a_number_stays_a_name():
    """What the preview shows; the worker renders a route only once every number is known."""
    spec = route(rule("shop.example.com", paths=(("/", "gone", "web"),)))
    assert objects(spec)[0]["spec"]["rules"][0]["backendRefs"][0]["port"] == "web"


def test_exact_paths_stay_exact():
    spec = route(rule("shop.example.com", paths=(("/healthz", "front-end", 80),), path_type="Exact"))
    assert objects(spec)[0]["spec"]["rules"][0]["matches"] == [{"path": {"type": "Exact", "value": "/healthz"}}]


def test_each_tls_host_attaches_to_its_own_https_listener_and_plain_rules_to_http():
    spec = route(
        rule("shop.example.com", "https", "shop-tls"),
        rule("shop.example.com", "ws", paths=(("/socket", "front-end", 80),)),
        rule("admin.example.com", "wss", "admin-tls"),
    )
    rendered = objects(spec)
    assert [(o["kind"], o["metadata"]["name"], o["spec"]["hostnames"]) for o in rendered] == [
        ("HTTPRoute", "front-end", ["shop.example.com"]),
        ("HTTPRoute", "front-end.1", ["shop.example.com"]),
        ("HTTPRoute", "front-end.2", ["admin.example.com"]),
    ]
    listeners = [o["spec"]["parentRefs"][0]["sectionName"] for o in rendered]
    assert listeners == [
        gateway_render.https_listener("shop.example.com"),
        "http",
        gateway_render.https_listener("admin.example.com"),
    ]
    assert render.tls_hosts(spec) == {"shop.example.com": "shop-tls", "admin.example.com": "admin-tls"}


def test_grpc_rules_become_a_grpcroute_matching_every_call_a_service_or_one_method():
    spec = route(
        rule(
            "api.example.com",
            "grpc",
            "api-tls",
            paths=(("/", "grpc-echo", 50051), ("/shop.Cart/", "cart", 9000), ("/shop.Cart/Add", "cart-writer", 9000)),
        )
    )
    [grpc] = objects(spec)
    assert grpc["kind"] == "GRPCRoute"
    assert grpc["spec"]["parentRefs"] == [
        {
            "group": API_GROUP,
            "kind": "Gateway",
            "name": "kubeconsole-gateway",
            "sectionName": gateway_render.https_listener("api.example.com"),
        }
    ]
    assert grpc["spec"]["rules"] == [
        {"backendRefs": [backend("grpc-echo", 50051)]},
        {
            "backendRefs": [backend("cart", 9000)],
            "matches": [{"method": {"type": "Exact", "service": "shop.Cart"}}],
        },
        {
            "backendRefs": [backend("cart-writer", 9000)],
            "matches": [{"method": {"type": "Exact", "service": "shop.Cart", "method": "Add"}}],
        },
    ]


def test_more_paths_than_an_httproute_holds_are_split_across_objects():
    paths = tuple((f"/p{i}", "front-end", 80) for i in range(20))
    rendered = objects(route(rule("shop.example.com", paths=paths)))
    assert [(o["metadata"]["name"], len(o["spec"]["rules"])) for o in rendered] == [
        ("front-end", 16),
        ("front-end.1", 4),
    ]


def test_the_same_objects_whatever_the_gateways_flavor():
    spec = route(rule("shop.example.com", "https", "shop-tls"))
    assert objects(spec, "nginx-inc") == objects(spec, "traefik")


def test_https_listener_names_are_valid_and_stable_for_wildcards_and_long_hosts():
    long_host = ".".join(["a" * 60] * 4)
    for host in ("shop.example.com", "*.example.com", long_host):
        name = gateway_render.https_listener(host)
        assert SECTION_NAME.match(name) and len(name) <= 253
        assert name == gateway_render.https_listener(host)
    assert gateway_render.https_listener("a.example.com") != gateway_render.https_listener("b.example.com")


def test_a_traefik_gateway_has_a_gatewayclass_and_a_gateway_with_a_listener_per_tls_host():
    traefik = gateway(flavor="traefik")
    gateway_class = gateway_render.gateway_class(traefik)
    assert gateway_class["kind"] == "GatewayClass" and gateway_class["apiVersion"] == API
    assert gateway_class["metadata"]["name"] == "kubeconsole-sock-shop" and "namespace" not in gateway_class["metadata"]
    assert gateway_class["spec"]["controllerName"] == "traefik.io/gateway-controller"

    gw = gateway_render.gateway_object(traefik, {"shop.example.com": "shop-tls", "*.example.com": "wild-tls"})
    assert gw["metadata"]["name"] == "kubeconsole-gateway" and gw["metadata"]["namespace"] == "sock-shop"
    assert gw["spec"]["gatewayClassName"] == "kubeconsole-sock-shop"
    same_namespace = {"namespaces": {"from": "Same"}}
    assert gw["spec"]["listeners"] == [
        # Traefik's web and websecure entry points
        {"name": "http", "protocol": "HTTP", "port": 8000, "allowedRoutes": same_namespace},
        {
            "name": gateway_render.https_listener("*.example.com"),
            "protocol": "HTTPS",
            "port": 8443,
            "hostname": "*.example.com",
            "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": "wild-tls"}]},
            "allowedRoutes": same_namespace,
        },
        {
            "name": gateway_render.https_listener("shop.example.com"),
            "protocol": "HTTPS",
            "port": 8443,
            "hostname": "shop.example.com",
            "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": "shop-tls"}]},
            "allowedRoutes": same_namespace,
        },
    ]


@pytest.mark.cluster
def test_the_api_server_accepts_every_rendered_object_under_the_gateway_apis_own_schema(
    gateway_api_crds, ready_project
):
    """A dry-run apply against the real API server with the module's CRDs: their OpenAPI schemas and
    CEL rules check every field the renderers write."""
    traefik = Gateway(pk=1, project=ready_project, flavor="traefik")
    spec = RouteSpec(
        name="front-end",
        namespace=ready_project.namespace,
        rules=(
            rule("shop.example.com", paths=(("/", "front-end", 80), ("/healthz", "front-end", 80))),
            rule("shop.example.com", "https", "shop-tls"),
            rule("*.example.com", "wss", "wild-tls"),
            rule("api.example.com", "grpc", "api-tls", paths=(("/", "echo", 50051), ("/shop.Cart/Add", "cart", 9000))),
        ),
        annotations={"traefik.ingress.kubernetes.io/router.priority": "10"},
    )
    rendered = [
        gateway_render.gateway_class(traefik),
        gateway_render.gateway_object(traefik, render.tls_hosts(spec)),
        *render.gateway_api_routes(spec, traefik, "route-9", PORTS),
    ]
    assert [o["kind"] for o in rendered] == [
        "GatewayClass",
        "Gateway",
        "HTTPRoute",
        "HTTPRoute",
        "HTTPRoute",
        "GRPCRoute",
    ]
    for manifest in rendered:  # refused, with the schema's words, if a field is wrong
        answer = cluster.apply(manifest, dry_run=True)
        assert (answer["kind"], answer["metadata"]["name"]) == (manifest["kind"], manifest["metadata"]["name"])
        # Nothing defaulted that the renderer left out: applying owned specs finds nothing to take back.
        assert answer["spec"] == manifest["spec"], manifest["kind"]
    with pytest.raises(cluster.Invalid, match="sectionName|listeners"):  # the schema is really checked
        broken = gateway_render.gateway_object(traefik, {})
        broken["spec"]["listeners"][0]["name"] = "Not A Name!"
        cluster.apply(broken, dry_run=True)


def test_a_route_of_a_gateway_serving_the_gateway_api_is_rendered_as_httproutes():
    spec = route(rule("shop.example.com"))
    served = render.manifests(spec, gateway(flavor="traefik", route_api="gateway-api"), "route-9", True, PORTS)
    assert [o["kind"] for o in served] == ["HTTPRoute"]
    assert [o["kind"] for o in render.manifests(spec, gateway(flavor="traefik"), "route-9", True)] == ["IngressRoute"]


def test_a_traefik_gateway_serving_the_gateway_api_gets_its_provider_its_rbac_and_its_objects():
    serving = gateway(flavor="traefik", route_api="gateway-api")
    manifests = gateway_render.manifests(serving, {"shop.example.com": "shop-tls"})
    assert [m["kind"] for m in manifests][-2:] == ["GatewayClass", "Gateway"]
    gw = manifests[-1]
    assert [listener["hostname"] for listener in gw["spec"]["listeners"][1:]] == ["shop.example.com"]
    config = yaml.safe_load(next(m for m in manifests if m["kind"] == "ConfigMap")["data"]["traefik.yml"])
    assert config["providers"]["kubernetesGateway"] == {
        "namespaces": ["sock-shop"],
        "labelSelector": "kubeconsole.io/owner=gateway-3",  # its own GatewayClass only
    }
    assert manifests[-2]["metadata"]["labels"]["kubeconsole.io/owner"] == "gateway-3"
    role = next(m for m in manifests if m["kind"] == "Role")
    cluster_role = next(m for m in manifests if m["kind"] == "ClusterRole")
    assert {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": gateway_render.GATEWAY_API_RESOURCES,
        "verbs": ["get", "list", "watch"],
    } in role["rules"]
    assert {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": ["gateways/status", "httproutes/status", "grpcroutes/status"],  # what Traefik writes
        "verbs": ["update"],
    } in role["rules"]
    assert {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]} in cluster_role["rules"]
    # Its own GatewayClass's status, and no other project's.
    [class_status] = [r for r in cluster_role["rules"] if "gatewayclasses/status" in r["resources"]]
    assert class_status == {
        "apiGroups": ["gateway.networking.k8s.io"],
        "resources": ["gatewayclasses/status"],
        "verbs": ["update"],
        "resourceNames": [manifests[-2]["metadata"]["name"]],
    }

    ingress_only = gateway_render.manifests(gateway(flavor="traefik"))
    assert "GatewayClass" not in [m["kind"] for m in ingress_only]
    assert "gateway.networking.k8s.io" not in json.dumps(ingress_only)
    assert "kubernetesGateway" not in next(m for m in ingress_only if m["kind"] == "ConfigMap")["data"]["traefik.yml"]


@pytest.mark.parametrize("flavor", ["nginx-inc", "ingress-nginx"])
def test_only_a_flavor_that_implements_the_gateway_api_may_serve_it(flavor, db):
    with pytest.raises(ValidationError) as refused:
        gateway(flavor=flavor, route_api="gateway-api").clean()
    assert "does not implement the Gateway API" in refused.value.message_dict["route_api"][0]
    gateway(flavor="traefik", route_api="gateway-api").clean()


def httproute_status(generation: int, *conditions, parent: str = "kubeconsole-gateway") -> dict:
    said = [
        {"type": type_, "status": status, "reason": reason, "message": message, "observedGeneration": observed}
        for type_, status, reason, message, observed in conditions
    ]
    return {
        "metadata": {"generation": generation},
        "status": {
            "parents": [
                {"parentRef": {"name": parent}, "controllerName": "traefik.io/gateway-controller", "conditions": said}
            ]
        },
    }


def test_the_controllers_answers_become_the_routes_attached_and_resolved_refs_conditions():
    served = httproute_status(
        2, ("Accepted", "True", "Accepted", "", 2), ("ResolvedRefs", "True", "ResolvedRefs", "", 2)
    )
    ghost = httproute_status(
        2,
        ("Accepted", "True", "Accepted", "", 2),
        ("ResolvedRefs", "False", "BackendNotFound", "Cannot load HTTPBackendRef shop/ghost: service not found", 2),
    )
    stale = httproute_status(
        3, ("Accepted", "True", "Accepted", "", 2), ("ResolvedRefs", "True", "ResolvedRefs", "", 2)
    )
    answers = [controller_status.parent_answer(obj) for obj in (served, ghost, stale)]
    assert answers[2] == {}  # said of an older generation: not an answer for this one
    assert controller_status.parent_answer(httproute_status(1, parent="someone-else")) is None

    attached, resolved = controller_status.route_conditions(answers[:2])
    assert (attached["type"], attached["status"]) == ("Attached", "True")
    assert (resolved["type"], resolved["status"], resolved["reason"]) == ("ResolvedRefs", "False", "BackendNotFound")
    assert resolved["message"] == (
        "Not served: a backend Service does not exist. The controller says: "
        "Cannot load HTTPBackendRef shop/ghost: service not found"
    )
    waiting = controller_status.route_conditions([answers[0], None])
    assert [c["status"] for c in waiting] == ["Unknown", "Unknown"]  # one object not answered yet
    assert [c["status"] for c in controller_status.route_conditions([answers[0]])] == ["True", "True"]
    assert not controller_status.differs(
        controller_status.route_conditions([answers[0]]), controller_status.route_conditions([answers[0]])
    )
    assert controller_status.differs([], waiting)


def test_the_gateways_listeners_keep_the_controllers_counts_and_current_conditions_shown_by_host():
    secure = gateway_render.https_listener("shop.example.com")
    said = {
        "metadata": {"generation": 3},
        "status": {
            "listeners": [
                {
                    "name": "http",
                    "attachedRoutes": 2,
                    "conditions": [
                        {"type": "Accepted", "status": "True", "reason": "Accepted", "observedGeneration": 3},
                        {"type": "Programmed", "status": "False", "reason": "Pending", "observedGeneration": 2},
                    ],
                },
                {
                    "name": secure,
                    "attachedRoutes": 0,
                    "conditions": [
                        {
                            "type": "ResolvedRefs",
                            "status": "False",
                            "reason": "InvalidCertificateRef",
                            "message": "secret not found",
                            "observedGeneration": 3,
                        },
                        {"type": "Conflicted", "status": "False", "reason": "NoConflicts", "observedGeneration": 3},
                    ],
                },
            ]
        },
    }
    stored = listeners.reported(said)
    assert stored[0] == {
        "name": "http",
        "attached_routes": 2,
        "conditions": [
            {"type": "Accepted", "status": "True", "reason": "Accepted", "message": ""}
        ],  # not the stale one
    }
    assert listeners.reported(None) == [] and listeners.reported({"status": {}}) == []
    plain, tls = listeners.rows(stored, {"shop.example.com": "shop-tls"})
    assert (plain["protocol"], plain["host"], plain["tls_secret"]) == ("HTTP", "every host", "")
    assert (tls["protocol"], tls["host"], tls["tls_secret"], tls["attached_routes"]) == (
        "HTTPS",
        "shop.example.com",
        "shop-tls",
        0,
    )
    assert [(c["type"], c["fine"]) for c in tls["checks"]] == [("ResolvedRefs", False), ("Conflicted", True)]
    assert plain["summary"] == "Serving 2 routes."
    assert tls["summary"] == ("Not serving: its TLS secret cannot be used. The controller says: secret not found")
    [unreported] = listeners.rows([{"name": "http", "attached_routes": 0, "conditions": []}], {})
    assert unreported["summary"] == "Waiting for the gateway's controller to report."
