"""Through the controller, for real: a project's gateway runs in a pod on the local node, the demo
backend's pods answer behind the project's Services, and every request below crosses the gateway's
node port, the controller and the pod network, as a user's would. Nothing is mocked. The console's
worker reconciles everything; the tests only use the services a page or the API calls.

The protocol matrix (the tests marked EVERY_FLAVOR) runs once per flavor whose controller runs here:
Traefik, and the F5 NGINX Ingress Controller (nginx-inc)."""

import base64
import re
import ssl
import time

import grpc
import pytest
import websocket
from django.test import Client
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.node import Outage
from console import cluster
from console.cluster import label_key
from gateways import services as gateway_services
from gateways.flavors import FLAVORS
from gateways.models import Gateway
from gateways.reconcile import earlier_controller_serving
from routes import services as route_services
from routes import spec as route_spec
from routes.models import Route
from tests.conftest import (
    LOCAL_FLAVORS,
    backend_service,
    run_demo_backends,
    skip_unless_the_node_runs,
    tls_secret_manifest,
    wait_for,
)
from tests.gateway_client import ask, served

pytestmark = [
    pytest.mark.cluster,
]


def controller_pods(project) -> list[dict]:
    """The project's gateway controller pods (the console itself never reads pods)."""
    query = [("labelSelector", f"kubeconsole.io/gateway={project.name}")]
    return cluster.request("GET", f"/api/v1/namespaces/{project.namespace}/pods", query=query)["items"]


def pem_of(secret: dict) -> bytes:
    return base64.b64decode(secret["data"]["tls.crt"])


def der_of(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.decode())


EVERY_FLAVOR = pytest.mark.parametrize("flavor", list(LOCAL_FLAVORS))


@pytest.fixture
def flavor() -> str:
    """The gateway's controller: Traefik, but for the tests marked EVERY_FLAVOR."""
    return "traefik"


@pytest.fixture
def gateway_settings() -> dict:
    """Further settings the gateway starts with (a test parametrises it): none but the defaults."""
    return {}


@pytest.fixture
def shop(node, control_plane, ready_project, flavor, gateway_settings):
    """A ready project with the demo backends front-end and catalogue running, and a NodePort
    gateway of `flavor` (with `gateway_settings`) whose controller runs and is ready."""
    skip_unless_the_node_runs(control_plane, flavor)
    run_demo_backends(control_plane, ready_project.namespace)
    gateway = gateway_services.configure_gateway(
        ready_project, flavor=flavor, access_mode="NodePort", **gateway_settings
    )
    ready_gateway(gateway.pk)
    return ready_project


def ready_gateway(pk: int, replicas: int = 1) -> Gateway:
    """The gateway once its controller is ready and no pod of an earlier configuration is left: one
    that is stopping still answers for a moment, with the routes it knew."""
    gateway = wait_for(
        lambda: (g := Gateway.objects.get(pk=pk)).state == "Ready" and g.ready_replicas == replicas and g,
        timeout=90,
        what=f"the gateway's controller to be ready with {replicas} replica(s)",
    )
    wait_for(lambda: only_current_pods(gateway.project), timeout=90, what="the controller's earlier pods to be gone")
    return gateway


def only_current_pods(project) -> bool:
    deployment = cluster.get("apps/v1", "Deployment", "kubeconsole-gateway", project.namespace)
    current = deployment["spec"]["template"]["metadata"]["annotations"][label_key("config-hash")]
    pods = controller_pods(project)
    return bool(pods) and all(
        not pod["metadata"].get("deletionTimestamp")
        and (pod["metadata"].get("annotations") or {}).get(label_key("config-hash")) == current
        for pod in pods
    )


def ready_route(project, body: dict) -> Route:
    route = route_services.create_route(project, body)
    return wait_for(
        lambda: (r := Route.objects.get(pk=route.pk)).state == "Ready" and r,
        timeout=60,
        what=f"route {body['name']} to be Ready",
    )


def gateway_of(project) -> tuple[str, int, int]:
    """(the node address, the http node port, the https node port) where the gateway answers."""
    gateway = Gateway.objects.get(project=project)
    return gateway.addresses[0], gateway.node_ports["http"], gateway.node_ports["https"]


def paths(*pairs, port=80) -> list[dict]:
    return [{"path": path, "service": service, "port": port} for path, service in pairs]


@EVERY_FLAVOR
def test_a_gateway_becomes_ready_and_scales(shop):
    gateway = Gateway.objects.get(project=shop)
    assert gateway.condition("Ready")["message"] == "All 1 ingress controller replicas are ready."
    gateway_services.configure_gateway(shop, replicas=2)
    gateway = ready_gateway(gateway.pk, replicas=2)
    assert gateway.condition("Ready")["message"] == "All 2 ingress controller replicas are ready."
    assert len([pod for pod in controller_pods(shop) if pod["status"].get("phase") == "Running"]) == 2


