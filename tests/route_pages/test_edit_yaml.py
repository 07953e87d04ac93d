"""Edit YAML: round trips, protocols that follow their rules, and the IngressRoutes and Gateway API
routes it shows and maps back."""

import pytest
import yaml

from gateways import services as gateway_services
from gateways.render import https_listener
from routes import services as route_services
from routes.models import Route
from tests.conftest import api_as
from tests.route_pages import HTMX, edit_yaml, logged_in, protocols, two_tls_rules, url

pytestmark = pytest.mark.cluster


def test_edit_yaml_round_trips(route, shop):
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX).context["form"].initial["manifest"]
    manifest = yaml.safe_load(shown)
    assert manifest["spec"]["ingressClassName"] == f"kubeconsole-{shop.name}"

    assert olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": shown}, **HTMX).status_code == 204
    route.refresh_from_db()
    assert route.generation == 1  # unchanged YAML changes nothing

    manifest["spec"]["rules"][0]["http"]["paths"].append(
        {
            "path": "/catalogue",
            "pathType": "Prefix",
            "backend": {"service": {"name": "catalogue", "port": {"number": 8080}}},
        }
    )
    assert (
        olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX).status_code == 204
    )
    route.refresh_from_db()
    assert route.generation == 2
    assert [p.path for p in route.rules.get().paths.all()] == ["/", "/catalogue"]

    manifest["spec"]["defaultBackend"] = {"service": {"name": "front-end", "port": {"number": 80}}}
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert response.status_code == 400
    assert "spec.defaultBackend: the console cannot represent this field" in " ".join(
        response.context["form"].errors["manifest"]
    )
    del manifest["spec"]["defaultBackend"]
    manifest["metadata"]["name"] = "renamed"
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert "cannot be changed" in " ".join(response.context["form"].errors["manifest"])
    manifest["metadata"]["name"] = "front-end"
    manifest["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/a//b"
    response = olga.post(url(shop, "front-end/edit-yaml/"), {"manifest": yaml.safe_dump(manifest)}, **HTMX)
    assert "'//'" in " ".join(response.context["form"].errors["manifest"])
    route.refresh_from_db()
    assert route.generation == 2


def test_edit_yaml_keeps_each_rules_protocol_when_rules_swap_places(shop):
    route = route_services.create_route(shop, {"name": "front-end", "rules": two_tls_rules()})

    def swap(docs):
        rules = docs[0]["spec"]["rules"]
        rules[0], rules[1] = rules[1], rules[0]

    response = edit_yaml(logged_in("olga"), shop, swap)
    assert response.status_code == 204, response.content.decode()
    assert protocols(route) == {"api.example.com": "grpc", "shop.example.com": "https"}
    route.refresh_from_db()
    assert route.annotations == {}  # nginx.org/grpc-services still follows the rules, not stored


def test_edit_yaml_on_ingress_nginx_does_not_turn_a_moved_grpc_rule_into_a_route_wide_annotation(shop):
    gateway_services.configure_gateway(shop, flavor="ingress-nginx")
    grpc = {"path": "/", "service": "greeter", "port": 50051}
    rules = [
        {"host": "api.example.com", "protocol": "grpc", "tls_secret": "good-tls", "paths": [grpc]},
        {"host": "api2.example.com", "protocol": "grpc", "tls_secret": "good-tls", "paths": [grpc]},
    ]
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules})

    def swap_and_rename(docs):
        rules = docs[0]["spec"]["rules"]
        rules[0], rules[1] = rules[1], rules[0]
        rules[0]["host"] = "api3.example.com"  # a new host: gRPC, as the Ingress's backend-protocol says
        docs[0]["spec"]["tls"][0]["hosts"] = ["api3.example.com", "api.example.com"]

    assert edit_yaml(logged_in("olga"), shop, swap_and_rename).status_code == 204
    assert protocols(route) == {"api3.example.com": "grpc", "api.example.com": "grpc"}
    route.refresh_from_db()
    assert route.annotations == {}


def test_edit_yaml_gives_a_new_host_the_protocol_its_manifest_marks(shop):
    route = route_services.create_route(shop, {"name": "front-end", "rules": two_tls_rules()})

    def rename(docs):
        docs[0]["spec"]["rules"][0]["host"] = "rpc.example.com"
        docs[0]["spec"]["tls"][0]["hosts"] = ["rpc.example.com", "shop.example.com"]

    assert edit_yaml(logged_in("olga"), shop, rename).status_code == 204
    assert protocols(route) == {"rpc.example.com": "grpc", "shop.example.com": "https"}


