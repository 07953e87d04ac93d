"""The annotation policy, table-driven: never-allowed keys of every flavor, allowed keys with good
and bad values, forbidden characters, reserved prefixes and cross-namespace references."""

import pytest
from django.core.exceptions import ValidationError

from gateways import policy

NGINX_INC, INGRESS_NGINX, TRAEFIK = "nginx-inc", "ingress-nginx", "traefik"
FLAVORS = [NGINX_INC, INGRESS_NGINX, TRAEFIK]

NEVER = [
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/configuration-snippet", "more_set_headers x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/server-snippet", "x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/stream-snippet", "x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/server-alias", "evil.example.com"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/auth-url", "http://auth"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/auth-signin", "http://auth"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/auth-tls-match-cn", "CN=x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/auth-secret", "other/secret"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/mirror-target", "http://x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/mirror-host", "x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-ssl-secret", "ns/secret"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/custom-headers", "ns/cm"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/permanent-redirect", "https://x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/temporal-redirect", "https://x"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/ssl-redirect", "true"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/rewrite-target", "/"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/use-regex", "true"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/default-backend", "svc"),
    (NGINX_INC, "nginx.org/server-snippets", "x"),
    (NGINX_INC, "nginx.org/location-snippets", "x"),
    (NGINX_INC, "nginx.org/rewrites", "serviceName=x rewrite=/"),
    (NGINX_INC, "nginx.org/redirect-to-https", "true"),
    (TRAEFIK, "traefik.ingress.kubernetes.io/router.middlewares", "other-ns-auth@kubernetescrd"),
]


@pytest.mark.parametrize(("flavor", "key", "value"), NEVER)
def test_never_allowed_keys_are_refused_even_when_a_platform_admin_allows_them(flavor, key, value):
    name = key.split("/", 1)[1]
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, value, flavor, extra_allowed={flavor: {name: "text"}})
    assert "never allowed" in raised.value.messages[0]


GOOD = [
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-read-timeout", "3600"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-body-size", "10m"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/backend-protocol", "GRPC"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/whitelist-source-range", "10.0.0.0/8, 192.168.1.1"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/limit-rps", "100"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/session-cookie-name", "route_id"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/enable-cors", "true"),
    (NGINX_INC, "nginx.org/proxy-read-timeout", "60s"),
    (NGINX_INC, "nginx.org/client-max-body-size", "4m"),
    (NGINX_INC, "nginx.org/websocket-services", "chat,events"),
    (NGINX_INC, "nginx.org/grpc-services", "greeter"),
    (NGINX_INC, "nginx.org/lb-method", "least_conn"),
    (TRAEFIK, "traefik.ingress.kubernetes.io/router.priority", "10"),
    (TRAEFIK, "traefik.ingress.kubernetes.io/router.tls", "true"),
    (TRAEFIK, "traefik.ingress.kubernetes.io/service.serversscheme", "h2c"),
    (NGINX_INC, "example.com/team", "shop"),
    (TRAEFIK, "description", "any text at all, even with spaces"),
]


@pytest.mark.parametrize(("flavor", "key", "value"), GOOD)
def test_allowed_keys_with_good_values_pass(flavor, key, value):
    policy.check_annotation(key, value, flavor)


BAD_VALUES = [
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-read-timeout", "0", "from 1 to 3600"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-read-timeout", "3601", "from 1 to 3600"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/proxy-body-size", "10g", "not a body size"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/backend-protocol", "AJP", "must be one of"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/whitelist-source-range", "10.0.0.0/33", "not an IP address"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/limit-rps", "1000000", "from 1 to 10000"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/session-cookie-name", "a cookie", "not a cookie name"),
    (INGRESS_NGINX, "nginx.ingress.kubernetes.io/enable-cors", "yes", "true or false"),
    (NGINX_INC, "nginx.org/proxy-read-timeout", "1h", "seconds from 1 to 3600"),
    (NGINX_INC, "nginx.org/proxy-read-timeout", "٦٠", "seconds from 1 to 3600"),
    (NGINX_INC, "nginx.org/client-max-body-size", "١٠m", "not a body size"),
    (NGINX_INC, "nginx.org/websocket-services", "Chat", "not a Service name"),
    (TRAEFIK, "traefik.ingress.kubernetes.io/router.entrypoints", "admin", "must be one of"),
]


@pytest.mark.parametrize(("flavor", "key", "value", "message"), BAD_VALUES)
def test_allowed_keys_with_bad_values_are_refused_naming_the_key(flavor, key, value, message):
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, value, flavor)
    assert key in raised.value.messages[0] and message in raised.value.messages[0]


@pytest.mark.parametrize("character", ["\n", "\r", "{", "}", ";", "'", '"', "#", "$", "\\"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_forbidden_characters_are_refused_in_every_value(flavor, character):
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation("example.com/note", f"a{character}b", flavor)
    assert "never allowed" in raised.value.messages[0]


def test_the_classic_injection_is_refused():
    with pytest.raises(ValidationError):
        policy.check_annotation("nginx.ingress.kubernetes.io/proxy-body-size", "10g;", INGRESS_NGINX)


@pytest.mark.parametrize("key", ["kubernetes.io/ingress.class", "k8s.io/anything", "kubeconsole.io/owner"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_reserved_prefixes_are_refused(flavor, key):
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "x", flavor)
    assert "reserved" in raised.value.messages[0]


@pytest.mark.parametrize(
    ("flavor", "key"),
    [
        (INGRESS_NGINX, "nginx.ingress.kubernetes.io/limit-rps"),
        (NGINX_INC, "nginx.org/grpc-services"),
    ],
)
def test_values_naming_another_namespace_are_refused(flavor, key):
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "other-ns/thing", flavor)
    assert "another namespace" in raised.value.messages[0]


def test_unknown_keys_under_a_controller_prefix_are_refused():
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation("nginx.org/made-up", "x", NGINX_INC)
    assert "not on the allow-list" in raised.value.messages[0]


def test_another_flavors_keys_are_refused():
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", "60", NGINX_INC)
    assert "is for ingress-nginx" in raised.value.messages[0]


def test_a_platform_admin_extends_an_allow_list_with_a_typed_check():
    extra = {NGINX_INC: {"proxy-max-temp-file-size": "body-size"}}
    policy.check_annotation("nginx.org/proxy-max-temp-file-size", "1m", NGINX_INC, extra)
    with pytest.raises(ValidationError):
        policy.check_annotation("nginx.org/proxy-max-temp-file-size", "lots", NGINX_INC, extra)
    with pytest.raises(ValidationError):
        policy.check_annotation("nginx.org/proxy-max-temp-file-size", "1m", NGINX_INC)


def test_check_annotations_reports_every_problem():
    problems = policy.check_annotations(
        {"nginx.org/server-snippets": "x", "nginx.org/proxy-read-timeout": "99999", "example.com/ok": "fine"}, NGINX_INC
    )
    assert len(problems) == 2