@EVERY_FLAVOR
def test_http_routes_reach_the_right_pod_and_path(shop):
    address, http_port, _ = gateway_of(shop)
    auto = ready_route(
        shop,
        {
            "name": "shop",
            "rules": [{"host_mode": "auto", "paths": paths(("/", "front-end"), ("/catalogue", "catalogue"))}],
        },
    )
    host = auto.rules.get().generated_host
    assert host == f"front-end.{shop.name}.{address}.nip.io"
    front = wait_for(lambda: served(address, http_port, host, "/basket"), what="the auto host to be served")
    assert (front.json["service"], front.json["path"], front.json["host"]) == ("front-end", "/basket", host)
    assert front.json["pod"].startswith("front-end-")
    catalogue = served(address, http_port, host, "/catalogue/socks")  # the longer path wins
    assert (catalogue.json["service"], catalogue.json["path"]) == ("catalogue", "/catalogue/socks")

    ready_route(shop, {"name": "custom", "rules": [{"host": "socks.example.com", "paths": paths(("/", "catalogue"))}]})
    custom = wait_for(lambda: served(address, http_port, "socks.example.com"), what="the custom host")
    assert custom.json["service"] == "catalogue"
    assert ask(address, http_port, "nobody.example.com").status == 404  # hosts no route claims


@EVERY_FLAVOR
def test_https_presents_the_routes_certificate_for_its_host(shop):
    address, _, https_port = gateway_of(shop)
    secret = tls_secret_manifest(shop.namespace, "shop-tls", ["secure.example.com"])
    cluster.apply(secret)
    rule = {
        "host": "secure.example.com",
        "protocol": "https",
        "tls_secret": "shop-tls",
        "paths": paths(("/", "front-end")),
    }
    ready_route(shop, {"name": "secure", "rules": [rule]})
    # A controller may serve a new host a moment before its certificate: wait for the route's.
    ours = der_of(pem_of(secret))
    answer = wait_for(
        lambda: (a := served(address, https_port, "secure.example.com", tls=True)) and a.certificate == ours and a,
        what="the route's certificate to be presented for its host",
    )
    assert (answer.json["service"], answer.json["tls"]) == ("front-end", False)  # TLS ends at the gateway
    assert presented(address, https_port, "other.example.com") != ours  # chosen by SNI


def presented(address: str, port: int, host: str) -> bytes:
    """The certificate the gateway presents for `host`; b"" when it refuses the handshake (NGINX
    does for a host it serves no route of)."""
    try:
        return ask(address, port, host, tls=True).certificate
    except ssl.SSLError:
        return b""


def websocket_echo(url: str, host: str, message: str) -> str:
    """What a websocket at `url` (through the gateway, for `host`) answers to `message`."""
    tls = {"cert_reqs": ssl.CERT_NONE, "check_hostname": False, "server_hostname": host}
    connection = websocket.create_connection(url, host=host, timeout=5, sslopt=tls if url.startswith("wss") else None)
    connection.send(message)
    reply = connection.recv()
    connection.close()
    return reply


def chat_rules(project) -> list[dict]:
    """A wss rule to front-end and a ws rule to catalogue."""
    cluster.apply(tls_secret_manifest(project.namespace, "chat-tls", ["chat.example.com"]))
    return [
        {"host": "chat.example.com", "protocol": "wss", "tls_secret": "chat-tls", "paths": paths(("/", "front-end"))},
        {"host": "live.example.com", "protocol": "ws", "paths": paths(("/", "catalogue"))},
    ]


def assert_chats(address: str, http_port: int, https_port: int) -> None:
    reply = wait_for(
        lambda: (
            served(address, http_port, "live.example.com")
            and websocket_echo(f"ws://{address}:{http_port}/socket", "live.example.com", "hello")
        ),
        what="the ws rule to be served",
    )
    assert reply.startswith("catalogue-") and reply.endswith(": hello")  # the catalogue pod echoed it
    reply = wait_for(
        lambda: (
            served(address, https_port, "chat.example.com", tls=True)
            and websocket_echo(f"wss://{address}:{https_port}/socket", "chat.example.com", "over tls")
        ),
        what="the wss rule to be served",
    )
    assert reply.startswith("front-end-") and reply.endswith(": over tls")


@EVERY_FLAVOR
def test_websockets_echo_through_the_gateway(shop):
    address, http_port, https_port = gateway_of(shop)
    ready_route(shop, {"name": "chat", "rules": chat_rules(shop)})
    assert_chats(address, http_port, https_port)


def rpc_rule(project, host: str) -> tuple[dict, dict]:
    """A grpc rule for `host` to front-end's gRPC port, and its TLS secret."""
    secret = tls_secret_manifest(project.namespace, "rpc-tls", [host])
    cluster.apply(secret)
    return {
        "host": host,
        "protocol": "grpc",
        "tls_secret": "rpc-tls",
        "paths": paths(("/", "front-end"), port=9090),
    }, secret


