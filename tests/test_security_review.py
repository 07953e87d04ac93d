"""Pure checks from the second security review: validators match whole texts, well-known platform
namespaces are reserved, the console's label prefix is refused on routes, derived object names
cannot collide between routes, and no shipped allowance picks an address."""

from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from console import validators as names
from gateways import flavors, policy
from routes import render
from routes import validators as route_validators
from tenants import validators as tenant_validators
from tests.test_route_render import gateway, route, rule


@pytest.mark.parametrize(
    ("check", "good"),
    [
        (route_validators.validate_route_name, "front-end"),
        (route_validators.validate_host, "shop.example.com"),
        (lambda path: route_validators.validate_path(path, "Prefix"), "/x"),
        (route_validators.validate_port, "http"),
        (route_validators.validate_secret_name, "shop-tls"),
        (tenant_validators.validate_dns1123_label, "shop"),
        (tenant_validators.validate_project_name, "shop"),
        (names.validate_qualified_name, "example.com/key"),
        (names.validate_label_value, "value"),
        (lambda key: route_validators.validate_labels({key: "v"}), "team"),
        (lambda value: route_validators.validate_labels({"team": value}), "web"),
    ],
)
def test_every_validator_refuses_a_trailing_newline(check, good):
    check(good)
    with pytest.raises(ValidationError):
        check(good + "\n")


@pytest.mark.parametrize("name", ["cert-manager", "monitoring", "kubesphere-system", "argocd", "ingress-nginx"])
def test_well_known_platform_namespaces_are_reserved(name):
    with pytest.raises(ValidationError, match="reserved"):
        tenant_validators.validate_project_name(name)
    with pytest.raises(ValidationError, match="reserved"):
        tenant_validators.validate_project_name("metallb-system")
    with pytest.raises(ValidationError, match="reserved"):
        tenant_validators.validate_project_name("kube-console")


def test_a_platform_reserves_more_namespaces_in_its_settings():
    tenant_validators.validate_project_name("vault")
    with override_settings(CONSOLE_RESERVED_NAMESPACES=["vault"]), pytest.raises(ValidationError, match="reserved"):
        tenant_validators.validate_project_name("vault")


@pytest.mark.parametrize("key", ["kubeconsole.io/owner", "kubeconsole.io/route", "x.kubeconsole.io/anything"])
def test_the_consoles_own_label_prefix_is_refused_on_routes(key):
    with pytest.raises(ValidationError, match="reserved for the console"):
        route_validators.validate_labels({key: "route-1"})
    route_validators.validate_labels({"notkubeconsole.io/owner": "x"})


def names_of(spec, serving) -> set[str]:
    kinds = {
        "traefik": {"flavor": flavors.TRAEFIK},
        "gateway-api": {"flavor": flavors.TRAEFIK, "route_api": "gateway-api"},
    }
    rendered = render.manifests(spec, gateway(**kinds[serving]), f"route-{spec.name}", True, {})
    return {manifest["metadata"]["name"] for manifest in rendered}


@pytest.mark.parametrize("serving", ["traefik", "gateway-api"])
def test_a_routes_derived_object_names_never_collide_with_another_routes(serving):
    # Route a has two objects (a plain and a TLS group, or two hosts); route a-1 one.
    two = route(rule("a.example.com"), rule("b.example.com", "https", "b-tls"))
    a, a_1 = replace(two, name="a"), replace(route(rule("c.example.com")), name="a-1")
    for first, second in ((a, a_1), (a_1, a)):  # whichever was created first
        assert len(names_of(first, serving)) + len(names_of(second, serving)) == len(
            names_of(first, serving) | names_of(second, serving)
        )
    assert names_of(a, serving) == {"a", "a.1"}


def test_derived_names_cannot_be_route_names():
    with pytest.raises(ValidationError):
        route_validators.validate_route_name(render.derived_name("a", 1))


SHIPPED = "gateways.migrations.0005_cloud_load_balancer_allowances"


def test_no_allowance_that_picks_an_address_pool_or_anothers_resource_ships(shipped_allowances):
    from gateways.models import AnnotationAllowance

    shipped = set(AnnotationAllowance.objects.values_list("key", flat=True))
    assert shipped, "the cloud load-balancer keys still ship"
    assert shipped & set(policy.ADDRESS_PICKING_KEYS) == set()
    assert (
        "metallb.io/loadBalancerIPs" not in shipped
        and "service.beta.kubernetes.io/aws-load-balancer-internal" in shipped
    )
