"""Routes reconciled into the real API server by a real worker: the KubeSphere SockShop
walk-through over the API, TLS protocols with real secrets, host claims, deletion."""

import pytest
from django.test import Client
from django.urls import reverse

from console import cluster
from console.reconcile import changed, resync
from gateways import services as gateway_services
from gateways.models import AnnotationAllowance, Gateway
from routes import facts as route_facts
from routes import services as route_services
from routes.models import Route
from tenants import services as tenant_services
from tenants.models import Project
from tests.conftest import api_as, backend_service, tls_secret_manifest, wait_for

pytestmark = pytest.mark.cluster


def ready(project_name: str, workspace, by) -> Project:
    project = tenant_services.create_project(workspace=workspace, name=project_name, by=by)
    wait_for(lambda: Project.objects.get(pk=project.pk).state == "Ready", what=f"{project_name} to be Ready")
    return Project.objects.get(pk=project.pk)


def with_gateway(project, **settings) -> Gateway:
    gateway = gateway_services.configure_gateway(project, **settings)
    return wait_for(
        lambda: (g := Gateway.objects.get(pk=gateway.pk)).in_sync and g.node_ports and g, what="the gateway"
    )


def settled(project_name: str, route_name: str) -> Route:
    return wait_for(
        lambda: (r := Route.objects.filter(project__name=project_name, name=route_name).first()) and r.in_sync and r,
        timeout=60,
        what=f"route {route_name} to be reconciled",
    )


def ingress(namespace: str, name: str) -> dict | None:
    return cluster.get("networking.k8s.io/v1", "Ingress", name, namespace)


@pytest.fixture
def sock_shop(live_cluster, workspace, platform_admin):
    project = ready("sock-shop", workspace, platform_admin)
    for name in ("front-end", "catalogue"):
        cluster.apply(backend_service("sock-shop", name))
    return project


