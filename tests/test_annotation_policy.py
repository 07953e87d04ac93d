"""The annotation policy, table-driven: never-allowed keys of every flavor, allowed keys with good
and bad values, forbidden characters, reserved prefixes, cross-namespace references, the allow-list
for every other prefix, and keys that must take effect where they are put."""

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
    allowances = {target: {key: policy.Allowance("text")} for target in (policy.ROUTE, policy.GATEWAY_SERVICE)}
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, value, flavor, allowances)
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
    (TRAEFIK, "traefik.ingress.kubernetes.io/router.entrypoints", "websecure"),
    (TRAEFIK, "description", "any text at all, even with spaces"),
    (NGINX_INC, "team", "shop"),
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


RESERVED_FOR_KUBERNETES = [
    "kubernetes.io/ingress.class",
    "k8s.io/anything",
    "service.kubernetes.io/topology-mode",
    "node.k8s.io/x",
    "service.beta.kubernetes.io/aws-load-balancer-internal",
]


@pytest.mark.parametrize("key", RESERVED_FOR_KUBERNETES)
@pytest.mark.parametrize("flavor", FLAVORS)
def test_keys_under_kubernetes_domains_are_reserved_on_routes_even_when_allowed(flavor, key):
    allowances = {policy.ROUTE: {key: policy.Allowance("text")}}
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "true", flavor, allowances)
    assert "reserved for Kubernetes" in raised.value.messages[0] and key in raised.value.messages[0]


def test_an_exact_kubernetes_key_passes_on_gateway_services_only_when_a_platform_admin_allowed_it():
    key = "service.beta.kubernetes.io/aws-load-balancer-internal"
    allowed = {policy.GATEWAY_SERVICE: {key: policy.Allowance("boolean")}}
    policy.check_annotation(key, "true", NGINX_INC, allowed, target=policy.GATEWAY_SERVICE)
    with pytest.raises(ValidationError, match="must be true or false"):
        policy.check_annotation(key, "maybe", NGINX_INC, allowed, target=policy.GATEWAY_SERVICE)
    with pytest.raises(ValidationError, match="ask a platform admin"):
        policy.check_annotation(key, "true", NGINX_INC, target=policy.GATEWAY_SERVICE)
    # A prefix does not open a reserved domain.
    prefix = {policy.GATEWAY_SERVICE: {"service.beta.kubernetes.io/": policy.Allowance("text")}}
    with pytest.raises(ValidationError, match="reserved"):
        policy.check_annotation(key, "true", NGINX_INC, prefix, target=policy.GATEWAY_SERVICE)


@pytest.mark.parametrize(
    "key", ["external-dns.alpha.kubernetes.io/hostname", "external-dns.alpha.kubernetes.io/target"]
)
@pytest.mark.parametrize("target", [policy.ROUTE, policy.GATEWAY_SERVICE])
def test_external_dns_keys_are_never_allowed_whatever_is_added(key, target):
    allowances = {
        target: {key: policy.Allowance("text"), "external-dns.alpha.kubernetes.io/": policy.Allowance("text")}
    }
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "victim.example.com", NGINX_INC, allowances, target=target)
    assert "never allowed" in raised.value.messages[0] and "DNS" in raised.value.messages[0]


@pytest.mark.parametrize("key", ["kubeconsole.io/owner", "gateway.kubeconsole.io/anything"])
def test_the_consoles_own_prefix_is_reserved(key):
    allowances = {policy.ROUTE: {key: policy.Allowance("text")}}
    with pytest.raises(ValidationError, match="reserved for the console"):
        policy.check_annotation(key, "x", NGINX_INC, allowances)


@pytest.mark.parametrize("key", ["acme.example/x", "cert-manager.io/cluster-issuer", "example.com/team"])
@pytest.mark.parametrize("target", [policy.ROUTE, policy.GATEWAY_SERVICE])
def test_keys_under_any_other_prefix_need_an_allowance_and_the_error_says_how(key, target):
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "x", NGINX_INC, target=target)
    message = raised.value.messages[0]
    assert key in message and "ask a platform admin" in message


def test_keys_without_a_prefix_stay_allowed_with_the_value_checks():
    policy.check_annotation("team", "shop", NGINX_INC)
    with pytest.raises(ValidationError, match="never allowed"):
        policy.check_annotation("team", "a;b", NGINX_INC)