def test_edit_yaml_refuses_a_rule_whose_protocol_it_cannot_tell(shop):
    rules = [
        {"host": "shop.example.com", "protocol": "http", "paths": [{"path": "/a", "service": "front-end", "port": 80}]},
        {"host": "shop.example.com", "protocol": "ws", "paths": [{"path": "/b", "service": "catalogue", "port": 8080}]},
    ]
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules})

    def move_a_path(docs):
        docs[0]["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/c"

    response = edit_yaml(logged_in("olga"), shop, move_a_path)
    assert response.status_code == 400
    message = " ".join(response.context["form"].errors["manifest"])
    assert "spec.rules[0]: host shop.example.com has rules of different protocols (http, ws)" in message
    assert Route.objects.get(pk=route.pk).generation == 1


def test_a_traefik_gateways_edit_yaml_and_manifest_show_the_ingress_routes_the_worker_applies(
    shop, ingress_route_crd, django_user_model
):
    gateway_services.configure_gateway(shop, flavor="traefik")
    plain = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    rules = [plain, *two_tls_rules()[:1]]  # IngressRoutes group them: the TLS one comes second
    annotations = {"traefik.ingress.kubernetes.io/router.priority": "5"}
    route = route_services.create_route(shop, {"name": "front-end", "rules": rules, "annotations": annotations})

    answer = api_as(django_user_model.objects.get(username="olga")).get(
        f"/api/v1/projects/{shop.name}/routes/front-end/manifest/"
    )
    kinds = [(m["kind"], m["metadata"]["name"]) for m in answer.json()["manifests"]]
    assert kinds == [("IngressRoute", "front-end"), ("IngressRoute", "front-end.1")]
    assert [m.get("spec", {}).get("tls") for m in answer.json()["manifests"]] == [None, {"secretName": "good-tls"}]
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX)
    assert "Traefik IngressRoutes" in shown.content.decode()
    assert [doc["kind"] for doc in yaml.safe_load_all(shown.context["form"].initial["manifest"])] == [
        "IngressRoute"
    ] * 2

    assert edit_yaml(olga, shop, lambda docs: None).status_code == 204
    assert Route.objects.get(pk=route.pk).generation == 1  # unchanged text changes nothing

    def add_a_path(docs):
        plain = docs[0]["spec"]["routes"]
        plain.append({**plain[0], "match": "Host(`shop.example.com`) && PathPrefix(`/catalogue`)"})
        plain[-1]["services"] = [{"name": "catalogue", "port": 8080}]

    assert edit_yaml(olga, shop, add_a_path).status_code == 204
    route = Route.objects.get(pk=route.pk)
    assert protocols(route) == {"api.example.com": "grpc", "shop.example.com": "http"}
    assert [p.path for p in route.rules.get(host="shop.example.com").paths.all()] == ["/", "/catalogue"]

    def edit_a_derived_field(docs):
        docs[0]["spec"]["routes"][0]["priority"] = 99

    refused = edit_yaml(olga, shop, edit_a_derived_field)
    assert refused.status_code == 400
    assert "document 1: spec.routes[0].priority: the console sets this" in " ".join(
        refused.context["form"].errors["manifest"]
    )

    def through_the_annotation(docs):
        for doc in docs:
            doc["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.priority"] = "99"
            for entry in doc["spec"]["routes"]:
                entry["priority"] = 99

    assert edit_yaml(olga, shop, through_the_annotation).status_code == 204
    assert Route.objects.get(pk=route.pk).annotations == {"traefik.ingress.kubernetes.io/router.priority": "99"}