def test_sockshop_walk_through_over_the_api(sock_shop, platform_admin, node_address):
    client = api_as(platform_admin)
    assert (
        client.put("/api/v1/projects/sock-shop/gateway/", {"access_mode": "NodePort"}, format="json").status_code == 202
    )
    gateway = wait_for(
        lambda: (g := Gateway.objects.get(project=sock_shop)).in_sync and g.node_ports and g, what="gateway"
    )

    body = {
        "name": "front-end",
        "rules": [
            {"host_mode": "auto", "protocol": "http", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
        ],
    }
    response = client.post("/api/v1/projects/sock-shop/routes/", body, format="json")
    assert response.status_code == 201, response.json()
    host = f"front-end.sock-shop.{node_address}.nip.io"
    assert response.json()["rules"][0]["host"] == ""  # the worker generates it
    route = settled("sock-shop", "front-end")
    assert route.condition("Admitted")["status"] == "True"

    rules = client.get("/api/v1/projects/sock-shop/routes/front-end/").json()["rules"]
    assert (rules[0]["host"], rules[0]["generated_host"]) == ("", host)
    rules[0]["paths"].append({"path": "/catalogue", "path_type": "Prefix", "service": "catalogue", "port": 80})
    response = client.patch("/api/v1/projects/sock-shop/routes/front-end/", {"rules": rules}, format="json")
    assert response.status_code == 200, response.json()
    wait_for(
        lambda: Route.objects.get(pk=route.pk).generation == 2 and Route.objects.get(pk=route.pk).in_sync, what="edit"
    )

    live = ingress("sock-shop", "front-end")
    assert live["spec"]["ingressClassName"] == gateway.ingress_class
    [live_rule] = live["spec"]["rules"]
    assert live_rule["host"] == host
    assert [
        (p["path"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]["number"])
        for p in live_rule["http"]["paths"]
    ] == [
        ("/", "front-end", 80),
        ("/catalogue", "catalogue", 80),
    ]
    status = client.get("/api/v1/projects/sock-shop/routes/front-end/").json()["status"]
    node_port = gateway.node_ports["http"]
    assert status["urls"] == [f"http://{host}:{node_port}/", f"http://{host}:{node_port}/catalogue"]
    conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
    assert conditions["Synced"] == ("True", "Applied")
    assert conditions["Ready"] == ("False", "GatewayNotReady")  # no kubelet here, so the controller never runs

    manifest = client.get("/api/v1/projects/sock-shop/routes/front-end/manifest/").json()["manifests"][0]
    assert manifest["spec"]["rules"] == [{k: v for k, v in live_rule.items()}]


def test_generated_hosts_follow_the_gateway_address(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)
    body = {
        "name": "front-end",
        "rules": [{"host_mode": "auto", "paths": [{"path": "/", "service": "front-end", "port": 80}]}],
    }
    assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201
    settled("sock-shop", "front-end")

    gateway_services.configure_gateway(sock_shop, external_address="203.0.113.7")
    wait_for(
        lambda: (
            (ingress("sock-shop", "front-end") or {}).get("spec", {}).get("rules", [{}])[0].get("host")
            == "front-end.sock-shop.203.0.113.7.nip.io"
        ),
        timeout=60,
        what="the generated host to follow the new address",
    )


def test_wss_and_grpc_routes_carry_the_flavor_annotations_and_tls(sock_shop, platform_admin):
    with_gateway(sock_shop)
    cluster.apply(tls_secret_manifest("sock-shop", "chat-tls", ["chat.example.com"]))
    cluster.apply(tls_secret_manifest("sock-shop", "api-tls", ["api.example.com"]))
    cluster.apply(backend_service("sock-shop", "chat", 8080))
    cluster.apply(backend_service("sock-shop", "greeter", 50051, "grpc"))
    client = api_as(platform_admin)

    secrets = client.get("/api/v1/projects/sock-shop/secrets/").json()
    assert {s["name"]: s["dns_names"] for s in secrets} == {
        "api-tls": ["api.example.com"],
        "chat-tls": ["chat.example.com"],
    }
    assert "tls.key" not in str(secrets) and "BEGIN" not in str(secrets)
    services = client.get("/api/v1/projects/sock-shop/services/").json()
    assert {"name": "greeter", "ports": [{"name": "grpc", "port": 50051, "protocol": "TCP"}]} in services

    for name, protocol, host, secret, service, port in [
        ("chat", "wss", "chat.example.com", "chat-tls", "chat", 8080),
        ("api", "grpc", "api.example.com", "api-tls", "greeter", "grpc"),
    ]:
        body = {
            "name": name,
            "rules": [
                {
                    "host": host,
                    "protocol": protocol,
                    "tls_secret": secret,
                    "paths": [{"path": "/", "service": service, "port": port}],
                }
            ],
        }
        response = client.post("/api/v1/projects/sock-shop/routes/", body, format="json")
        assert response.status_code == 201, response.json()
        settled("sock-shop", name)

    chat = ingress("sock-shop", "chat")
    assert chat["metadata"]["annotations"] == {"nginx.org/websocket-services": "chat"}
    assert chat["spec"]["tls"] == [{"hosts": ["chat.example.com"], "secretName": "chat-tls"}]
    api_route = ingress("sock-shop", "api")
    assert api_route["metadata"]["annotations"] == {"nginx.org/grpc-services": "greeter"}
    assert api_route["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] == {"name": "grpc"}
    gateway = Gateway.objects.get(project=sock_shop)
    urls = client.get("/api/v1/projects/sock-shop/routes/api/").json()["status"]["urls"]
    assert urls == [f"api.example.com:{gateway.node_ports['https']}"]


def test_the_oldest_claim_holds_a_host_and_the_next_is_admitted_when_it_goes(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)

    def create(name):
        body = {
            "name": name,
            "rules": [{"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}],
        }
        assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201

    create("first")
    create("second")
    first, second = settled("sock-shop", "first"), settled("sock-shop", "second")
    assert first.condition("Admitted")["status"] == "True"
    admitted = second.condition("Admitted")
    assert (admitted["status"], admitted["reason"]) == ("False", "HostAlreadyClaimed")
    assert admitted["message"] == "shop.example.com/ is already claimed by the older route first."
    assert second.state == "Not admitted"
    assert ingress("sock-shop", "second") is None

    assert client.delete("/api/v1/projects/sock-shop/routes/first/").status_code == 202
    wait_for(lambda: ingress("sock-shop", "first") is None, what="the first route's Ingress to go")
    wait_for(lambda: ingress("sock-shop", "second") is not None, timeout=60, what="the second route to be admitted")
    assert not Route.objects.filter(name="first").exists()
    assert Route.objects.get(name="second").condition("Admitted")["status"] == "True"


def test_an_old_route_edited_onto_a_taken_host_waits_behind_its_holder(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)

    def body(name, host):
        return {"name": name, "rules": [{"host": host, "paths": [{"path": "/", "service": "front-end", "port": 80}]}]}

    assert (
        client.post("/api/v1/projects/sock-shop/routes/", body("old", "old.example.com"), format="json").status_code
        == 201
    )
    assert (
        client.post("/api/v1/projects/sock-shop/routes/", body("new", "new.example.com"), format="json").status_code
        == 201
    )
    settled("sock-shop", "old"), settled("sock-shop", "new")

    assert (
        client.put("/api/v1/projects/sock-shop/routes/old/", body("old", "new.example.com"), format="json").status_code
        == 200
    )
    wait_for(
        lambda: Route.objects.get(name="old").generation == 2 and Route.objects.get(name="old").in_sync, what="edit"
    )
    assert Route.objects.get(name="old").condition("Admitted")["reason"] == "HostAlreadyClaimed"
    assert Route.objects.get(name="new").condition("Admitted")["status"] == "True"
    assert ingress("sock-shop", "old") is None


def test_a_host_used_by_one_project_cannot_be_claimed_from_another(sock_shop, workspace, platform_admin):
    with_gateway(sock_shop)
    other = ready("other-shop", workspace, platform_admin)
    cluster.apply(backend_service("other-shop", "web"))
    with_gateway(other)
    client = api_as(platform_admin)
    body = {
        "name": "shop",
        "rules": [{"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}],
    }
    assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201
    settled("sock-shop", "shop")
    body = {
        "name": "copycat",
        "rules": [{"host": "shop.example.com", "paths": [{"path": "/other", "service": "web", "port": 80}]}],
    }
    assert client.post("/api/v1/projects/other-shop/routes/", body, format="json").status_code == 201

    copycat = settled("other-shop", "copycat")
    admitted = copycat.condition("Admitted")
    assert (admitted["status"], admitted["reason"]) == ("False", "HostAlreadyClaimed")
    assert admitted["message"] == "Host shop.example.com is already used by another project."
    assert "sock-shop" not in str(copycat.conditions)
    assert ingress("other-shop", "copycat") is None


def test_deleting_a_route_removes_its_ingress_then_the_row(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)
    body = {
        "name": "gone",
        "rules": [{"host": "gone.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}],
    }
    client.post("/api/v1/projects/sock-shop/routes/", body, format="json")
    settled("sock-shop", "gone")
    assert ingress("sock-shop", "gone") is not None
    assert client.delete("/api/v1/projects/sock-shop/routes/gone/").status_code == 202
    wait_for(lambda: not Route.objects.filter(name="gone").exists(), what="the route row to go")
    assert ingress("sock-shop", "gone") is None


def test_a_backend_gone_after_the_route_is_a_warning_and_a_disabled_gateway_parks_routes(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)
    body = {
        "name": "early",
        "rules": [{"host": "early.example.com", "paths": [{"path": "/", "service": "not-yet", "port": 80}]}],
    }
    refused = client.post("/api/v1/projects/sock-shop/routes/", body, format="json")
    assert refused.json() == {"rules.0.paths.0.service": ["There is no Service not-yet in this project."]}
    cluster.apply(backend_service("sock-shop", "not-yet"))
    assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201
    settled("sock-shop", "early")
    cluster.delete("v1", "Service", "not-yet", "sock-shop")
    changed(Route.objects.get(name="early"))  # reconciled again, as the next edit or pass would
    route = settled("sock-shop", "early")
    ready_condition = route.condition("Ready")
    assert (ready_condition["reason"], ready_condition["message"]) == (
        "BackendNotFound",
        "Not found in this project (yet): not-yet:80.",
    )
    assert ingress("sock-shop", "early") is not None

    gateway_services.disable_gateway(Gateway.objects.get(project=sock_shop))
    wait_for(
        lambda: Route.objects.get(pk=route.pk).state == "Gateway disabled", timeout=60, what="the route to be parked"
    )
    assert ingress("sock-shop", "early") is None
    assert Route.objects.get(pk=route.pk).urls == []

    with_gateway(sock_shop)  # enabled again: the parked route is applied again, though it did not change
    wait_for(lambda: ingress("sock-shop", "early"), timeout=60, what="the route to be served again")


@pytest.fixture
def traefik_crd(live_cluster, ingress_route_crd):
    """Traefik's IngressRoute CRD, with the worker running."""


def test_traefik_gateways_get_ingress_routes_when_the_cluster_serves_them(sock_shop, platform_admin, traefik_crd):
    cluster.apply(tls_secret_manifest("sock-shop", "api-tls", ["api.example.com"]))
    cluster.apply(backend_service("sock-shop", "greeter", 50051, "grpc"))
    with_gateway(sock_shop, flavor="traefik")
    body = {
        "name": "api",
        "rules": [
            {
                "host": "api.example.com",
                "protocol": "grpc",
                "tls_secret": "api-tls",
                "paths": [{"path": "/", "service": "greeter", "port": 50051}],
            }
        ],
    }
    assert api_as(platform_admin).post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201

    def ingress_route():
        return cluster.get("traefik.io/v1alpha1", "IngressRoute", "api", "sock-shop")

    live = wait_for(ingress_route, timeout=60, what="the IngressRoute")
    assert live["spec"]["routes"][0]["services"] == [{"name": "greeter", "port": 50051, "scheme": "h2c"}]
    assert live["spec"]["tls"] == {"secretName": "api-tls"}
    assert ingress("sock-shop", "api") is None

    # Moving to another flavor replaces the IngressRoute with an Ingress.
    gateway_services.configure_gateway(sock_shop, flavor="nginx-inc")
    wait_for(
        lambda: ingress("sock-shop", "api") is not None and ingress_route() is None,
        timeout=60,
        what="an Ingress instead",
    )


def test_a_gateway_api_route_naming_a_port_waits_for_its_number_then_is_applied(sock_shop, gateway_api_crds):
    """A backendRef needs a port's number: until a Service has the named port the route is not
    applied (BackendNotFound); once one has it, the periodic pass serves it with the number. Such a
    route gets in when the door could not list the project's Services (the worker checks again)."""
    with_gateway(sock_shop, flavor="traefik", route_api="gateway-api")
    body = {"name": "named", "rules": [{"host": "named.example.com", "paths": [{"service": "cart", "port": "grpc"}]}]}
    unknown = route_facts.Facts(services=None, tls_secrets=None, ingress_routes=False, trouble="timed out")
    route_services.create_route(sock_shop, body, ctx=route_services.context(sock_shop, facts=unknown))
    waiting = settled("sock-shop", "named")
    assert waiting.condition("Ready")["reason"] == "BackendNotFound"
    assert "cart:grpc" in waiting.condition("Ready")["message"]
    assert not cluster.get("gateway.networking.k8s.io/v1", "HTTPRoute", "named", "sock-shop")

    cluster.apply(backend_service("sock-shop", "cart", 9000, "grpc"))
    resync()  # a route waiting on others gets another look
    served = wait_for(
        lambda: cluster.get("gateway.networking.k8s.io/v1", "HTTPRoute", "named", "sock-shop"), what="the HTTPRoute"
    )
    assert served["spec"]["rules"][0]["backendRefs"][0]["port"] == 9000


def revoke(platform_admin, key: str) -> None:
    """Takes an allowance back as a platform admin does, in the Django admin."""
    admin = Client()
    admin.force_login(platform_admin)
    allowance = AnnotationAllowance.objects.get(key=key)
    deleted = admin.post(reverse("admin:gateways_annotationallowance_delete", args=[allowance.pk]), {"post": "yes"})
    assert deleted.status_code == 302


def test_a_revoked_allowance_stops_rendering_says_so_and_the_next_edit_must_drop_it(sock_shop, platform_admin):
    with_gateway(sock_shop)
    AnnotationAllowance.objects.create(target="route", key="example.com/team", kind="text")
    client = api_as(platform_admin)
    body = {
        "name": "team",
        "rules": [{"host": "team.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}],
        "annotations": {"example.com/team": "checkout"},
    }
    assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201
    settled("sock-shop", "team")
    assert ingress("sock-shop", "team")["metadata"]["annotations"] == {"example.com/team": "checkout"}

    revoke(platform_admin, "example.com/team")
    wait_for(
        lambda: "example.com/team" not in (ingress("sock-shop", "team")["metadata"].get("annotations") or {}),
        what="the key to leave the Ingress",
    )
    accepted = wait_for(lambda: (c := Route.objects.get(name="team").condition("Accepted"))["status"] == "False" and c)
    assert accepted["reason"] == "AnnotationNotAllowed"
    assert "example.com/team" in accepted["message"] and "Remove them at the next edit" in accepted["message"]

    rules = client.get("/api/v1/projects/sock-shop/routes/team/").json()["rules"]
    rules[0]["paths"][0]["path"] = "/shop"
    edit = client.patch("/api/v1/projects/sock-shop/routes/team/", {"rules": rules}, format="json")
    assert edit.status_code == 400 and "example.com/team" in " ".join(edit.json()["annotations"])
    dropped = client.patch("/api/v1/projects/sock-shop/routes/team/", {"annotations": {}}, format="json")
    assert dropped.status_code == 200
    wait_for(lambda: Route.objects.get(name="team").generation == 2 and Route.objects.get(name="team").in_sync)
    assert Route.objects.get(name="team").condition("Accepted")["status"] == "True"


def test_a_revoked_service_annotation_allowance_leaves_the_gateways_service(
    sock_shop, platform_admin, shipped_allowances
):
    key = "service.beta.kubernetes.io/aws-load-balancer-internal"
    gateway = with_gateway(sock_shop, service_annotations={key: "true"})

    def on_service() -> dict:
        return cluster.get("v1", "Service", "kubeconsole-gateway", "sock-shop")["metadata"].get("annotations") or {}

    assert on_service()[key] == "true"
    revoke(platform_admin, key)
    wait_for(lambda: key not in on_service(), what="the annotation to leave the Service")
    accepted = wait_for(lambda: Gateway.objects.get(pk=gateway.pk).condition("Accepted"))
    assert (accepted["status"], accepted["reason"]) == ("False", "AnnotationNotAllowed") and key in accepted["message"]


def test_a_service_turned_externalname_after_the_route_takes_the_route_out_of_the_cluster(sock_shop, platform_admin):
    with_gateway(sock_shop)
    client = api_as(platform_admin)
    body = {
        "name": "web",
        "rules": [{"host": "web.example.com", "paths": [{"path": "/", "service": "catalogue", "port": 80}]}],
    }
    assert client.post("/api/v1/projects/sock-shop/routes/", body, format="json").status_code == 201
    settled("sock-shop", "web")
    assert ingress("sock-shop", "web") is not None

    cluster.delete("v1", "Service", "catalogue", "sock-shop")
    wait_for(lambda: cluster.get("v1", "Service", "catalogue", "sock-shop") is None, what="the Service to go")
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "catalogue", "namespace": "sock-shop"},
            "spec": {"type": "ExternalName", "externalName": "kubernetes.default.svc.cluster.local"},
        }
    )
    with_gateway(sock_shop, replicas=2)  # routes follow their gateway: the worker looks at this one again
    wait_for(lambda: ingress("sock-shop", "web") is None, what="the Ingress to leave the cluster")
    ready = wait_for(
        lambda: (c := Route.objects.get(name="web").condition("Ready"))["reason"] == "ExternalNameBackend" and c
    )
    assert "catalogue is of type ExternalName" in ready["message"]