def assert_grpc_echoes(address: str, https_port: int, host: str, secret: dict) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=pem_of(secret))
    options = [("grpc.ssl_target_name_override", host), ("grpc.default_authority", host)]
    with grpc.secure_channel(f"{address}:{https_port}", credentials, options=options) as channel:
        health = health_pb2_grpc.HealthStub(channel)

        def healthy():
            try:
                return health.Check(health_pb2.HealthCheckRequest(), timeout=5).status
            except grpc.RpcError:
                return None

        assert (
            wait_for(healthy, what="the gRPC health check through the gateway")
            == health_pb2.HealthCheckResponse.SERVING
        )
        echo = channel.unary_unary(
            "/demo.Echo/Echo",
            request_serializer=wrappers_pb2.StringValue.SerializeToString,
            response_deserializer=wrappers_pb2.StringValue.FromString,
        )
        reply = echo(wrappers_pb2.StringValue(value="ping"), timeout=5).value
    # TLS ended at the gateway, which spoke h2c to the backend.
    assert reply.startswith("front-end/front-end-") and reply.endswith(f"({host}): ping")


@EVERY_FLAVOR
def test_grpc_health_and_echo_through_the_gateway(shop):
    address, _, https_port = gateway_of(shop)
    rule, secret = rpc_rule(shop, "rpc.example.com")
    ready_route(shop, {"name": "rpc", "rules": [rule]})
    assert_grpc_echoes(address, https_port, "rpc.example.com", secret)


def on_route_api(request, project, route_api: str) -> None:
    """The shop's gateway serving its routes as `route_api` says, ready."""
    if route_api == "gateway-api":
        request.getfixturevalue("gateway_api_crds")
        ready_gateway(gateway_services.configure_gateway(project, route_api=route_api).pk)


ROUTE_APIS = pytest.mark.parametrize("route_api", ["ingress", "gateway-api"])


@pytest.mark.parametrize(
    ("flavor", "route_api"), [("traefik", "ingress"), ("traefik", "gateway-api"), ("nginx-inc", "ingress")]
)
def test_a_route_not_admitted_is_not_served_until_the_holder_goes(shop, request, route_api):
    """The console's host claims decide before anything is applied, whatever the routes become."""
    on_route_api(request, shop, route_api)
    address, http_port, _ = gateway_of(shop)
    holder = ready_route(
        shop, {"name": "holder", "rules": [{"host": "claims.example.com", "paths": paths(("/shop", "front-end"))}]}
    )
    latecomer = route_services.create_route(
        shop,
        {
            "name": "latecomer",
            "rules": [{"host": "claims.example.com", "paths": paths(("/shop", "catalogue"), ("/late", "catalogue"))}],
        },
    )
    wait_for(lambda: Route.objects.get(pk=latecomer.pk).state == "Not admitted", what="the latecomer to be refused")
    wait_for(lambda: served(address, http_port, "claims.example.com", "/shop"), what="the holder to be served")
    assert served(address, http_port, "claims.example.com", "/shop").json["service"] == "front-end"
    assert ask(address, http_port, "claims.example.com", "/late").status == 404  # the controller never got it

    route_services.delete_route(holder)
    answer = wait_for(lambda: served(address, http_port, "claims.example.com", "/late"), what="the latecomer served")
    assert answer.json["service"] == "catalogue"
    assert served(address, http_port, "claims.example.com", "/shop").json["service"] == "catalogue"


@EVERY_FLAVOR
def test_disabling_the_gateway_stops_its_controller_and_re_enabling_serves_again(shop, flavor):
    address, http_port, _ = gateway_of(shop)
    route = ready_route(
        shop, {"name": "shop", "rules": [{"host": "shop.example.com", "paths": paths(("/", "front-end"))}]}
    )
    wait_for(lambda: served(address, http_port, "shop.example.com"), what="the route to be served")

    gateway_services.disable_gateway(Gateway.objects.get(project=shop))
    wait_for(lambda: not controller_pods(shop), timeout=60, what="the controller pod to be gone")
    wait_for(lambda: Route.objects.get(pk=route.pk).state == "Gateway disabled", what="the route to show it")
    assert served(address, http_port, "shop.example.com") is None

    gateway = gateway_services.configure_gateway(shop, flavor=flavor, access_mode="NodePort")
    ready_gateway(gateway.pk)
    address, http_port, _ = gateway_of(shop)
    answer = wait_for(lambda: served(address, http_port, "shop.example.com"), timeout=60, what="the route served again")
    assert answer.json["service"] == "front-end"
    wait_for(lambda: Route.objects.get(pk=route.pk).state == "Ready", what="the route to show Ready again")


