"""What deciding a submitted route needs from the cluster, read once per request before any
transaction opens, and consistently (a Service made a moment ago counts): the project's Services
(one LIST), its usable TLS secrets (one LIST: names, certificate names and expiry, never key
material) and whether the gateway's routes become Traefik IngressRoutes. The pickers show the same
facts. Checks given them are pure (routes.services.check_spec)."""

from dataclasses import dataclass

from console.cluster import ClusterError
from gateways import flavors
from routes import live
from routes.validators import TLS_PROTOCOLS


@dataclass(frozen=True)
class Facts:
    """What the cluster said. A None field is what it could not say: the checks that need it are
    left to the worker, which looks again before it applies the route."""

    services: tuple[dict, ...] | None = ()  # [{name, type, ports: [{name, port, protocol}]}]
    tls_secrets: tuple[dict, ...] | None = ()  # [{name, dns_names, not_after}]
    ingress_routes: bool | None = False  # the gateway's routes become Traefik IngressRoutes
    trouble: str = ""  # what could not be read, in a tenant's words

    def service(self, name: str) -> dict | None:
        return next((s for s in self.services or () if s["name"] == name), None)

    def secret(self, name: str) -> dict | None:
        return next((s for s in self.tls_secrets or () if s["name"] == name), None)


def read(namespace: str, gateway, secrets: bool = True) -> Facts:
    """One read of each fact a route of `gateway` in `namespace` is checked against; the TLS
    secrets only when `secrets` (routes that name no TLS protocol or secret are not checked
    against them)."""
    troubles = []
    try:
        services = tuple(live.services(namespace, cached=False))
    except ClusterError as error:
        services = None
        troubles.append(error.message)
    try:
        secrets = tuple(live.tls_secrets(namespace, cached=False)) if secrets else ()
    except ClusterError as error:
        secrets = None
        troubles.append(error.message)
    try:
        ingress_routes = gateway is not None and live.renders_ingress_routes(gateway)
    except ClusterError as error:
        ingress_routes = None
        troubles.append(error.message)
    trouble = ""
    if troubles:
        trouble = f"The cluster could not list this project's Services and secrets: {troubles[0]}"
    return Facts(services, secrets, ingress_routes, trouble)


def split_problem(gateway, facts: Facts) -> str | None:
    """Why the gateway's routes cannot split a path's traffic by weight, or None: Gateway API
    routes and Traefik IngressRoutes can; an Ingress sends a path to one Service."""
    if gateway.serves_gateway_api or facts.ingress_routes:
        return None
    if facts.ingress_routes is None:
        return f"The cluster could not say whether it serves Traefik's IngressRoute CRD: {facts.trouble}"
    if gateway.flavor == flavors.TRAEFIK:
        return "This cluster does not serve Traefik's IngressRoute CRD, and an Ingress sends a path to one Service."
    return (
        f"{gateway.flavor_info.label} routes are Ingresses, which send a path to one Service: "
        "splitting traffic by weight needs a Traefik gateway."
    )


def names_tls(items) -> bool:
    """Whether any of these submitted routes (as parsed from a request, not yet checked) has a rule
    naming a TLS protocol or secret; anything unreadable counts as yes."""
    for data in items:
        rules = data.get("rules") if isinstance(data, dict) else None
        if not isinstance(rules, list):
            return True
        for rule in rules:
            if not isinstance(rule, dict) or rule.get("tls_secret"):
                return True
            protocol = rule.get("protocol")
            if not isinstance(protocol, str | None) or protocol in TLS_PROTOCOLS:  # a list is not hashable
                return True
    return False
