"""Route renderers per flavor and protocol, generated hosts and Click-to-visit addresses:
pure functions compared field by field with results written out here."""

import pytest

from gateways.models import Gateway
from routes import hosts, render
from routes.spec import PathSpec, RouteSpec, RuleSpec
from tenants.models import Project, Workspace

OWNER_LABELS = {
    "kubeconsole.io/managed-by": "kube-console",
    "kubeconsole.io/owner": "route-9",
    "kubeconsole.io/route": "front-end",
}


def gateway(**settings) -> Gateway:
    settings.setdefault("addresses", ["192.168.1.10"])
    settings.setdefault("node_ports", {"http": 30080, "https": 30443})
    return Gateway(pk=3, project=Project(pk=5, name="sock-shop", workspace=Workspace(name="ws")), **settings)


def route(*rules, annotations=None, labels=None) -> RouteSpec:
    return RouteSpec(
        name="front-end", namespace="sock-shop", rules=tuple(rules), annotations=annotations or {}, labels=labels or {}
    )


def rule(host, protocol="http", secret="", paths=(("/", "front-end", 80),), path_type="Prefix") -> RuleSpec:
    return RuleSpec(
        host_mode="custom",
        host=host,
        protocol=protocol,
        tls_secret=secret,
        paths=tuple(PathSpec(path=p, path_type=path_type, service=s, port=port) for p, s, port in paths),
    )


def test_http_route_on_nginx_inc_renders_a_plain_ingress():
    spec = route(
        rule("shop.example.com", paths=(("/", "front-end", 80), ("/catalogue", "catalogue", "http"))),
        labels={"team": "socks"},
    )
    assert render.manifests(spec, gateway(), "route-9") == [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "front-end",
                "namespace": "sock-shop",
                "labels": {"team": "socks", **OWNER_LABELS},
                "annotations": {},
            },
            "spec": {
                "ingressClassName": "kubeconsole-sock-shop",
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "front-end", "port": {"number": 80}}},
                                },
                                {
                                    "path": "/catalogue",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "catalogue", "port": {"name": "http"}}},
                                },
                            ]
                        },
                    }
                ],
            },
        }
    ]


def test_wss_and_grpc_on_nginx_inc_list_their_services_and_get_tls():
    spec = route(
        rule("chat.example.com", "wss", "chat-tls", (("/ws", "chat", 8080),)),
        rule("api.example.com", "grpc", "api-tls", (("/", "greeter", 50051),)),
        rule("live.example.com", "ws", "", (("/", "events", 80),)),
    )
    [ingress] = render.manifests(spec, gateway(), "route-9")
    assert ingress["metadata"]["annotations"] == {
        "nginx.org/websocket-services": "chat,events",
        "nginx.org/grpc-services": "greeter",
    }
    assert ingress["spec"]["tls"] == [
        {"hosts": ["chat.example.com"], "secretName": "chat-tls"},
        {"hosts": ["api.example.com"], "secretName": "api-tls"},
    ]


def test_https_rules_sharing_a_secret_share_a_tls_entry():
    spec = route(rule("a.example.com", "https", "wild"), rule("b.example.com", "https", "wild"))
    [ingress] = render.manifests(spec, gateway(), "route-9")
    assert ingress["spec"]["tls"] == [{"hosts": ["a.example.com", "b.example.com"], "secretName": "wild"}]
    assert ingress["metadata"]["annotations"] == {}


def test_ingress_nginx_gets_long_timeouts_for_websockets_and_grpc_backend_protocol():
    ws = route(rule("chat.example.com", "ws"))
    [ingress] = render.manifests(ws, gateway(flavor="ingress-nginx"), "route-9")
    assert ingress["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
    }
    grpc = route(rule("api.example.com", "grpc", "api-tls"))
    [ingress] = render.manifests(grpc, gateway(flavor="ingress-nginx"), "route-9")
    assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/backend-protocol": "GRPC"}
    assert ingress["spec"]["tls"] == [{"hosts": ["api.example.com"], "secretName": "api-tls"}]


def test_route_annotations_win_over_the_protocol_annotations():
    spec = route(rule("chat.example.com", "ws"), annotations={"nginx.ingress.kubernetes.io/proxy-read-timeout": "600"})
    [ingress] = render.manifests(spec, gateway(flavor="ingress-nginx"), "route-9")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "600"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"


def test_traefik_without_its_crd_renders_a_plain_ingress_and_needs_nothing_for_websockets():
    spec = route(rule("chat.example.com", "ws"))
    [ingress] = render.manifests(spec, gateway(flavor="traefik"), "route-9", ingress_routes_served=False)
    assert ingress["kind"] == "Ingress"
    assert ingress["metadata"]["annotations"] == {}