@EVERY_FLAVOR
def test_a_route_whose_service_is_gone_fails_alone(shop, flavor):
    """A route's Service deleted after the route was made: the gateway answers its host with an
    error of its own, never another Service's page, and the route beside it is served."""
    address, http_port, _ = gateway_of(shop)
    ready_route(shop, {"name": "shop", "rules": [{"host": "shop.example.com", "paths": paths(("/", "front-end"))}]})
    cluster.apply(backend_service(shop.namespace, "ghost"))
    route_services.create_route(
        shop, {"name": "ghost", "rules": [{"host": "ghost.example.com", "paths": paths(("/", "ghost"))}]}
    )
    cluster.delete("v1", "Service", "ghost", shop.namespace)
    wait_for(lambda: served(address, http_port, "shop.example.com"), what="the route beside it to be served")
    answer = wait_for(
        lambda: (a := ask(address, http_port, "ghost.example.com")).status == NO_BACKEND[flavor] and a,
        what=f"the gateway to answer {NO_BACKEND[flavor]} for the route without a Service",
    )
    assert b"front-end" not in answer.body and b"catalogue" not in answer.body
    assert served(address, http_port, "shop.example.com").json["service"] == "front-end"


# What each controller answers for a path whose Service does not exist.
NO_BACKEND = {"traefik": 404, "nginx-inc": 502}


@EVERY_FLAVOR
@pytest.mark.parametrize("gateway_settings", [{"config": {"read-timeout": "2"}}])
def test_the_gateways_read_timeout_answers_504_for_a_slower_backend(shop):
    """read-timeout: 2 seconds. The backend answering in 4 s gets the client a 504 after about 2 s;
    one answering in 0.5 s gets through."""
    address, http_port, _ = gateway_of(shop)
    ready_route(shop, {"name": "slow", "rules": [{"host": "slow.example.com", "paths": paths(("/", "front-end"))}]})
    wait_for(lambda: served(address, http_port, "slow.example.com"), what="the route to be served")
    assert ask(address, http_port, "slow.example.com", "/?delay=500ms").status == 200
    started = time.monotonic()
    assert ask(address, http_port, "slow.example.com", "/?delay=4s", timeout=10).status == 504
    assert 1.5 <= time.monotonic() - started < 3.9


def test_traefik_with_tracing_passes_a_trace_context_to_the_backend(shop):
    """tracing on: Traefik starts with an OTLP tracer and each request reaches the backend with a W3C
    traceparent of its own; with tracing off, none."""
    address, http_port, _ = gateway_of(shop)
    ready_route(shop, {"name": "traced", "rules": [{"host": "traced.example.com", "paths": paths(("/", "front-end"))}]})
    untraced = wait_for(lambda: served(address, http_port, "traced.example.com"), what="the route to be served")
    assert untraced.json["traceparent"] == ""
    ready_gateway(gateway_services.configure_gateway(shop, tracing=True).pk)
    traced = wait_for(lambda: served(address, http_port, "traced.example.com"), what="the route to be served again")
    first, second = traced.json["traceparent"], served(address, http_port, "traced.example.com").json["traceparent"]
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]", first), first
    assert first.split("-")[1] != second.split("-")[1]  # a trace per request


def nginx_configuration(kubectl, project) -> str:
    """What `nginx -T` prints in the gateway's controller pod: the configuration NGINX runs."""
    return kubectl("exec", "-n", project.namespace, "deploy/kubeconsole-gateway", "--", "nginx", "-T")


def controller_log(kubectl, project) -> str:
    return kubectl("logs", "-n", project.namespace, "deploy/kubeconsole-gateway")


NGINX_SETTINGS = {
    "config": {"body-size": "1k", "connect-timeout": "3", "send-timeout": "4", "read-timeout": "5"},
    "external_address": "203.0.113.9",
}


@pytest.mark.parametrize(("flavor", "gateway_settings"), [("nginx-inc", NGINX_SETTINGS)])
def test_nginx_inc_takes_up_the_gateways_settings(shop, kubectl, node_address):
    """body-size over the limit gets 413; the timeouts are in the configuration NGINX runs, which
    `nginx -t` accepts; the configured address is written into the Ingresses' status; the controller,
    as the gateway's ServiceAccount, was forbidden nothing."""
    _, http_port, _ = gateway_of(shop)
    ready_route(shop, {"name": "up", "rules": [{"host": "up.example.com", "paths": paths(("/", "front-end"))}]})
    wait_for(lambda: served(node_address, http_port, "up.example.com"), what="the route to be served")
    assert ask(node_address, http_port, "up.example.com", body=b"x" * 1000).json["received"] == 1000
    assert ask(node_address, http_port, "up.example.com", body=b"x" * 2000).status == 413

    configuration = nginx_configuration(kubectl, shop)
    for directive in ("client_max_body_size 1k;", "proxy_connect_timeout 3s;", "proxy_send_timeout 4s;"):
        assert directive in configuration, directive
    assert "proxy_read_timeout 5s;" in configuration
    assert "http2 on;" in configuration  # on the TLS listener, for gRPC
    kubectl("exec", "-n", shop.namespace, "deploy/kubeconsole-gateway", "--", "nginx", "-t")

    def ingress_status():
        ingress = cluster.get("networking.k8s.io/v1", "Ingress", "up", shop.namespace)
        return (ingress.get("status", {}).get("loadBalancer") or {}).get("ingress")

    # Once it leads (after a settings change, the replaced pod may hold the lease until it lapses).
    status = wait_for(ingress_status, timeout=90, what="the controller to write the Ingress's status")
    assert status == [{"ip": "203.0.113.9"}]
    assert "forbidden" not in controller_log(kubectl, shop).lower()


