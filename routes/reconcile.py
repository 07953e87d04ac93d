"""Celery tasks that bring a route's Ingress in line with its row: generated hosts follow the
gateway, host claims decide admission, the answer comes back as conditions and visit URLs."""

import time

from celery import shared_task
from django.db import transaction

from console import cluster
from console.conditions import condition
from console.reconcile import (
    check_namespace,
    enqueue,
    follow,
    record_refusal,
    register,
    requeue_if_changed,
    retry_later,
    send,
)
from gateways import flavors
from routes import hosts, live, render
from routes import spec as route_spec
from routes.claims import admission, competitors, sync_claims
from routes.models import Route, RouteRule
from tenants.reconcile import namespace_ready

NAMESPACE_POLL_SECONDS = 2
ALL_KINDS = render.INGRESS_KINDS + render.INGRESS_ROUTE_KINDS


@shared_task(bind=True, name="routes.reconcile_route", ignore_result=True)
def reconcile_route(self, route_id: int) -> str:
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
            message = f"Waiting for namespace {route.namespace} to be ready."
            Route.record_status(route.pk, [condition("Synced", False, "WaitingForNamespace", message)])
            retry_later(self, cluster.ClusterError(message), countdown=NAMESPACE_POLL_SECONDS)
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
        delete_objects(route, [])
        Route.record_status(
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
        )
        requeue_if_changed(route, generation)
        return "not admitted"
    traefik_crd = gateway.flavor == flavors.TRAEFIK and ingress_routes_served(fresh=True)
    wanted = render.manifests(spec, gateway, route.owner, traefik_crd)
    check_namespace(wanted, route.namespace)
    applied = [cluster.apply(manifest) for manifest in wanted]
    delete_objects(route, wanted)
    load_balancer = (applied[0].get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    Route.record_status(
        route.pk,
        [
            accepted,
            condition("Admitted", True, "Admitted", "The route holds its hosts and paths."),
            condition("Synced", True, "Applied", f"{applied[0]['kind']} {route.name} is applied."),
            ready_condition(route, spec, gateway),
        ],
        observed_generation=generation,
        urls=hosts.visit_addresses(spec, gateway),
        load_balancer=load_balancer,
    )
    requeue_if_changed(route, generation)
    return "applied"


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
    delete_objects(route, [])
    Route.record_status(
        route.pk,
        [condition("Synced", True, reason, message), condition("Ready", False, reason, message)],
        observed_generation=route.generation,
        urls=[],
        load_balancer=[],
    )
    requeue_if_changed(route, route.generation)
    return reason


def delete_objects(route: Route, wanted: list[dict]) -> None:
    cluster.delete_unwanted(
        route.owner, ALL_KINDS if ingress_routes_served() else render.INGRESS_KINDS, wanted, route.namespace
    )


def remove_route(route: Route) -> str:
    """Deletes the route's cluster objects, then the row; routes waiting for its hosts get another look."""
    delete_objects(route, [])
    waiting = competitors(route)
    route.delete()
    for other in waiting:
        send(reconcile_route, other)
    return "deleted"


_crd_checked = {"at": 0.0, "served": False}
CRD_RECHECK_SECONDS = 10


def ingress_routes_served(fresh: bool = False) -> bool:
    """Whether the cluster serves Traefik's IngressRoute CRD. Routes of Traefik gateways ask
    afresh; cleaning up after other routes may use an answer up to 10 seconds old."""
    now = time.monotonic()
    if fresh or now - _crd_checked["at"] > CRD_RECHECK_SECONDS:
        try:
            cluster.request("GET", "/apis/traefik.io/v1alpha1")
            served = True
        except cluster.NotFound:
            served = False
        _crd_checked.update(at=now, served=served)
    return _crd_checked["served"]


def unsettled_routes() -> list[int]:
    """In-sync routes that wait on something outside themselves: a host held by another route, a
    gateway that is not ready, a backend that does not exist yet."""
    waiting = ("HostAlreadyClaimed", "GatewayNotReady", "BackendNotFound", "WaitingForGatewayAddress")
    candidates = Route.objects.filter(deletion_requested=False, observed_generation__gte=1).only(
        "pk", "conditions", "generation", "observed_generation"
    )
    return [r.pk for r in candidates if r.in_sync and (r.condition("Ready") or {}).get("reason") in waiting]


def gateway_changed(gateway) -> None:
    """A gateway's mode, address or flavor changed: its routes follow."""
    for pk in Route.objects.filter(gateway=gateway, deletion_requested=False).values_list("pk", flat=True):
        enqueue(reconcile_route, pk)


register(Route, reconcile_route, unsettled_routes)
follow("gateway", gateway_changed)