def test_traefik_with_its_crd_renders_ingress_routes_with_h2c_for_grpc():
    spec = route(
        rule("shop.example.com", paths=(("/", "front-end", 80),), path_type="Exact"),
        rule("api.example.com", "grpc", "api-tls", (("/", "greeter", 50051),)),
    )
    plain, secure = render.manifests(spec, gateway(flavor="traefik"), "route-9", ingress_routes_served=True)
    annotations = {"kubernetes.io/ingress.class": "kubeconsole-sock-shop"}
    assert plain == {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "front-end", "namespace": "sock-shop", "labels": OWNER_LABELS, "annotations": annotations},
        "spec": {
            "entryPoints": ["web"],
            "routes": [
                {
                    "kind": "Rule",
                    "match": "Host(`shop.example.com`) && Path(`/`)",
                    "services": [{"name": "front-end", "port": 80}],
                }
            ],
        },
    }
    assert secure["metadata"]["name"] == "front-end.1"
    assert secure["spec"] == {
        "entryPoints": ["websecure"],
        "routes": [
            {
                "kind": "Rule",
                "match": "Host(`api.example.com`) && PathPrefix(`/`)",
                "services": [{"name": "greeter", "port": 50051, "scheme": "h2c"}],
            }
        ],
        "tls": {"secretName": "api-tls"},
    }


def test_traefik_keys_take_effect_as_ingress_route_fields():
    settings = {
        "traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure",
        "traefik.ingress.kubernetes.io/router.tls": "true",
        "traefik.ingress.kubernetes.io/router.priority": "42",
        "traefik.ingress.kubernetes.io/service.serversscheme": "https",
        "traefik.ingress.kubernetes.io/service.sticky.cookie": "true",
        "traefik.ingress.kubernetes.io/service.sticky.cookie.name": "shop_route",
        "team": "socks",
    }
    spec = route(rule("shop.example.com"), annotations=settings)
    [ingress_route] = render.manifests(spec, gateway(flavor="traefik"), "route-9", ingress_routes_served=True)
    assert ingress_route["spec"] == {
        "entryPoints": ["web", "websecure"],
        "routes": [
            {
                "kind": "Rule",
                "match": "Host(`shop.example.com`) && PathPrefix(`/`)",
                "priority": 42,
                "services": [
                    {"name": "front-end", "port": 80, "scheme": "https", "sticky": {"cookie": {"name": "shop_route"}}}
                ],
            }
        ],
        "tls": {},
    }
    # The annotations stay on the object as the route has them, beside the class.
    assert ingress_route["metadata"]["annotations"] == {
        **settings,
        "kubernetes.io/ingress.class": "kubeconsole-sock-shop",
    }


def test_a_sticky_cookie_without_a_name_and_no_settings_at_all():
    sticky = route(
        rule("shop.example.com"), annotations={"traefik.ingress.kubernetes.io/service.sticky.cookie": "true"}
    )
    [with_cookie] = render.manifests(sticky, gateway(flavor="traefik"), "route-9", ingress_routes_served=True)
    assert with_cookie["spec"]["routes"][0]["services"] == [{"name": "front-end", "port": 80, "sticky": {"cookie": {}}}]
    assert with_cookie["spec"]["entryPoints"] == ["web"] and "tls" not in with_cookie["spec"]


def test_auto_hosts_use_nip_io_on_the_gateway_address_or_the_default_domain():
    assert hosts.auto_host("front-end", "sock-shop", gateway()) == "front-end.sock-shop.192.168.1.10.nip.io"
    assert hosts.auto_host("front-end", "sock-shop", gateway(default_domain="apps.example.com")) == (
        "front-end-sock-shop.apps.example.com"
    )
    assert hosts.auto_host("front-end", "sock-shop", gateway(addresses=[])) == ""
    assert hosts.auto_host("front-end", "sock-shop", gateway(addresses=["lb.elb.amazonaws.com"])) == ""


@pytest.mark.parametrize(
    ("access_mode", "protocol", "secret", "expected"),
    [
        ("NodePort", "http", "", "http://shop.example.com:30080/catalogue"),
        ("NodePort", "ws", "", "http://shop.example.com:30080/catalogue"),
        ("NodePort", "https", "tls", "https://shop.example.com:30443/catalogue"),
        ("NodePort", "wss", "tls", "https://shop.example.com:30443/catalogue"),
        ("NodePort", "grpc", "tls", "shop.example.com:30443"),
        ("LoadBalancer", "http", "", "http://shop.example.com/catalogue"),
        ("LoadBalancer", "https", "tls", "https://shop.example.com/catalogue"),
        ("LoadBalancer", "grpc", "tls", "shop.example.com:443"),
    ],
)
def test_visit_addresses_follow_the_gateway_mode_and_the_protocol(access_mode, protocol, secret, expected):
    spec = route(rule("shop.example.com", protocol, secret, (("/catalogue", "catalogue", 80),)))
    [entry] = hosts.visit_addresses(spec, gateway(access_mode=access_mode))
    assert entry == {"host": "shop.example.com", "path": "/catalogue", "protocol": protocol, "url": expected}


def test_no_visit_address_for_a_wildcard_host_or_a_missing_node_port():
    [wild] = hosts.visit_addresses(route(rule("*.example.com")), gateway())
    assert wild["url"] == ""
    [unallocated] = hosts.visit_addresses(route(rule("shop.example.com")), gateway(node_ports={}))
    assert unallocated["url"] == ""