NGINX_ORG = "nginx.org/"


@pytest.mark.parametrize("flavor", ["nginx-inc"])
def test_nginx_inc_route_annotations_take_effect_for_that_route_only(shop, kubectl):
    """Each annotation family the console allows on an nginx-inc route, through the controller: the
    limited route refuses a 2 KiB body and times out a slow answer, the plain one beside it does
    neither; ssl-services makes the gateway speak TLS to the backend; the load-balancing keys shape
    that route's upstream alone."""
    address, http_port, _ = gateway_of(shop)
    limited = {
        NGINX_ORG + "client-max-body-size": "1k",
        NGINX_ORG + "proxy-read-timeout": "2s",
        NGINX_ORG + "proxy-connect-timeout": "3s",
        NGINX_ORG + "proxy-send-timeout": "4s",
        NGINX_ORG + "proxy-buffering": "false",
        NGINX_ORG + "lb-method": "ip_hash",
        NGINX_ORG + "max-fails": "7",
        NGINX_ORG + "fail-timeout": "9s",
        NGINX_ORG + "keepalive": "16",
    }
    rule = {"host": "limited.example.com", "paths": paths(("/", "front-end"))}
    ready_route(shop, {"name": "limited", "rules": [rule], "annotations": limited})
    ready_route(shop, {"name": "plain", "rules": [{"host": "plain.example.com", "paths": paths(("/", "front-end"))}]})
    secure = {"host": "backend-tls.example.com", "paths": paths(("/", "catalogue"), port=443)}
    ready_route(shop, {"name": "tls", "rules": [secure], "annotations": {NGINX_ORG + "ssl-services": "catalogue"}})
    for host in ("limited.example.com", "plain.example.com", "backend-tls.example.com"):
        wait_for(lambda host=host: served(address, http_port, host), what=f"{host} to be served")

    assert ask(address, http_port, "limited.example.com", body=b"x" * 2000).status == 413
    assert ask(address, http_port, "plain.example.com", body=b"x" * 2000).json["received"] == 2000
    assert ask(address, http_port, "limited.example.com", "/?delay=4s", timeout=10).status == 504
    assert ask(address, http_port, "plain.example.com", "/?delay=4s", timeout=10).status == 200
    assert served(address, http_port, "backend-tls.example.com").json["tls"] is True  # HTTPS to catalogue:443

    servers = server_blocks(nginx_configuration(kubectl, shop))
    for directive in ("proxy_connect_timeout 3s;", "proxy_send_timeout 4s;", "proxy_buffering off;"):
        assert directive in servers["limited.example.com"] and directive not in servers["plain.example.com"]
    upstreams = upstream_blocks(nginx_configuration(kubectl, shop))
    [limited_upstream] = [text for name, text in upstreams.items() if name.startswith(f"{shop.namespace}-limited-")]
    [plain_upstream] = [text for name, text in upstreams.items() if name.startswith(f"{shop.namespace}-plain-")]
    for directive in ("ip_hash;", "max_fails=7", "fail_timeout=9s", "keepalive 16;"):
        assert directive in limited_upstream and directive not in plain_upstream, directive


def server_blocks(configuration: str) -> dict[str, str]:
    """The text of each `server` block of an nginx -T output by its server_name."""
    blocks = {}
    for block in re.split(r"\n\s*server \{", configuration)[1:]:
        name = re.search(r"server_name\s+([^;\s]+)", block)
        if name:
            blocks[name.group(1)] = block
    return blocks


def upstream_blocks(configuration: str) -> dict[str, str]:
    """The text of each `upstream` block of an nginx -T output by its name."""
    return dict(re.findall(r"upstream\s+(\S+)\s*\{(.*?)\n\s*\}", configuration, flags=re.S))


TRAEFIK = "traefik.ingress.kubernetes.io/"


