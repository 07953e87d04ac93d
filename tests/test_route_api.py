"""Bad route input through the API: 400 on the field, and nothing written (no row, no claim,
no task queued, so no call to the cluster); and who may do what."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from console import cluster
from gateways import services as gateway_services
from routes import services as route_services
from routes.models import HostClaim, Route
from tenants.models import AuditEntry
from tests.conftest import backend_service

pytestmark = pytest.mark.cluster


@pytest.fixture
def shop(project_with_gateway):
    return project_with_gateway


def client_for(username) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def route_body(**overrides) -> dict:
    path = {"path": "/", "path_type": "Prefix", "service": "front-end", "port": 80}
    rule = {"host_mode": "custom", "host": "shop.example.com", "protocol": "http", "tls_secret": "", "paths": [path]}
    for key in ("path", "path_type", "service", "port"):
        if key in overrides:
            path[key] = overrides.pop(key)
    for key in ("host_mode", "host", "protocol", "tls_secret"):
        if key in overrides:
            rule[key] = overrides.pop(key)
    return {"name": "front-end", "rules": [rule], **overrides}


BAD = [
    ({"name": "Front_End"}, "name", "lowercase"),
    ({"name": ""}, "name", "Enter a name"),
    ({"host": "Shop.example.com"}, "rules.0.host", "lowercase"),
    ({"host": "shop example.com"}, "rules.0.host", "spaces"),
    ({"host": "shop.example.com:80"}, "rules.0.host", "port"),
    ({"host": "10.1.2.3"}, "rules.0.host", "IP address"),
    ({"host": "shop..example.com"}, "rules.0.host", "empty part"),
    ({"host": "*"}, "rules.0.host", "alone"),
    ({"host": "shop.*.example.com"}, "rules.0.host", "leading"),
    ({"host": "a." * 126 + "com"}, "rules.0.host", "253"),
    ({"path": "foo"}, "rules.0.paths.0.path", "start with '/'"),
    ({"path": "/a//b"}, "rules.0.paths.0.path", "'//'"),
    ({"path": "/a/../b"}, "rules.0.paths.0.path", "'/../'"),
    ({"path": "/a%2Fb"}, "rules.0.paths.0.path", "encoded slash"),
    ({"path": "/a/."}, "rules.0.paths.0.path", "end in"),
    ({"path": "/a b"}, "rules.0.paths.0.path", "only letters"),
    ({"path_type": "ImplementationSpecific"}, "rules.0.paths.0.path", "Prefix or Exact"),
    ({"port": 0}, "rules.0.paths.0.port", "1 to 65535"),
    ({"port": 70000}, "rules.0.paths.0.port", "1 to 65535"),
    ({"port": ""}, "rules.0.paths.0.port", "Enter a port"),
    ({"port": "HTTP--web"}, "rules.0.paths.0.port", "not a port name"),
    ({"port": "¹"}, "rules.0.paths.0.port", "not a port name"),
    ({"service": "other-ns/front-end"}, "rules.0.paths.0.service", "lowercase"),
    ({"protocol": "https"}, "rules.0.tls_secret", "needs a TLS secret"),
    ({"protocol": "wss"}, "rules.0.tls_secret", "needs a TLS secret"),
    ({"protocol": "grpc"}, "rules.0.tls_secret", "needs a TLS secret"),
    ({"protocol": "https", "tls_secret": "missing"}, "rules.0.tls_secret", "no usable TLS secret 'missing'"),
    ({"protocol": "https", "tls_secret": "opaque"}, "rules.0.tls_secret", "no usable TLS secret 'opaque'"),
    ({"protocol": "https", "tls_secret": "keyless"}, "rules.0.tls_secret", "no usable TLS secret 'keyless'"),
    ({"protocol": "https", "tls_secret": "other-ns/cert"}, "rules.0.tls_secret", "another namespace"),
    ({"protocol": "ftp"}, "rules.0.protocol", "Choose one of"),
    ({"host_mode": "magic"}, "rules.0.host_mode", "auto or custom"),
    ({"annotations": {"bad key!": "x"}}, "annotations", "not a valid key"),
    ({"annotations": {"n" * 64: "x"}}, "annotations", "at most 63"),
    ({"annotations": {"big": "x" * (256 * 1024)}}, "annotations", "256 KiB"),
    ({"annotations": {"nginx.ingress.kubernetes.io/configuration-snippet": "x"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.ingress.kubernetes.io/server-snippet": "x"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.ingress.kubernetes.io/server-alias": "x"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.ingress.kubernetes.io/auth-url": "http://a"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.ingress.kubernetes.io/mirror-target": "http://a"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.org/server-snippets": "x"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.ingress.kubernetes.io/permanent-redirect": "http://a"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.org/grpc-services": "other-ns/svc"}}, "annotations", "another namespace"),
    ({"annotations": {"nginx.org/client-max-body-size": "10g;"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.org/client-max-body-size": "10g"}}, "annotations", "not a body size"),
    ({"annotations": {"note": "a$b"}}, "annotations", "never allowed"),
    ({"annotations": {"nginx.org/unknown-thing": "x"}}, "annotations", "not on the allow-list"),
    ({"labels": {"team": "has space"}}, "labels", "not a valid label value"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD)
def test_bad_routes_are_refused_on_the_field_and_nothing_is_written(
    shop, django_capture_on_commit_callbacks, overrides, field, message
):
    with django_capture_on_commit_callbacks() as queued:
        response = client_for("olga").post(
            f"/api/v1/projects/{shop.name}/routes/", route_body(**overrides), format="json"
        )
    assert response.status_code == 400, response.json()
    assert message in " ".join(response.json()[field]), response.json()
    assert not Route.objects.exists() and not HostClaim.objects.exists()
    assert queued == []


def batch_url(shop) -> str:
    return f"/api/v1/projects/{shop.name}/routes:batchCreate"


def batch_of(*bodies) -> dict:
    return {"routes": list(bodies)}


@pytest.mark.parametrize(("overrides", "field", "message"), BAD)
def test_a_bad_route_in_a_batch_refuses_the_whole_batch_on_its_field(
    shop, django_capture_on_commit_callbacks, overrides, field, message
):
    good = [route_body(name=f"good-{i}", host=f"good-{i}.example.com") for i in range(2)]
    with django_capture_on_commit_callbacks() as queued:
        response = client_for("olga").post(
            batch_url(shop), batch_of(good[0], route_body(**overrides), good[1]), format="json"
        )
    assert response.status_code == 400, response.json()
    errors = response.json()
    if f"routes.1.{field}" in errors:  # the service's checks: a dotted path into the batch
        assert message in " ".join(errors[f"routes.1.{field}"]), errors
    else:  # the shape checks of the serializer: one entry per route, the bad one's filled in
        assert errors["routes"][0] == {} and errors["routes"][1], errors
    assert not Route.objects.exists() and not HostClaim.objects.exists()
    assert queued == []


def test_a_batch_refuses_names_given_twice_or_taken_and_sizes_out_of_bounds(shop, django_capture_on_commit_callbacks):
    client = client_for("olga")
    assert client.post(f"/api/v1/projects/{shop.name}/routes/", route_body(), format="json").status_code == 201
    with django_capture_on_commit_callbacks() as queued:
        twice = client.post(
            batch_url(shop),
            batch_of(route_body(name="a", host="a.example.com"), route_body(name="a", host="b.example.com")),
            format="json",
        )
        taken = client.post(batch_url(shop), batch_of(route_body(host="c.example.com")), format="json")
        empty = client.post(batch_url(shop), batch_of(), format="json")
        too_many = client.post(
            batch_url(shop), batch_of(*[route_body(name=f"r{i}") for i in range(501)]), format="json"
        )
    assert twice.status_code == 400 and "given twice" in twice.json()["routes.1.name"][0]
    assert taken.status_code == 400 and "already exists" in taken.json()["routes.0.name"][0]
    assert empty.status_code == 400 and "routes" in empty.json()
    assert too_many.status_code == 400 and "500" in str(too_many.json()["routes"])
    assert queued == []
    assert list(Route.objects.values_list("name", flat=True)) == ["front-end"]


def test_a_batch_creates_every_route_and_queues_one_run_for_all(shop, django_capture_on_commit_callbacks):
    bodies = [route_body(name=f"r{i}", host=f"r{i}.example.com", alias=f"R {i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client_for("olga").post(batch_url(shop), batch_of(*bodies), format="json")
    assert response.status_code == 201, response.json()
    answered = response.json()["routes"]
    assert [r["name"] for r in answered] == ["r0", "r1", "r2"] and answered[1]["alias"] == "R 1"
    assert [r["rules"][0]["host"] for r in answered] == ["r0.example.com", "r1.example.com", "r2.example.com"]
    assert len(queued) == 1
    assert set(AuditEntry.objects.filter(kind=AuditEntry.ROUTE).values_list("object_name", "actor_name")) == {
        ("r0", "olga"),
        ("r1", "olga"),
        ("r2", "olga"),
    }
    assert not HostClaim.objects.exists()  # the worker claims the hosts when it reconciles them
    assert client_for("vera").post(batch_url(shop), batch_of(route_body(name="x")), format="json").status_code == 403


def test_duplicate_names_conflict_and_names_never_change(shop, django_capture_on_commit_callbacks):
    client = client_for("olga")
    assert client.post(f"/api/v1/projects/{shop.name}/routes/", route_body(), format="json").status_code == 201
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"/api/v1/projects/{shop.name}/routes/", route_body(), format="json")
        assert response.status_code == 409
        assert "already exists" in response.json()["name"][0]
        renamed = client.put(
            f"/api/v1/projects/{shop.name}/routes/front-end/", route_body(name="back-end"), format="json"
        )
        assert renamed.status_code == 400 and "cannot be changed" in renamed.json()["name"][0]
        patched = client.patch(f"/api/v1/projects/{shop.name}/routes/front-end/", {"name": "back-end"}, format="json")
        assert patched.status_code == 400
    assert queued == []
    assert list(Route.objects.values_list("name", "generation")) == [("front-end", 1)]


def test_a_valid_https_route_with_the_projects_secret_is_created(shop):
    body = route_body(protocol="https", tls_secret="good-tls", host="secure.example.com")
    response = client_for("olga").post(f"/api/v1/projects/{shop.name}/routes/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["rules"][0]["tls_secret"] == "good-tls"
    assert response.json()["gateway"] == f"kubeconsole-{shop.name}"


def test_ingress_nginx_keeps_grpc_in_a_route_of_its_own(shop):
    gateway_services.configure_gateway(shop, flavor="ingress-nginx")
    body = route_body(protocol="grpc", tls_secret="good-tls")
    body["rules"].append(
        {"host": "plain.example.com", "protocol": "http", "paths": [{"path": "/", "service": "web", "port": 80}]}
    )
    response = client_for("olga").post(f"/api/v1/projects/{shop.name}/routes/", body, format="json")
    assert response.status_code == 400
    assert "route of their own" in response.json()["rules"][0]


def test_viewers_cannot_create_edit_or_delete_routes(shop, django_capture_on_commit_callbacks):
    route_services.create_route(shop, route_body())
    client = client_for("vera")
    with django_capture_on_commit_callbacks() as queued:
        assert (
            client.post(f"/api/v1/projects/{shop.name}/routes/", route_body(name="x"), format="json").status_code == 403
        )
        assert (
            client.put(f"/api/v1/projects/{shop.name}/routes/front-end/", route_body(), format="json").status_code
            == 403
        )
        assert (
            client.patch(f"/api/v1/projects/{shop.name}/routes/front-end/", {"alias": "x"}, format="json").status_code
            == 403
        )
        assert client.delete(f"/api/v1/projects/{shop.name}/routes/front-end/").status_code == 403
        assert client.get(f"/api/v1/projects/{shop.name}/services/").status_code == 403
        assert client.get(f"/api/v1/projects/{shop.name}/secrets/").status_code == 403
    assert queued == []
    assert client.get(f"/api/v1/projects/{shop.name}/routes/front-end/").status_code == 200
    assert client.get(f"/api/v1/projects/{shop.name}/routes/front-end/manifest/").status_code == 200


def test_any_reader_sees_the_route_as_gateway_api_objects_with_named_ports_resolved(shop):
    cluster.apply(backend_service(shop.namespace, "gone", 8080, "web"))
    body = route_body(protocol="https", tls_secret="good-tls", host="secure.example.com", port="http")
    body["rules"].append(
        {"host": "shop.example.com", "protocol": "http", "paths": [{"path": "/", "service": "gone", "port": "web"}]}
    )
    assert client_for("olga").post(f"/api/v1/projects/{shop.name}/routes/", body, format="json").status_code == 201
    cluster.delete("v1", "Service", "gone", shop.namespace)
    url = f"/api/v1/projects/{shop.name}/routes/front-end/manifest/"

    answer = client_for("vera").get(url, {"as": "gateway-api"}).json()
    secure, plain = answer["manifests"]
    assert (secure["kind"], secure["spec"]["hostnames"]) == ("HTTPRoute", ["secure.example.com"])
    assert secure["spec"]["rules"][0]["backendRefs"][0]["port"] == 80  # the number of the port named http
    assert secure["spec"]["parentRefs"][0]["sectionName"].startswith("https-")
    assert plain["spec"]["parentRefs"][0]["sectionName"] == "http"
    assert answer["notes"] == ["Service gone has no port named web: a backendRef needs the port's number."]
    assert client_for("vera").get(url).json()["manifests"][0]["kind"] == "Ingress"  # what is applied is unchanged
    refused = client_for("vera").get(url, {"as": "httproute"})
    assert refused.status_code == 400 and "gateway-api" in refused.json()["as"][0]
    hidden = f"/api/v1/projects/{shop.name}-hidden/routes/front-end/manifest/"
    assert client_for("vera").get(hidden, {"as": "gateway-api"}).status_code == 404


def test_routes_of_another_workspace_answer_404(shop):
    client = client_for("alice")
    hidden = f"{shop.name}-hidden"
    for method, url in [
        ("get", f"/api/v1/projects/{hidden}/routes/"),
        ("post", f"/api/v1/projects/{hidden}/routes/"),
        ("get", f"/api/v1/projects/{hidden}/routes/x/"),
        ("put", f"/api/v1/projects/{hidden}/routes/x/"),
        ("delete", f"/api/v1/projects/{hidden}/routes/x/"),
        ("get", f"/api/v1/projects/{hidden}/routes/x/manifest/"),
        ("get", f"/api/v1/projects/{hidden}/services/"),
        ("get", f"/api/v1/projects/{hidden}/secrets/"),
    ]:
        assert getattr(client, method)(url, route_body(), format="json").status_code == 404, url


def test_routes_need_an_enabled_gateway(shop):
    gateway_services.disable_gateway(shop.gateway)
    response = client_for("olga").post(f"/api/v1/projects/{shop.name}/routes/", route_body(), format="json")
    assert response.status_code == 400
    assert response.json()["gateway"] == ["Enable the project's gateway before creating routes."]


def test_list_limits_and_offsets_are_bounded(shop):
    route_services.create_route(shop, route_body())
    client = client_for("vera")
    huge = 10**21
    page = client.get(f"/api/v1/projects/{shop.name}/routes/?limit={huge}")
    assert page.status_code == 200 and [r["name"] for r in page.json()["results"]] == ["front-end"]
    assert client.get(f"/api/v1/projects/{shop.name}/routes/?offset={huge}").json()["results"] == []


def test_list_search_and_ordering(shop):
    for name, host in [("b-route", "b.example.com"), ("a-route", "a.example.com")]:
        route_services.create_route(shop, route_body(name=name, host=host))
    client = client_for("vera")
    names = [r["name"] for r in client.get(f"/api/v1/projects/{shop.name}/routes/").json()["results"]]
    assert names == ["a-route", "b-route"]
    names = [r["name"] for r in client.get(f"/api/v1/projects/{shop.name}/routes/?ordering=-name").json()["results"]]
    assert names == ["b-route", "a-route"]
    found = client.get(f"/api/v1/projects/{shop.name}/routes/?search=b.example").json()
    assert [r["name"] for r in found["results"]] == ["b-route"]


def test_the_list_page_and_the_api_search_alike(shop):
    route_services.create_route(shop, route_body(name="front-end", host="shop.example.com"))
    route_services.create_route(shop, route_body(name="catalogue", host="catalogue.example.com"))
    api, page = client_for("vera"), Client()
    page.force_login(get_user_model().objects.get(username="vera"))
    for words, expected in [("front shop.example", ["front-end"]), ("example", ["catalogue", "front-end"]), ("zz", [])]:
        answered = [
            r["name"] for r in api.get(f"/api/v1/projects/{shop.name}/routes/", {"search": words}).json()["results"]
        ]
        listed = re.findall(
            r'data-route="([^"]+)"', page.get(f"/projects/{shop.name}/routes/", {"q": words}).content.decode()
        )
        assert answered == listed == expected, words


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_keep_annotation_values_as_given(shop, method):
    route_services.create_route(shop, route_body())
    body = {**route_body(), "annotations": {"team": "  socks and shoes "}}
    response = getattr(client_for("olga"), method)(
        f"/api/v1/projects/{shop.name}/routes/front-end/", body, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Route.objects.get(name="front-end").annotations == {"team": "  socks and shoes "}