def test_a_gateway_api_gateways_edit_yaml_shows_and_maps_back_its_httproutes_and_grpcroutes(shop, django_user_model):
    gateway_services.configure_gateway(shop, flavor="traefik", route_api="gateway-api")
    plain = {"host": "shop.example.com", "paths": [{"path": "/", "service": "catalogue", "port": "web"}]}
    grpc = {**two_tls_rules()[0], "paths": [{"path": "/echo.Echo/", "service": "greeter", "port": 50051}]}
    annotations = {"team": "socks"}
    route = route_services.create_route(shop, {"name": "front-end", "rules": [plain, grpc], "annotations": annotations})
    olga = logged_in("olga")
    shown = olga.get(url(shop, "front-end/edit-yaml/"), **HTMX)
    assert "The HTTPRoutes and GRPCRoutes (Gateway API) as the console applies them" in shown.content.decode()
    http_route, grpc_route = yaml.safe_load_all(shown.context["form"].initial["manifest"])
    assert (http_route["kind"], grpc_route["kind"]) == ("HTTPRoute", "GRPCRoute")
    assert http_route["metadata"]["annotations"] == {} and grpc_route["metadata"]["name"] == "front-end.1"
    assert http_route["spec"]["rules"][0]["backendRefs"][0]["port"] == 8080  # what the worker applies
    manifest = api_as(django_user_model.objects.get(username="olga")).get(
        f"/api/v1/projects/{shop.name}/routes/front-end/manifest/"
    )
    assert [m["kind"] for m in manifest.json()["manifests"]] == ["HTTPRoute", "GRPCRoute"]

    assert edit_yaml(olga, shop, lambda docs: None).status_code == 204
    assert Route.objects.get(pk=route.pk).generation == 1  # unchanged text changes nothing: web stays web

    def add_paths(docs):
        docs[0]["spec"]["rules"].append(
            {
                "matches": [{"path": {"type": "Exact", "value": "/basket"}}],
                "backendRefs": [{"name": "front-end", "port": 80}],  # group, kind and weight as defaulted
            }
        )
        docs[1]["spec"]["rules"].append({"matches": [{"method": {"service": "echo.Echo", "method": "Ping"}}]})
        docs[1]["spec"]["rules"][-1]["backendRefs"] = [{"name": "greeter", "port": 50051}]

    assert edit_yaml(olga, shop, add_paths).status_code == 204
    route = Route.objects.get(pk=route.pk)
    assert protocols(route) == {"shop.example.com": "http", "api.example.com": "grpc"}
    web, api = route.rules.all()
    assert [(p.path, p.path_type, p.service, p.port) for p in web.paths.all()] == [
        ("/", "Prefix", "catalogue", "web"),
        ("/basket", "Exact", "front-end", 80),
    ]
    assert [p.path for p in api.paths.all()] == ["/echo.Echo/", "/echo.Echo/Ping"]
    assert api.tls_secret == "good-tls" and route.annotations == annotations  # neither is on the objects

    def secure(docs):
        docs[0]["spec"]["parentRefs"][0]["sectionName"] = docs[1]["spec"]["parentRefs"][0]["sectionName"]

    refusals = [
        (secure, "document 1: spec.parentRefs[0].sectionName: host shop.example.com is served on listener http"),
        (
            lambda docs: docs[0]["spec"]["parentRefs"][0].update(sectionName=https_listener("shop.example.com")),
            "document 1: spec.parentRefs[0].sectionName: host shop.example.com has no TLS secret in this route",
        ),
        (
            lambda docs: docs[1]["spec"]["parentRefs"][0].update(sectionName="http"),
            "document 2: spec.parentRefs[0].sectionName: gRPC is served over TLS",
        ),
        (
            lambda docs: docs[0]["metadata"].update(annotations={"team": "socks"}),
            "document 1: metadata.annotations: Gateway API routes carry no annotations",
        ),
        (
            lambda docs: docs[0]["spec"]["rules"][0]["backendRefs"][0].update(namespace="elsewhere"),
            "document 1: spec.rules[0].backendRefs[0].namespace: the console cannot represent this field",
        ),
        (
            lambda docs: docs[0]["spec"]["parentRefs"][0].update(name="someone-elses"),
            "document 1: spec.parentRefs[0]: a route attaches to its gateway's Gateway, kubeconsole-gateway.",
        ),
        (
            lambda docs: docs[0]["spec"]["rules"][0]["matches"][0]["path"].update(type="RegularExpression"),
            "document 1: spec.rules[0].matches[0].path.type: PathPrefix or Exact",
        ),
        (lambda docs: docs[0]["spec"].update(hostnames=["a.example.com", "b.example.com"]), "give exactly one host"),
        (lambda docs: docs[1]["metadata"]["labels"].update(tier="web"), "document 2: metadata.labels: every object"),
    ]
    for change, message in refusals:
        refused = edit_yaml(olga, shop, change)
        assert refused.status_code == 400, message
        assert message in " ".join(refused.context["form"].errors["manifest"])
    assert Route.objects.get(pk=route.pk).generation == 2  # none of them was saved

    def new_secure_host(docs):
        docs[1]["spec"]["hostnames"] = ["rpc.example.com"]
        docs[1]["spec"]["parentRefs"][0]["sectionName"] = https_listener("rpc.example.com")

    refused = edit_yaml(olga, shop, new_secure_host)
    assert "host rpc.example.com has no TLS secret in this route" in " ".join(
        refused.context["form"].errors["manifest"]
    )