def test_a_sticky_cookie_keeps_a_client_on_one_pod_while_others_are_spread(shop, control_plane):
    """service.sticky.cookie, rendered as the IngressRoute service's sticky cookie, through Traefik."""
    run_demo_backends(control_plane, shop.namespace, names=("catalogue",), replicas=2)
    address, http_port, _ = gateway_of(shop)
    sticky = {TRAEFIK + "service.sticky.cookie": "true", TRAEFIK + "service.sticky.cookie.name": "shop_pod"}
    body = {"name": "sticky", "rules": [{"host": "sticky.example.com", "paths": paths(("/", "catalogue"))}]}
    ready_route(shop, {**body, "annotations": sticky})
    wait_for(lambda: served(address, http_port, "sticky.example.com"), what="the sticky route")
    # Both replicas in the controller's endpoints first: it takes up the second a moment after it is ready.
    wait_for(
        lambda: len({ask(address, http_port, "sticky.example.com").json["pod"] for _ in range(10)}) == 2,
        what="both catalogue replicas to answer",
    )
    first = served(address, http_port, "sticky.example.com")
    cookie = first.headers.get("set-cookie", "").split(";")[0]
    assert cookie.startswith("shop_pod="), first.headers
    kept = {ask(address, http_port, "sticky.example.com", headers={"Cookie": cookie}).json["pod"] for _ in range(12)}
    assert kept == {first.json["pod"]}
    spread = {ask(address, http_port, "sticky.example.com").json["pod"] for _ in range(20)}
    assert len(spread) == 2, spread  # without the cookie, both replicas answer


def test_a_route_priority_decides_between_overlapping_paths(shop):
    """router.priority, rendered as the IngressRoute route's priority: Traefik otherwise lets the
    longer rule win, so /catalogue/... goes to the catalogue route until the / route outranks it."""
    address, http_port, _ = gateway_of(shop)
    host = "priority.example.com"
    ready_route(shop, {"name": "everything", "rules": [{"host": host, "paths": paths(("/", "front-end"))}]})
    ready_route(shop, {"name": "catalogue", "rules": [{"host": host, "paths": paths(("/catalogue", "catalogue"))}]})
    answer = wait_for(
        lambda: (a := served(address, http_port, host, "/catalogue/socks")) and a.json["service"] == "catalogue" and a,
        what="the longer path to win",
    )
    assert answer.json["path"] == "/catalogue/socks"
    everything = Route.objects.get(project=shop, name="everything")
    current = route_spec.to_data(route_spec.from_route(everything))
    route_services.update_route(everything, {**current, "annotations": {TRAEFIK + "router.priority": "10000"}})
    outranked = wait_for(
        lambda: (a := served(address, http_port, host, "/catalogue/socks")) and a.json["service"] == "front-end" and a,
        what="the / route's priority to win",
    )
    assert outranked.json["path"] == "/catalogue/socks"


SPLIT_REQUESTS = 500


@ROUTE_APIS
def test_a_weighted_split_sends_80_and_20_percent_of_the_requests_to_each_service(shop, request, route_api):
    """Weights 80/20 on one path, as an IngressRoute's weighted services or an HTTPRoute's
    backendRefs: of 500 requests through Traefik, each Service gets its share within 5 points."""
    on_route_api(request, shop, route_api)
    address, http_port, _ = gateway_of(shop)
    split = {
        "path": "/",
        "service": "front-end",
        "port": 80,
        "weight": 80,
        "alternate_backends": [{"service": "catalogue", "port": 80, "weight": 20}],
    }
    ready_route(shop, {"name": "split", "rules": [{"host": "split.example.com", "paths": [split]}]})
    wait_for(lambda: served(address, http_port, "split.example.com"), what="the split route to be served")
    answers = [ask(address, http_port, "split.example.com", f"/{i}").json["service"] for i in range(SPLIT_REQUESTS)]
    share = answers.count("front-end") / SPLIT_REQUESTS
    print(f"{route_api}: front-end {share:.1%}, catalogue {answers.count('catalogue') / SPLIT_REQUESTS:.1%}")
    assert set(answers) == {"front-end", "catalogue"}
    assert abs(share - 0.80) <= 0.05, share


HTTP_ROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")
INGRESS_ROUTE = ("traefik.io/v1alpha1", "IngressRoute")


def served_as(project, name: str, kind: tuple[str, str], other: tuple[str, str]) -> bool:
    """Whether route `name` is in the cluster as `kind`, with nothing left of the `other` kind."""
    return bool(cluster.get(*kind, name, project.namespace)) and not cluster.get(*other, name, project.namespace)


