"""What routes tell the gateways they are bound to (gateways/bound_routes.py), registered when
this app loads."""

from django.db.models import Q

from console import hostnames
from gateways import flavors
from routes.models import SERVED_HOST, HostClaim, RoutePath, RouteRule
from routes.validators import TLS_PROTOCOLS


def tls_hosts(gateway_ids: list[int] | None = None) -> dict[int, dict[str, str]]:
    """{gateway: {host: secret}} of the TLS rules of the routes of gateways serving the Gateway API
    (of `gateway_ids`, or all). A host two routes name with different secrets takes the older
    route's."""
    rules = (
        RouteRule.objects.filter(
            route__deletion_requested=False, route__gateway__route_api=flavors.GATEWAY_API, protocol__in=TLS_PROTOCOLS
        )
        .annotate(served=SERVED_HOST)
        .exclude(served="")
    )
    if gateway_ids is not None:
        rules = rules.filter(route__gateway_id__in=gateway_ids)
    found: dict[int, dict[str, str]] = {}
    ordered = rules.order_by("route_id", "position").values_list("route__gateway_id", "served", "tls_secret")
    for gateway_id, host, secret in ordered:
        found.setdefault(gateway_id, {}).setdefault(host, secret)
    return found


def split_paths(gateway_id: int) -> int:
    """How many paths of the gateway's routes split traffic between Services (weighted backends)."""
    return RoutePath.objects.filter(rule__route__gateway_id=gateway_id).exclude(alternate_backends=[]).count()


def hosts_asked_elsewhere(project_id: int, domain: str) -> bool:
    """Whether another project's routes ask for `domain`, a name under it or a wildcard over it: by
    a custom host, claimed by the worker or not yet, or by a host claimed for them (generated)."""
    asked = Q(host=domain) | Q(host__endswith=f".{domain}") | Q(host__in=hostnames.wildcards_over(domain))
    custom = RouteRule.objects.filter(asked, host_mode="custom").exclude(route__project_id=project_id)
    return custom.exists() or HostClaim.objects.exclude(project_id=project_id).filter(asked).exists()


def register() -> None:
    from gateways import bound_routes

    bound_routes.register(tls_hosts=tls_hosts, split_paths=split_paths, hosts_asked_elsewhere=hosts_asked_elsewhere)
