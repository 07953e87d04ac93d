"""The CustomResourceDefinitions a gateway relies on, and which of them the cluster lacks. A platform
team installs them with the chart (crds.install) or on its own; the gateway page names what is
missing and what the tenant loses without it."""

from dataclasses import dataclass

from console import cluster
from gateways import flavors, render


@dataclass(frozen=True)
class CRDs:
    title: str
    group: str
    versions: tuple[str, ...]  # a resource counts as served at any of them (ReferenceGrant is v1beta1)
    resources: tuple[str, ...]
    without: str  # what a tenant loses while they are missing

    def missing(self) -> list[str]:
        served = set()
        for version in self.versions:
            served |= cluster.served_resources(f"{self.group}/{version}") or frozenset()
        return [resource for resource in self.resources if resource not in served]


TRAEFIK = CRDs(
    "Traefik's CRDs",
    "traefik.io",
    ("v1alpha1",),
    tuple(render.TRAEFIK_CRDS),
    "Traefik's CRD provider cannot start, and routes are served as Ingress objects instead of IngressRoutes.",
)
GATEWAY_API = CRDs(
    "The Gateway API's CRDs (standard channel)",
    render.GATEWAY_GROUP,
    ("v1", "v1beta1"),
    ("gatewayclasses", *render.GATEWAY_API_RESOURCES),
    "This gateway cannot serve its routes through the Gateway API; switch it to Ingress meanwhile.",
)


def needed(gateway) -> list[CRDs]:
    """The CRDs the gateway's controller watches: Traefik always watches its own; a gateway serving
    the Gateway API needs that API's."""
    wanted = [TRAEFIK] if gateway.flavor == flavors.TRAEFIK else []
    return wanted + ([GATEWAY_API] if gateway.serves_gateway_api else [])


@dataclass(frozen=True)
class Missing:
    crds: CRDs
    resources: list[str]


def missing(gateway) -> list[Missing]:
    """What of the CRDs the gateway needs the cluster does not serve; nothing when the cluster cannot
    be asked (the gateway's conditions say that)."""
    try:
        found = [Missing(crds, crds.missing()) for crds in needed(gateway)]
    except cluster.ClusterError:
        return []
    return [entry for entry in found if entry.resources]