def test_routes_through_the_gateway_api_are_served_and_stay_served_across_a_switch_both_ways(shop, gateway_api_crds):
    """http and https (the host's certificate, from the Gateway's HTTPS listener) through HTTPRoutes
    attached to the gateway's Gateway; then the gateway goes back to Ingress and forth again."""
    gateway = gateway_services.configure_gateway(shop, route_api="gateway-api")
    ready_gateway(gateway.pk)
    address, http_port, https_port = gateway_of(shop)
    secret = tls_secret_manifest(shop.namespace, "gw-tls", ["gw-secure.example.com"])
    cluster.apply(secret)
    rules = [
        {"host": "gw.example.com", "paths": paths(("/", "front-end"), ("/catalogue", "catalogue"))},
        {
            "host": "gw-secure.example.com",
            "protocol": "https",
            "tls_secret": "gw-tls",
            "paths": paths(("/", "front-end")),
        },
    ]
    ready_route(shop, {"name": "gw", "rules": rules})
    assert served_as(shop, "gw", HTTP_ROUTE, INGRESS_ROUTE)

    def listener_hosts():  # the gateway's reconcile adds the TLS host's listener after the route's
        gw = cluster.get("gateway.networking.k8s.io/v1", "Gateway", "kubeconsole-gateway", shop.namespace)
        return [listener.get("hostname") for listener in gw["spec"]["listeners"]]

    wait_for(lambda: len(listener_hosts()) == 2, what="the HTTPS listener of the TLS host")
    assert listener_hosts() == [None, "gw-secure.example.com"]

    def both_served():
        front = served(address, http_port, "gw.example.com", "/basket")
        catalogue = served(address, http_port, "gw.example.com", "/catalogue/socks")
        secure = served(address, https_port, "gw-secure.example.com", tls=True)
        return front and catalogue and secure and secure.certificate == der_of(pem_of(secret)) and (front, catalogue)

    front, catalogue = wait_for(both_served, what="the HTTPRoutes to be served by Traefik's Gateway provider")
    assert (front.json["service"], front.json["path"], catalogue.json["service"]) == (
        "front-end",
        "/basket",
        "catalogue",
    )

    # Asked every 50 ms through each switch, the route never goes unanswered: the objects of the kind
    # it leaves stay until the controller that reads the new kind runs alone.
    for api, kind, other in (("ingress", INGRESS_ROUTE, HTTP_ROUTE), ("gateway-api", HTTP_ROUTE, INGRESS_ROUTE)):
        outage = Outage(address, http_port, "gw.example.com", limit=180)
        outage.start()
        switched = gateway_services.configure_gateway(shop, route_api=api)
        wait_for(
            lambda g=switched: not earlier_controller_serving(g), timeout=90, what="the new controller alone to serve"
        )
        wait_for(lambda kind=kind, other=other: served_as(shop, "gw", kind, other), what=f"the route as {kind[1]}")
        ready_gateway(gateway.pk)
        wait_for(both_served, timeout=90, what=f"the route to be served again as {kind[1]}")
        outage.stop()
        assert outage.failed == 0, f"{outage.failures} of {outage.asked} requests failed switching to {api}"


def test_websockets_and_grpc_through_the_gateway_api(shop, gateway_api_crds):
    """ws and wss through HTTPRoutes, gRPC through a GRPCRoute on its host's HTTPS listener (Traefik
    speaks h2c to the backend)."""
    gateway = gateway_services.configure_gateway(shop, route_api="gateway-api")
    ready_gateway(gateway.pk)
    address, http_port, https_port = gateway_of(shop)
    rule, secret = rpc_rule(shop, "rpc-gw.example.com")
    ready_route(shop, {"name": "chat", "rules": chat_rules(shop)})
    ready_route(shop, {"name": "rpc", "rules": [rule]})
    assert served_as(shop, "chat", HTTP_ROUTE, INGRESS_ROUTE)
    assert cluster.get("gateway.networking.k8s.io/v1", "GRPCRoute", "rpc", shop.namespace)
    assert_chats(address, http_port, https_port)
    assert_grpc_echoes(address, https_port, "rpc-gw.example.com", secret)


def test_the_controllers_answer_shows_on_the_route(shop, gateway_api_crds, platform_admin):
    """Traefik's Accepted and ResolvedRefs on the HTTPRoutes become the route's Attached and
    ResolvedRefs conditions: True for a served route, BackendNotFound for a Service that is gone."""
    gateway = gateway_services.configure_gateway(shop, route_api="gateway-api")
    ready_gateway(gateway.pk)
    seen = route_services.create_route(
        shop, {"name": "seen", "rules": [{"host": "seen.example.com", "paths": paths(("/", "front-end"))}]}
    )
    cluster.apply(backend_service(shop.namespace, "ghost"))
    ghost = route_services.create_route(
        shop, {"name": "ghost", "rules": [{"host": "ghost.example.com", "paths": paths(("/", "ghost"))}]}
    )
    cluster.delete("v1", "Service", "ghost", shop.namespace)

    def said(route, type_):
        return Route.objects.get(pk=route.pk).condition(type_) or {}

    wait_for(
        lambda: said(seen, "Attached").get("status") == "True" and said(seen, "ResolvedRefs").get("status") == "True",
        what="the controller to attach the served route",
    )
    refused = wait_for(
        lambda: said(ghost, "ResolvedRefs").get("reason") == "BackendNotFound" and said(ghost, "ResolvedRefs"),
        what="the controller to say the ghost route's backend is missing",
    )
    assert refused["status"] == "False" and "ghost" in refused["message"]
    assert said(ghost, "Attached").get("status") == "True"  # attached, but with nowhere to send requests
    browser = Client()
    browser.force_login(platform_admin, backend="django.contrib.auth.backends.ModelBackend")
    page = browser.get(f"/projects/{shop.name}/routes/ghost/").content.decode()
    assert "ResolvedRefs" in page and "a backend Service does not exist" in page

    # The gateway page shows the Gateway's listeners as Traefik reports them: both routes attached.
    def http_listener():
        found = [row for row in Gateway.objects.get(pk=gateway.pk).listener_rows if row["name"] == "http"]
        return found and found[0]["attached_routes"] == 2 and found[0]

    listener = wait_for(http_listener, what="the http listener to count both attached routes")
    assert {item["type"]: item["status"] for item in listener["conditions"]}["Accepted"] == "True"
    gateway_page = browser.get(f"/projects/{shop.name}/gateway/").content.decode()
    assert 'data-listener="http"' in gateway_page and "<td data-attached>2</td>" in gateway_page
    assert "<div data-summary>Serving 2 routes.</div>" in gateway_page
    answered = browser.get(f"/api/v1/projects/{shop.name}/gateway/").json()["status"]["listeners"]
    assert [(row["name"], row["protocol"], row["attached_routes"]) for row in answered] == [("http", "HTTP", 2)]

    gateway_services.configure_gateway(shop, route_api="ingress")  # no controller answers for an Ingress
    wait_for(lambda: not said(seen, "Attached"), what="the route's controller conditions to go")