def test_a_prefix_allowance_lets_every_key_under_exactly_that_prefix_through_its_check():
    allowances = {policy.ROUTE: {"example.com/": policy.Allowance("text")}}
    policy.check_annotation("example.com/team", "shop", NGINX_INC, allowances)
    with pytest.raises(ValidationError, match="At most 1024"):
        policy.check_annotation("example.com/team", "x" * 1025, NGINX_INC, allowances)
    with pytest.raises(ValidationError, match="ask a platform admin"):
        policy.check_annotation("sub.example.com/team", "shop", NGINX_INC, allowances)


def test_a_key_allowance_with_fixed_values():
    issuer = "cert-manager.io/cluster-issuer"
    allowances = {policy.ROUTE: {issuer: policy.Allowance(policy.ONE_OF, ("letsencrypt", "internal-ca"))}}
    policy.check_annotation(issuer, "letsencrypt", NGINX_INC, allowances)
    with pytest.raises(ValidationError, match="must be one of: letsencrypt, internal-ca"):
        policy.check_annotation(issuer, "someone-elses-issuer", NGINX_INC, allowances)
    with pytest.raises(ValidationError, match="ask a platform admin"):
        policy.check_annotation("cert-manager.io/issuer", "letsencrypt", NGINX_INC, allowances)


def test_an_allowance_applies_only_where_it_was_given():
    key = "metallb.io/address-pool"
    for_services = {policy.GATEWAY_SERVICE: {key: policy.Allowance("text")}}
    policy.check_annotation(key, "public", NGINX_INC, for_services, target=policy.GATEWAY_SERVICE)
    with pytest.raises(ValidationError, match="not allowed on routes"):
        policy.check_annotation(key, "public", NGINX_INC, for_services, target=policy.ROUTE)


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
    assert "not on the allow-list" in raised.value.messages[0] and "ask a platform admin" in raised.value.messages[0]


def test_another_flavors_keys_are_refused():
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation("nginx.ingress.kubernetes.io/proxy-read-timeout", "60", NGINX_INC)
    assert "is for ingress-nginx" in raised.value.messages[0]


def test_a_platform_admin_extends_an_allow_list_with_a_typed_check():
    key = "nginx.org/proxy-max-temp-file-size"
    extra = {policy.ROUTE: {key: policy.Allowance("body-size")}}
    policy.check_annotation(key, "1m", NGINX_INC, extra)
    with pytest.raises(ValidationError):
        policy.check_annotation(key, "lots", NGINX_INC, extra)
    with pytest.raises(ValidationError):
        policy.check_annotation(key, "1m", NGINX_INC)
    # A controller's keys are allowed one by one, never by prefix.
    with pytest.raises(ValidationError, match="not on the allow-list"):
        policy.check_annotation(key, "1m", NGINX_INC, {policy.ROUTE: {"nginx.org/": policy.Allowance("text")}})


def test_controller_keys_have_no_effect_on_the_gateways_service():
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation("nginx.org/proxy-read-timeout", "60", NGINX_INC, target=policy.GATEWAY_SERVICE)
    assert "no effect on the gateway's Service" in raised.value.messages[0]


def test_traefik_service_keys_are_refused_where_routes_become_an_ingress():
    key = "traefik.ingress.kubernetes.io/service.sticky.cookie"
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "true", TRAEFIK, renders=policy.INGRESS)
    assert "no effect on an Ingress" in raised.value.messages[0]
    policy.check_annotation(key, "true", TRAEFIK, renders=policy.INGRESS_ROUTE)


def test_keys_a_platform_admin_allowed_for_traefik_are_refused_where_routes_become_ingress_routes():
    key = "traefik.ingress.kubernetes.io/router.observability.accesslogs"
    extra = {policy.ROUTE: {key: policy.Allowance("boolean")}}
    policy.check_annotation(key, "true", TRAEFIK, extra, renders=policy.INGRESS)
    with pytest.raises(ValidationError) as raised:
        policy.check_annotation(key, "true", TRAEFIK, extra, renders=policy.INGRESS_ROUTE)
    assert "IngressRoutes, which do not read annotations" in raised.value.messages[0]


