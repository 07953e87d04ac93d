"""Host claims, as OpenShift routes have them: within an ingress class the oldest claim on a
host+path holds it; a host used by one project cannot be claimed by another, nor a host a wildcard
of another project covers, nor a wildcard over another project's host; a project's generated host
names are its own whatever the age of another's claim. A claim's age is when the route first asked
for that host+path. Messages never name another project's objects."""

from django.conf import settings
from django.db.models import Q

from console import hostnames
from gateways.models import Gateway
from routes import hosts
from routes.models import HostClaim, Route


def wanted_claims(spec, ingress_class: str) -> set[tuple[str, str, str]]:
    return {(ingress_class, rule.host, path.path) for rule in spec.rules if rule.host for path in rule.paths}


def sync_claims(served: list[tuple[Route, object, str]]) -> dict[int, set[str]]:
    """Makes each route's claims match the host+paths it is served at, (route, spec as served,
    ingress class) triples with the routes' claims prefetched, in one delete and one insert however
    many routes there are. The worker alone calls this: a claim it makes takes the age of the
    route's last rules change; one the route keeps, its own. Returns, by route, the hosts whose
    claims changed (taken or given up)."""
    stale, new, changed = [], [], {}
    for route, spec, ingress_class in served:
        wanted = wanted_claims(spec, ingress_class) if ingress_class else set()
        asked_at = route.rules_changed
        existing = {(c.ingress_class, c.host, c.path): c.pk for c in route.claims.all()}
        gone = {key: pk for key, pk in existing.items() if key not in wanted}
        added = [
            HostClaim(route=route, project_id=route.project_id, ingress_class=c, host=h, path=p, claimed_at=asked_at)
            for c, h, p in sorted(wanted - set(existing))
        ]
        if gone or added:
            stale += gone.values()
            new += added
            changed[route.pk] = {host for _, host, _ in gone} | {claim.host for claim in added}
    if stale:
        HostClaim.objects.filter(pk__in=stale).delete()
    HostClaim.objects.bulk_create(new)
    return changed


def admissions(routes: list[Route]) -> dict[int, str]:
    """Why each route is not admitted, by primary key ("" when it is), for routes whose claims are
    in sync: one query for every claim on their hosts and on the hosts those overlap (wildcards
    covering them, hosts under theirs), one for the gateways' default domains."""
    asked = {claim.host for route in routes for claim in route.claims.all()}
    domains = default_domains()
    on_host: dict[str, list[dict]] = {}
    fields = ("pk", "route_id", "project__name", "ingress_class", "host", "path", "claimed_at", "route__name")
    for other in overlapping(asked).filter(route__deletion_requested=False).values(*fields):
        on_host.setdefault(other["host"], []).append(other)
    return {route.pk: refusal(route, on_host, domains) for route in routes}


def default_domains() -> dict[str, str]:
    """{default domain: project name} of every gateway that has one: names under a default domain
    are its project's own."""
    return dict(Gateway.objects.exclude(default_domain="").values_list("default_domain", "project__name"))


def overlapping(asked: set[str]):
    """The claims on these hosts and on every host that overlaps one of them."""
    query = Q(host__in=asked | {wildcard for host in asked for wildcard in hostnames.wildcards_over(host)})
    for host in asked:
        if host.startswith("*."):
            query |= Q(host__endswith=f".{hostnames.name_of(host)}")
    return HostClaim.objects.filter(query) if asked else HostClaim.objects.none()


def refusal(route: Route, on_host: dict[str, list[dict]], domains: dict[str, str]) -> str:
    """Why the route is not admitted given the claims on and around its hosts, or "". A host in a
    project's generated names is that project's alone; otherwise a host (with every host its
    wildcard covers) belongs to the project that claimed it first, and within a project the oldest
    claim on a host+path holds it. Messages say that a host is taken, never by whom."""
    project = route.project.name
    for claim in route.claims.all():
        owner = hosts.generated_space_owner(claim.host, domains, settings.CONSOLE_DEFAULT_DOMAIN)
        if owner not in (None, project) or hosts.covers_generated_spaces(
            claim.host, project, domains, settings.CONSOLE_DEFAULT_DOMAIN
        ):
            return f"Host {claim.host} is among the host names the console generates for another project."
        mine = (claim.claimed_at, claim.pk)
        others = [o for o in overlapping_claims(claim.host, on_host) if o["project__name"] != project]
        if any(holds_over(other, mine, owner, domains) for other in others):
            return f"Host {claim.host} is already used by another project."
        older = [
            o
            for o in on_host.get(claim.host, [])
            if o["project__name"] == project and o["route_id"] != route.pk and (o["claimed_at"], o["pk"]) < mine
        ]
        same = [o for o in older if (o["ingress_class"], o["path"]) == (claim.ingress_class, claim.path)]
        if same:
            holder = min(same, key=lambda o: (o["claimed_at"], o["pk"]))
            return f"{claim.host}{claim.path} is already claimed by the older route {holder['route__name']}."
    return ""


def overlapping_claims(host: str, on_host: dict[str, list[dict]]) -> list[dict]:
    """The claims on `host`, on the wildcards covering it and, for a wildcard, on the hosts under it."""
    found = [o for asked in (host, *hostnames.wildcards_over(host)) for o in on_host.get(asked, [])]
    if host.startswith("*."):
        below = f".{hostnames.name_of(host)}"
        found += [o for asked, listed in on_host.items() if asked != host and asked.endswith(below) for o in listed]
    return found


def holds_over(other: dict, mine: tuple, owner: str | None, domains: dict[str, str]) -> bool:
    """Whether another project's overlapping claim keeps ours (`mine`: its age and key; `owner`: whose
    generated names our host is among) from being admitted: theirs is in their own generated names,
    or neither is in anyone's and theirs is older. A claim in a third project's generated names holds
    nothing."""
    theirs = hosts.generated_space_owner(other["host"], domains, settings.CONSOLE_DEFAULT_DOMAIN)
    if theirs is not None:
        return theirs == other["project__name"]
    return owner is None and (other["claimed_at"], other["pk"]) < mine


def competitors(asked: set[str], besides: list[int]) -> list[int]:
    """Routes, other than `besides`, asking for a host that overlaps one of `asked`: their admission
    may change with the claims on these hosts. One query."""
    others = overlapping(asked).exclude(route_id__in=besides)
    return sorted(set(others.values_list("route_id", flat=True)))
