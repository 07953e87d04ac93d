"""Celery tasks that bring a route's Ingress in line with its row: generated hosts follow the
gateway, host claims decide admission, the answer comes back as conditions and visit URLs."""

import hashlib
import json

from celery import shared_task
from django.db import transaction
from django.db.models import F

from console import cluster
from console.conditions import condition
from console.reconcile import (
    check_namespace,
    enqueue,
    exclusively,
    follow,
    record_refusal,
    register,
    requeue_if_changed,
    retry_later,
    send,
    wait_for_namespace,
)
from gateways import flavors
from routes import hosts, live, render
from routes import spec as route_spec
from routes.claims import admission, competitors, sync_claims
from routes.models import Route, RouteRule
from tenants.reconcile import namespace_ready

ALL_KINDS = render.INGRESS_KINDS + render.INGRESS_ROUTE_KINDS


@shared_task(bind=True, name="routes.reconcile_route", ignore_result=True)
def reconcile_route(self, route_id: int) -> str:
    with exclusively(self, Route, route_id):
        return _reconcile_route(self, route_id)


def _reconcile_route(self, route_id: int) -> str:
    route = Route.objects.select_related("project", "gateway__project").filter(pk=route_id).first()
    if route is None:
        return "gone"
    try:
        if route.deletion_requested:
            return remove_route(route)
        gateway = route.gateway
        if gateway is None or not gateway.enabled:
            return park(route, "GatewayDisabled", "The project's gateway is disabled, so the route is not served.")
        if not namespace_ready(route.project):
            wait_for_namespace(self, Route, route)
        return apply_route(route, gateway)
    except PermissionError as error:
        return record_refusal(Route, route.pk, error)
    except cluster.ClusterError as error:
        failed = [
            condition("Synced", False, "ApplyFailed", error.message),
            condition("Ready", False, "ApplyFailed", error.message),
        ]
        Route.record_status(route.pk, failed)
        if error.retryable:
            retry_later(self, error)
        return "failed"


def apply_route(route: Route, gateway) -> str:
    generation = route.generation
    spec = refresh_hosts(route, gateway)
    accepted = condition("Accepted", True, "Valid", "The route is valid.")
    if any(not rule.host for rule in spec.rules):
        return park(
            route, "WaitingForGatewayAddress", "Generated hosts need the gateway's address, which is not known yet."
        )
    admitted, why = admission(route)
    if not admitted:
        applied = take_out(route)
        current = Route.record_status(
            route.pk,
            [
                accepted,
                condition("Admitted", False, "HostAlreadyClaimed", why),
                condition("Synced", True, "NotApplied", "The route is not admitted, so it has no Ingress."),
                condition("Ready", False, "HostAlreadyClaimed", why),
            ],
            observed_generation=generation,
            urls=[],
            load_balancer=[],
            applied=applied,
        )
        requeue_if_changed(route, generation, current)
        return "not admitted"
    traefik_crd = gateway.flavor == flavors.TRAEFIK and live.ingress_routes_served(fresh=True)
    wanted = render.manifests(spec, gateway, route.owner, traefik_crd)
    check_namespace(wanted, route.namespace)
    applied, load_balancer = put_in_cluster(route, wanted)
    current = Route.record_status(
        route.pk,
        [
            accepted,
            condition("Admitted", True, "Admitted", "The route holds its hosts and paths."),
            condition("Synced", True, "Applied", f"{wanted[0]['kind']} {route.name} is applied."),
            ready_condition(route, spec, gateway),
        ],
        observed_generation=generation,
        urls=hosts.visit_addresses(spec, gateway),
        load_balancer=load_balancer,
        applied=applied,
    )
    requeue_if_changed(route, generation, current)
    return "applied"


def digest(manifests: list[dict]) -> str:
    return hashlib.sha256(json.dumps(manifests, sort_keys=True).encode()).hexdigest()


def put_in_cluster(route: Route, wanted: list[dict]) -> tuple[dict, list]:
    """Applies the wanted manifests unless the last apply (`route.applied`, read with the row under
    its lock) put exactly these in place, and deletes what the last apply put there and is no longer
    wanted. Returns the new record of what is in the cluster and the Ingress's load-balancer status.
    No reads: the record says what is there, and the periodic pass checks it with one list per kind."""
    wanted_digest = digest(wanted)
    if route.applied.get("digest") == wanted_digest:
        return route.applied, route.load_balancer
    live = [cluster.apply_owned(manifest, exact_spec=True) for manifest in wanted]
    record = {"digest": wanted_digest, "objects": [cluster.applied_record(obj) for obj in live]}
    remove_recorded(route, route.applied, keep=record["objects"])
    return record, (live[0].get("status", {}).get("loadBalancer") or {}).get("ingress") or []


def remove_recorded(route: Route, previous: dict, keep: list[dict] = ()) -> None:
    """Deletes the objects the last apply recorded, except those in `keep`."""
    kept = {(obj["kind"], obj["name"]) for obj in keep}
    for obj in previous.get("objects", []):
        if (obj["kind"], obj["name"]) not in kept:
            cluster.delete(obj["apiVersion"], obj["kind"], obj["name"], route.namespace)


def take_out(route: Route) -> dict:
    """Removes whatever the last apply put in the cluster for this route; returns the record of what
    is there now (nothing), for the status write."""
    remove_recorded(route, route.applied)
    return {}