def test_what_a_route_renders_as_is_asked_only_for_a_traefik_key_that_passed_every_other_check():
    def cluster_must_not_be_asked():
        raise AssertionError("asked")

    with pytest.raises(ValidationError):
        policy.check_annotation(
            "traefik.ingress.kubernetes.io/router.priority", "0", TRAEFIK, renders=cluster_must_not_be_asked
        )
    policy.check_annotation("team", "x", TRAEFIK, renders=cluster_must_not_be_asked)
    asked = []
    policy.check_annotation(
        "traefik.ingress.kubernetes.io/router.priority", "5", TRAEFIK, renders=lambda: asked.append(1) or policy.INGRESS
    )
    assert asked == [1]


def test_check_annotations_reports_every_problem():
    problems = policy.check_annotations(
        {"nginx.org/server-snippets": "x", "nginx.org/proxy-read-timeout": "99999", "team": "fine"}, NGINX_INC
    )
    assert len(problems) == 2


@pytest.mark.parametrize(
    ("target", "key", "kind", "choices", "field", "message"),
    [
        (policy.ROUTE, "external-dns.alpha.kubernetes.io/hostname", "text", (), "key", "never allowed"),
        (policy.ROUTE, "kubeconsole.io/owner", "text", (), "key", "console's own"),
        (policy.ROUTE, "nginx.org/", "text", (), "key", "one by one"),
        (policy.ROUTE, "nginx.org/server-snippets", "text", (), "key", "never allowed"),
        (policy.ROUTE, "service.beta.kubernetes.io/aws-load-balancer-internal", "boolean", (), "key", "for gateway"),
        (policy.GATEWAY_SERVICE, "service.beta.kubernetes.io/", "text", (), "key", "one by one"),
        (policy.ROUTE, "team", "text", (), "key", "allowed already"),
        (policy.ROUTE, "Bad Key/x", "text", (), "key", "not valid"),
        (policy.ROUTE, "cert-manager.io/cluster-issuer", "one-of", (), "choices", "List the values"),
        (policy.ROUTE, "cert-manager.io/cluster-issuer", "anything", (), "kind", "Choose one of"),
    ],
)
def test_platform_admins_cannot_allow_what_the_policy_never_allows(target, key, kind, choices, field, message):
    problems = policy.check_allowance(target, key, kind, choices)
    assert message in problems.get(field, ""), problems


@pytest.mark.parametrize(
    ("target", "key", "kind"),
    [
        (policy.ROUTE, "cert-manager.io/cluster-issuer", "text"),
        (policy.ROUTE, "example.com/", "text"),
        (policy.ROUTE, "nginx.org/proxy-buffers", "text"),
        (policy.GATEWAY_SERVICE, "service.beta.kubernetes.io/aws-load-balancer-internal", "boolean"),
    ],
)
def test_platform_admins_can_allow_keys_and_prefixes(target, key, kind):
    assert policy.check_allowance(target, key, kind, ()) == {}


@pytest.mark.django_db
def test_the_admin_refuses_an_allowance_the_policy_never_allows_and_keeps_a_good_one(admin_client):
    from gateways.models import AnnotationAllowance

    url = "/admin/gateways/annotationallowance/add/"
    refused = admin_client.post(
        url, {"target": "route", "key": "external-dns.alpha.kubernetes.io/hostname", "kind": "text", "choices": ""}
    )
    assert refused.status_code == 200 and "never allowed" in refused.content.decode()
    assert not AnnotationAllowance.objects.filter(key__startswith="external-dns").exists()

    good = {"target": "route", "key": "cert-manager.io/cluster-issuer", "kind": "one-of", "choices": "letsencrypt, ca"}
    assert admin_client.post(url, good).status_code == 302
    allowed = AnnotationAllowance.as_policy()[policy.ROUTE]["cert-manager.io/cluster-issuer"]
    assert allowed == policy.Allowance(policy.ONE_OF, ("letsencrypt", "ca"))


@pytest.mark.parametrize(
    "key",
    ["nginx.org/server-snippets", "nginx.ingress.kubernetes.io/configuration-snippet", "kubeconsole.io/owner"],
)
def test_a_key_that_is_never_allowed_says_so_before_its_value_is_judged(key):
    with pytest.raises(ValidationError) as refused:
        policy.check_annotation(key, "more_set_headers 'x: y';", NGINX_INC, {})
    assert refused.value.messages[0].startswith(f"'{key}' is ")  # the key's rule, not the value's ';'
    assert "characters" not in refused.value.messages[0]