def local_images() -> set[str]:
    """The image references the local node has (it has only the images built here), in both their
    full and short forms."""
    names = set()
    for node in cluster.list_objects("v1", "Node"):
        for image in node["status"].get("images") or []:
            for name in image.get("names") or []:
                names.add(name)
                names.add(name.removeprefix("docker.io/").removeprefix("library/"))
    return names


def test_a_switch_to_a_controller_whose_image_the_node_lacks_is_not_ready_says_why_and_the_old_one_serves(
    shop, admin_client
):
    """The issue's walk-through: sock-shop's Traefik gateway switched to a controller this node
    cannot run. A count of ready replicas said Ready; the rollout and the new pod's state do not."""
    missing = [key for key, flavor in FLAVORS.items() if flavor.image not in local_images()]
    assert missing, "every controller's image is on the node: pick a test image the node lacks"
    flavor = FLAVORS[missing[0]]
    address, http_port, _ = gateway_of(shop)
    ready_route(shop, {"name": "shop", "rules": [{"host": "shop.example.com", "paths": paths(("/", "front-end"))}]})
    wait_for(lambda: served(address, http_port, "shop.example.com"), what="the route to be served")

    gateway = gateway_services.configure_gateway(shop, flavor=flavor.key)
    gateway = wait_for(
        lambda: (g := Gateway.objects.get(pk=gateway.pk)).ready_reason == "ImageNotAvailable" and g,
        timeout=60,
        what="the gateway to say its controller's image is not available",
    )
    ready = gateway.condition("Ready")
    assert gateway.state == "Error" and ready["status"] == "False"
    assert f"The controller's image {flavor.image} is not available to this cluster's nodes (" in ready["message"]
    assert ready["message"].endswith("The earlier controller keeps serving the routes meanwhile.")
    assert served(address, http_port, "shop.example.com").json["service"] == "front-end"  # Traefik still answers
    # The earlier controller keeps the rules it reads with (its informers re-list with them), the
    # new one has its own.
    assert controller_may(shop, "list", "traefik.io", "ingressroutes")
    assert controller_may(shop, "list", "", "nodes", cluster_wide=True)
    assert controller_may(shop, "create", "coordination.k8s.io", "leases")

    page = admin_client.get(f"/projects/{shop.name}/gateway/").content.decode()
    assert "ImageNotAvailable" in page and 'id="controller-events"' in page
    assert any(word in page for word in ("ErrImagePull", "BackOff", "Failed"))
    assert "All 1 ingress controller replicas are ready" not in page

    gateway = ready_gateway(gateway_services.configure_gateway(shop, flavor="traefik").pk)
    assert gateway.condition("Ready")["message"] == "All 1 ingress controller replicas are ready."
    assert served(address, http_port, "shop.example.com").json["service"] == "front-end"
    assert controller_may(shop, "list", "traefik.io", "ingressroutes")
    assert not controller_may(shop, "create", "coordination.k8s.io", "leases")  # the other's rules went


def controller_may(project, verb: str, group: str, resource: str, cluster_wide: bool = False) -> bool:
    """Whether the gateway's controller (its ServiceAccount) may do this, as the API server decides."""
    account = f"system:serviceaccount:{project.namespace}:kubeconsole-gateway"
    attributes = {"verb": verb, "group": group, "resource": resource}
    if not cluster_wide:
        attributes["namespace"] = project.namespace
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": account,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{project.namespace}"],
            "resourceAttributes": attributes,
        },
    }
    answer = cluster.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=review)
    return answer["status"].get("allowed", False)
