"""Host claims, as OpenShift routes have them: within an ingress class the oldest claim on a
host+path holds it; a host used by one project cannot be claimed by another. A claim's age is
when the route first asked for that host+path. Messages never name another project's objects."""

from django.utils import timezone

from routes.models import HostClaim, Route


def wanted_claims(spec, ingress_class: str) -> set[tuple[str, str, str]]:
    return {(ingress_class, rule.host, path.path) for rule in spec.rules if rule.host for path in rule.paths}


def sync_claims(route: Route, spec, ingress_class: str) -> None:
    """Makes the route's claims match the host+paths it asks for, keeping the age of those it
    already had."""
    wanted = wanted_claims(spec, ingress_class) if ingress_class else set()
    existing = {(c.ingress_class, c.host, c.path): c for c in route.claims.all()}
    stale = [claim.pk for key, claim in existing.items() if key not in wanted]
    if stale:
        HostClaim.objects.filter(pk__in=stale).delete()
    HostClaim.objects.bulk_create(new_claims(route, wanted - set(existing), timezone.now()))


def claim_new(pairs, ingress_class: str) -> None:
    """The claims of new routes, (route, spec) pairs, in one statement."""
    now = timezone.now()
    HostClaim.objects.bulk_create(
        claim
        for route, spec in pairs
        for claim in new_claims(route, wanted_claims(spec, ingress_class) if ingress_class else set(), now)
    )


def new_claims(route: Route, keys: set[tuple[str, str, str]], now) -> list[HostClaim]:
    return [
        HostClaim(route=route, project_id=route.project_id, ingress_class=c, host=h, path=p, claimed_at=now)
        for c, h, p in sorted(keys)
    ]


def admissions(routes: list[Route]) -> dict[int, str]:
    """Why each route is not admitted, by primary key ("" when it is), for routes whose claims are
    in sync: one query for every claim on their hosts."""
    hosts = {claim.host for route in routes for claim in route.claims.all()}
    on_host: dict[str, list[dict]] = {}
    claims = HostClaim.objects.filter(host__in=hosts, route__deletion_requested=False)
    fields = ("pk", "route_id", "project_id", "ingress_class", "host", "path", "claimed_at", "route__name")
    for other in claims.values(*fields):
        on_host.setdefault(other["host"], []).append(other)
    return {route.pk: refusal(route, on_host) for route in routes}


def refusal(route: Route, on_host: dict[str, list[dict]]) -> str:
    """Why the route is not admitted given the claims on its hosts, or "": the oldest claim on a
    host+path holds it, and a host belongs to the project that claimed it first."""
    for claim in route.claims.all():
        older = sorted(
            (
                other
                for other in on_host.get(claim.host, [])
                if other["route_id"] != route.pk and (other["claimed_at"], other["pk"]) < (claim.claimed_at, claim.pk)
            ),
            key=lambda other: (other["claimed_at"], other["pk"]),
        )
        if any(other["project_id"] != route.project_id for other in older):
            return f"Host {claim.host} is already used by another project."
        holder = next((o for o in older if (o["ingress_class"], o["path"]) == (claim.ingress_class, claim.path)), None)
        if holder is not None:
            return f"{claim.host}{claim.path} is already claimed by the older route {holder['route__name']}."
    return ""


def competitors(route: Route) -> list[int]:
    """Other routes asking for any host this route asks for: their admission may change with it."""
    hosts = route.claims.values("host")
    return list(
        HostClaim.objects.filter(host__in=hosts).exclude(route=route).values_list("route_id", flat=True).distinct()
    )
