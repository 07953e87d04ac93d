"""Host claims, as OpenShift routes have them: within an ingress class the oldest claim on a
host+path holds it; a host used by one project cannot be claimed by another. A claim's age is
when the route first asked for that host+path. Messages never name another project's objects."""

from django.db.models import Q
from django.utils import timezone

from routes.models import HostClaim, Route


def wanted_claims(spec, ingress_class: str) -> set[tuple[str, str, str]]:
    return {(ingress_class, rule.host, path.path) for rule in spec.rules if rule.host for path in rule.paths}


def sync_claims(route: Route, spec, ingress_class: str, new: bool = False) -> None:
    """Makes the route's claims match the host+paths it asks for, keeping the age of those it
    already had (a `new` route has none)."""
    wanted = wanted_claims(spec, ingress_class) if ingress_class else set()
    existing = {} if new else {(c.ingress_class, c.host, c.path): c for c in route.claims.all()}
    stale = [claim.pk for key, claim in existing.items() if key not in wanted]
    if stale:
        HostClaim.objects.filter(pk__in=stale).delete()
    now = timezone.now()
    HostClaim.objects.bulk_create(
        HostClaim(route=route, project_id=route.project_id, ingress_class=c, host=h, path=p, claimed_at=now)
        for c, h, p in sorted(wanted - set(existing))
    )


def older_than(claim: HostClaim) -> Q:
    return Q(claimed_at__lt=claim.claimed_at) | Q(claimed_at=claim.claimed_at, pk__lt=claim.pk)


def admission(route: Route) -> tuple[bool, str]:
    """(admitted, why not) for a route whose claims are in sync. One query per claim: the older
    claims on its host, oldest first."""
    live = HostClaim.objects.filter(route__deletion_requested=False).exclude(route=route)
    for claim in route.claims.all():
        older = list(live.filter(older_than(claim), host=claim.host).select_related("route"))
        if any(other.project_id != route.project_id for other in older):
            return False, f"Host {claim.host} is already used by another project."
        holder = next((o for o in older if (o.ingress_class, o.path) == (claim.ingress_class, claim.path)), None)
        if holder is not None:
            return False, f"{claim.host}{claim.path} is already claimed by the older route {holder.route.name}."
    return True, ""


def competitors(route: Route) -> list[int]:
    """Other routes asking for any host this route asks for: their admission may change with it."""
    hosts = route.claims.values("host")
    return list(
        HostClaim.objects.filter(host__in=hosts).exclude(route=route).values_list("route_id", flat=True).distinct()
    )