def refresh_hosts(route: Route, gateway) -> route_spec.RouteSpec:
    """Generated hosts follow the gateway's address and domain; claims follow the hosts."""
    spec = route_spec.from_route(route)
    resolved = hosts.resolved_hosts(spec, route.project.name, gateway)
    if resolved != [rule.host for rule in spec.rules] or not route.claims.exists():
        with transaction.atomic():
            for rule, host in zip(route.rules.all(), resolved, strict=True):
                if rule.host != host:
                    RouteRule.objects.filter(pk=rule.pk).update(host=host)
            spec = spec.with_hosts(resolved)
            sync_claims(route, spec, gateway.ingress_class)
        for other in competitors(route):
            send(reconcile_route, other)
    return spec


def ready_condition(route: Route, spec, gateway) -> dict:
    missing = live.backends_missing(spec)
    if missing:
        return condition("Ready", False, "BackendNotFound", f"Not found in this project (yet): {', '.join(missing)}.")
    if gateway.state != "Ready":
        gateway_ready = gateway.condition("Ready") or {}
        return condition(
            "Ready", False, "GatewayNotReady", f"The gateway is not ready: {gateway_ready.get('message', 'pending')}"
        )
    return condition("Ready", True, "Ready", "The route is served by the gateway.")


def park(route: Route, reason: str, message: str) -> str:
    """Takes the route out of the cluster while it cannot be served, keeping its row."""
    applied = take_out(route)
    current = Route.record_status(
        route.pk,
        [condition("Synced", True, reason, message), condition("Ready", False, reason, message)],
        observed_generation=route.generation,
        urls=[],
        load_balancer=[],
        applied=applied,
    )
    requeue_if_changed(route, route.generation, current)
    return reason


def remove_route(route: Route) -> str:
    """Deletes the route's cluster objects (all carrying its ownership label, recorded or not), then
    the row; routes waiting for its hosts get another look."""
    cluster.delete_unwanted(route.owner, served_kinds(), [], route.namespace)
    waiting = competitors(route)
    route.delete()
    for other in waiting:
        send(reconcile_route, other)
    return "deleted"


# Ready reasons that wait on something outside the route which tells no one when it changes: a
# host held by another route, a backend Service, the gateway's address. (A gateway's readiness
# does tell: routes follow their gateway.)
WAITING_ON_OTHERS = ("HostAlreadyClaimed", "BackendNotFound", "WaitingForGatewayAddress")


def served_kinds() -> list[tuple[str, str]]:
    return ALL_KINDS if live.ingress_routes_served() else render.INGRESS_KINDS


def drifted_routes() -> list[int]:
    """In-sync routes to reconcile again: those waiting on others, and those whose objects in the
    cluster are not what the last apply recorded (deleted, replaced, their spec, labels or
    annotations changed by someone else). One list per kind, no per-route reads; a new load-balancer
    address is written to the row directly, and objects of routes that no longer exist are deleted."""
    settled = Route.objects.filter(deletion_requested=False, observed_generation__gte=F("generation"))
    queued = set(settled.filter(ready_reason__in=WAITING_ON_OTHERS).values_list("pk", flat=True))
    live = live_route_objects()
    recorded, reapply, new_addresses = set(), [], []
    rows = settled.values_list("pk", "project__name", "applied", "load_balancer")  # a project's namespace is its name
    for pk, namespace, applied, load_balancer in rows.iterator(chunk_size=2000):
        keys = [(obj["kind"], namespace, obj["name"]) for obj in applied.get("objects", [])]
        recorded.update(keys)
        if any(cluster.drifted(live.get(key), obj) for key, obj in zip(keys, applied.get("objects", []), strict=True)):
            queued.add(pk)
            reapply.append(Route(pk=pk, applied={**applied, "digest": ""}))  # apply again, whatever it renders
        elif keys:
            now = (live[keys[0]].get("status", {}).get("loadBalancer") or {}).get("ingress") or []
            if now != load_balancer:
                new_addresses.append(Route(pk=pk, load_balancer=now))
    Route.objects.bulk_update(reapply, ["applied"], batch_size=500)
    Route.objects.bulk_update(new_addresses, ["load_balancer"], batch_size=500)
    delete_orphans({key: obj for key, obj in live.items() if key not in recorded})
    return sorted(queued)


def live_route_objects() -> dict[tuple[str, str, str], dict]:
    """The console's route objects in the cluster by (kind, namespace, name): one list per kind."""
    live = {}
    selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
    for api_version, kind in served_kinds():
        for item in cluster.list_objects(api_version, kind, selector=selector, cached=True):
            item.setdefault("apiVersion", api_version)
            live[(kind, item["metadata"]["namespace"], item["metadata"]["name"])] = item
    return live


def delete_orphans(unrecorded: dict) -> None:
    """Deletes the console's route objects whose route no longer exists (its row was removed while
    the cluster could not be reached, say). Objects of existing routes are left alone: a reconcile
    may be about to record them."""
    owners = {}
    for (kind, namespace, name), obj in unrecorded.items():
        pk = Route.pk_of_owner(obj["metadata"].get("labels", {}).get(cluster.OWNER, ""))
        if pk is not None:
            owners.setdefault(pk, []).append((obj["apiVersion"], kind, name, namespace))
    existing = set(Route.objects.filter(pk__in=owners).values_list("pk", flat=True))
    for pk, objects in owners.items():
        if pk not in existing:
            for api_version, kind, name, namespace in objects:
                cluster.delete(api_version, kind, name, namespace)


def gateway_changed(gateway) -> None:
    """A gateway's mode, address or flavor changed: its routes follow."""
    for pk in Route.objects.filter(gateway=gateway, deletion_requested=False).values_list("pk", flat=True):
        enqueue(reconcile_route, pk)


register(Route, reconcile_route, drifted_routes)
follow("gateway", gateway_changed)
