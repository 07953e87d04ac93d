"""Celery tasks that bring a route's Ingress in line with its row: generated hosts follow the
gateway, host claims decide admission, the answer comes back as conditions and visit URLs."""

import functools
import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, replace
from typing import NamedTuple

from celery import shared_task
from django.db import transaction
from django.db.models import F, prefetch_related_objects

from console import cluster
from console.conditions import cleared, condition
from console.models import Answer
from console.reconcile import (
    OBSERVE_DELAYS,
    SWITCH_LOOK_SECONDS,
    apply_failed,
    check_namespace,
    enqueue,
    exclusively,
    exclusively_each,
    follow,
    look_again,
    refusal,
    register,
    requeue_if_changed,
    retry_alone,
    retry_later,
    rows_carrying,
    send,
    send_later,
    wait_for_namespace,
)
from gateways import flavors, policy
from gateways.models import AnnotationAllowance
from gateways.reconcile import (
    CONTROLLER_ROLLING,
    CONTROLLER_SETTLED,
    controller_state,
    observe_listeners,
    reconcile_gateway,
)
from routes import controller_status, hosts, live, render
from routes import spec as route_spec
from routes.claims import admissions, competitors, sync_claims
from routes.models import Route, RouteRule
from tenants.reconcile import namespace_ready

log = logging.getLogger(__name__)

# A run over many routes takes their locks and writes their status this many at a time, and keeps
# this many applies in flight (the API server's own work is the floor; one client waiting for each
# answer in turn leaves it idle in between).
CHUNK = 50
APPLIES_IN_FLIGHT = 12


@shared_task(bind=True, name="routes.reconcile_route", ignore_result=True)
def reconcile_route(self, route_id: int) -> str:
    with exclusively(self, Route, route_id):
        return _reconcile_route(self, route_id)


@shared_task(bind=True, name="routes.reconcile_routes", ignore_result=True)
def reconcile_routes(self, route_ids: list[int]) -> dict:
    """Reconciles many routes in one run (routes created together, a gateway's routes): per chunk,
    one read of the routes with their rules, paths and claims, one admission query, one list of
    Services per namespace, the applies issued concurrently, one status write. What a route needs
    beyond that (being deleted, waiting for its namespace, a retry after a failed apply, a lock
    another run holds) it gets from reconcile_route, alone."""
    outcome = Counter()
    for start in range(0, len(route_ids), CHUNK):
        alone = []
        with exclusively_each(reconcile_route, Route, route_ids[start : start + CHUNK]) as held:
            routes = list(loaded_routes(held))
            alone = [route.pk for route in routes if needs_a_run_of_its_own(route)]
            served = [route for route in routes if route.pk not in alone]
            for route, (result, error) in zip(served, reconcile_served(served), strict=True):
                outcome[result] += 1
                if error is not None and error.retryable:
                    retry_alone(reconcile_route, route.pk)
        for pk in alone:
            send(reconcile_route, pk)
        outcome["alone"] += len(alone)
    return dict(outcome)


def loaded_routes(pks):
    return (
        Route.objects.select_related("project", "gateway__project")
        .prefetch_related("rules__paths", "claims")
        .filter(pk__in=pks)
        .order_by("pk")
    )


def needs_a_run_of_its_own(route: Route) -> bool:
    return route.deletion_requested or (serving(route) and not namespace_ready(route.project))


def serving(route: Route) -> bool:
    return route.gateway is not None and route.gateway.enabled


def _reconcile_route(self, route_id: int) -> str:
    route = loaded_routes([route_id]).first()
    if route is None:
        return "gone"
    if route.deletion_requested:
        try:
            return remove_route(route)
        except cluster.ClusterError as error:
            record_failure(route.pk, error)
            if error.retryable:
                retry_later(self, error)
            return "failed"
    if serving(route) and not namespace_ready(route.project):
        wait_for_namespace(self, Route, route)
    [(result, error)] = reconcile_served([route])
    if error is not None and error.retryable:
        retry_later(self, error)
    return result


@dataclass
class Plan:
    """What one route's reconcile puts in the cluster (`wanted`; an empty list takes the route out)
    and, once that is done, records."""

    route: Route
    wanted: list[dict]
    conditions: list[dict]
    urls: list[dict]
    result: str
    # The objects of the kind the route leaves stay in the cluster for now (held_for_the_switch).
    hold: bool = False


def reconcile_served(routes: list[Route]) -> list[tuple[str, Exception | None]]:
    """Brings routes that are not being deleted, and whose namespace is ready when their gateway
    serves them, in line with their rows; returns (result, error) per route, in order. The cluster
    work of different routes runs concurrently; a failure marks only its own route."""
    if not routes:
        return []
    try:
        traefik_crd = any(serving(r) and r.gateway.flavor == flavors.TRAEFIK for r in routes) and (
            live.ingress_routes_served(fresh=True)
        )
    except cluster.ClusterError as error:  # the API server cannot say: every route failed alike
        Route.record_statuses({route.pk: Answer(apply_failed(error)) for route in routes})
        return [("failed", error)] * len(routes)
    specs = derived([route for route in routes if serving(route)])
    plans, answers, results = planned(
        routes, specs, Reads(traefik_crd, functools.cache(live.services), AnnotationAllowance.as_policy())
    )
    held_for_the_switch(plans.values())
    for pk, done in zip(plans, concurrently(carry_out, plans.values()), strict=True):
        answers[pk], results[pk] = answered(plans[pk], done)
    current = Route.record_statuses(answers)
    follow_up(routes, plans, results, specs, current)
    return [results[route.pk] for route in routes]


def planned(routes: list[Route], specs: dict, reads: "Reads") -> tuple[dict, dict, dict]:
    """Each route's Plan, by primary key, and the answers and results of those that could not be
    planned (a refused annotation, a read that failed: that route alone)."""
    plans, answers, results = {}, {}, {}
    refused = admissions([route for route in routes if route.pk in specs])
    for route in routes:
        try:
            plans[route.pk] = plan(route, specs.get(route.pk), refused.get(route.pk, ""), reads)
        except PermissionError as error:
            answers[route.pk] = refusal(Route, route.pk, error)
            results[route.pk] = ("refused", None)
        except cluster.ClusterError as error:  # a read the plan needed failed: this route alone retries
            answers[route.pk] = Answer(apply_failed(error))
            results[route.pk] = ("failed", error)
    return plans, answers, results


def answered(step: Plan, done) -> tuple[Answer, tuple[str, Exception | None]]:
    """What carrying out a plan answered: its route's status and result."""
    if isinstance(done, cluster.ClusterError):
        return Answer(apply_failed(done)), ("failed", done)
    applied, load_balancer = done
    fields = {"urls": step.urls, "load_balancer": load_balancer, "applied": applied}
    if step.hold and step.route.gateway.state != "Error":
        # A new controller that cannot start may never: its gateway's Ready turning brings the
        # route back (routes follow their gateway), so it does not look every few seconds.
        look_again(reconcile_route, step.route.pk, SWITCH_LOOK_SECONDS)
    return Answer(step.conditions, step.route.generation, fields), (step.result, None)


def follow_up(routes: list[Route], plans: dict, results: dict, specs: dict, current: dict) -> None:
    """What follows the answers: another run for routes edited meanwhile, drift counts answered,
    gateways that need listeners for new hosts, and a look at what a Gateway API controller says."""
    for route in routes:
        if route.pk in plans and results[route.pk][1] is None:
            requeue_if_changed(route, route.generation, current.get(route.pk))
    answered_drift(route for route in routes if route.reapply and route.pk in results and results[route.pk][1] is None)
    for gateway_id in gateways_lacking_listeners(plans.values(), specs):
        send(reconcile_gateway, gateway_id)
    for pk, step in plans.items():
        if results[pk] == ("applied", None) and step.route.gateway.serves_gateway_api:
            send_later(observe_route, pk, 0)  # the controller answers on the objects a moment later


@shared_task(name="routes.observe_route", ignore_result=True)
def observe_route(route_id: int, attempt: int = 0) -> str:
    """Reads what the gateway's controller wrote on a route's HTTPRoutes and GRPCRoutes and records
    it as the route's Attached and ResolvedRefs conditions; looks again later, a few times, while
    the controller has not answered (after that the periodic pass watches it)."""
    route = Route.objects.filter(pk=route_id, deletion_requested=False).first()
    recorded = [
        obj
        for obj in (route.applied if route else {}).get("objects", [])
        if obj["kind"] in controller_status.GATEWAY_API_KINDS
    ]
    if not recorded:
        return "nothing to observe"
    try:
        live_objects = [cluster.get(obj["apiVersion"], obj["kind"], obj["name"], route.namespace) for obj in recorded]
    except cluster.ClusterError as error:
        log.warning("could not observe route %s, the next resync will: %s", route_id, error.message)
        return "failed"
    said = controller_status.route_conditions([controller_status.parent_answer(obj or {}) for obj in live_objects])
    if controller_status.differs(route.conditions, said):
        Route.record_status(route.pk, said)
    if any(item["status"] == "Unknown" for item in said) and attempt + 1 < len(OBSERVE_DELAYS):
        send_later(observe_route, route_id, attempt + 1)
        return "waiting"
    observe_listeners(route.gateway_id)  # the route counts among its listener's attached routes now
    return "observed"


def gateways_lacking_listeners(steps, specs: dict) -> set[int]:
    """Gateways serving the Gateway API whose Gateway has no HTTPS listener yet for a TLS host of
    these routes (with its secret): their reconcile adds it."""
    return {
        step.route.gateway_id
        for step in steps
        if step.wanted
        and step.route.gateway.serves_gateway_api
        and not render.tls_hosts(specs[step.route.pk]).items()
        <= step.route.gateway.applied.get("tls_hosts", {}).items()
    }


def route_api_of(obj: dict) -> bool:
    """Whether an object is one of the Gateway API's routes (else an Ingress or IngressRoute)."""
    return (obj["apiVersion"], obj["kind"]) in render.GATEWAY_API_KINDS


def left_behind(record: dict, wanted: list[dict]) -> list[dict]:
    """The objects an apply recorded of kinds the wanted ones no longer have: what a route leaves
    when its gateway switches between Ingress and the Gateway API, or to a controller that reads
    Ingresses instead of Traefik's IngressRoutes (or back)."""
    kinds = {(obj["apiVersion"], obj["kind"]) for obj in wanted}
    return [obj for obj in record.get("objects", []) if (obj["apiVersion"], obj["kind"]) not in kinds]


def unanswered(step: Plan) -> bool:
    """Whether the controller has yet to answer for a route moving onto the Gateway API (its
    HTTPRoutes take requests once it attached them); a route moving off it waits for no answer."""
    if not any(route_api_of(obj) for obj in step.wanted):
        return False
    return (step.route.condition("Attached") or {}).get("status") not in ("True", "False")


def held_for_the_switch(steps) -> None:
    """Holds what routes leave when their gateway switches between Ingress and the Gateway API, or
    between controllers, while its controller does not run the new configuration alone, or (onto
    the Gateway API) has not attached the route yet: until then only the kind left behind is
    served, so both stay and a switch drops no request. One look at each gateway's Deployment."""
    states = {}
    for step in steps:
        gateway, leaving = step.route.gateway, left_behind(step.route.applied, step.wanted)
        if not (step.wanted and leaving):
            continue
        if gateway.pk not in states:
            try:
                states[gateway.pk] = controller_state(gateway)
            except cluster.ClusterError:  # cannot tell: hold, and look again
                states[gateway.pk] = CONTROLLER_ROLLING
        state = states[gateway.pk]  # a controller that is down serves nothing: nothing to hold for
        if state == CONTROLLER_ROLLING or (state == CONTROLLER_SETTLED and unanswered(step)):
            step.hold = True
            kinds = " and ".join(sorted({obj["kind"] for obj in leaving}))
            message = (
                f"{step.wanted[0]['kind']} {step.route.name} is applied; its {kinds} stay until the gateway's "
                "controller runs its new configuration, so the route is served throughout the switch."
            )
            step.conditions = [
                condition("Synced", True, "Switching", message) if item["type"] == "Synced" else item
                for item in step.conditions
            ]


class Reads(NamedTuple):
    """What a batch's plans read once: whether the cluster serves Traefik's CRDs, the namespaces'
    Services (cached per namespace) and the platform's annotation allowances."""

    traefik_crd: bool
    services_of: object
    allowances: dict


def plan(route: Route, spec, refused: str, reads: Reads) -> Plan:
    step = _plan(route, spec, refused, reads)
    if not (step.wanted and route.gateway.serves_gateway_api):  # no controller to answer for the route
        step.conditions += [cleared(type_) for type_ in controller_status.ROUTE_TYPES.values()]
    return step


def _plan(route: Route, spec, refused: str, reads: Reads) -> Plan:
    gateway, services_of = route.gateway, reads.services_of
    traefik_crd = reads.traefik_crd and gateway.flavor == flavors.TRAEFIK
    if not serving(route):
        return parked(route, "GatewayDisabled", "The project's gateway is disabled, so the route is not served.")
    if any(not rule.host for rule in spec.rules):
        return parked(
            route, "WaitingForGatewayAddress", "Generated hosts need the gateway's address, which is not known yet."
        )
    accepted = condition("Accepted", True, "Valid", "The route is valid.")
    renders = policy.INGRESS_ROUTE if traefik_crd and not gateway.serves_gateway_api else policy.INGRESS
    if dropped := policy.refused_now(spec.annotations, gateway.flavor, reads.allowances, renders=renders):
        spec = replace(spec, annotations={k: v for k, v in spec.annotations.items() if k not in dropped})
        accepted = condition("Accepted", False, "AnnotationNotAllowed", policy.refused_condition_message(dropped))
    if refused:
        conditions = [
            accepted,
            condition("Admitted", False, "HostAlreadyClaimed", refused),
            condition("Synced", True, "NotApplied", "The route is not admitted, so it has no Ingress."),
            condition("Ready", False, "HostAlreadyClaimed", refused),
        ]
        return Plan(route, [], conditions, [], "not admitted")
    if external := live.external_name_backends(spec, services_of):
        return parked(
            route,
            "ExternalNameBackend",
            f"Not applied: {', '.join(external)} {'is' if len(external) == 1 else 'are'} of type ExternalName, which "
            "no gateway here proxies to, as it could reach addresses outside this project. Name Services with pods.",
        )
    numbers = {}
    if gateway.serves_gateway_api:
        numbers, unknown = live.port_numbers(spec, services_of)
        if unknown:
            names = ", ".join(f"{service}:{port}" for service, port in unknown)
            message = f"A Gateway API route needs port numbers; not found in this project (yet): {names}."
            return parked(route, "BackendNotFound", message)
    wanted = render.manifests(spec, gateway, route.owner, traefik_crd, numbers)
    check_namespace(wanted, route.namespace)
    conditions = [
        accepted,
        condition("Admitted", True, "Admitted", "The route holds its hosts and paths."),
        condition("Synced", True, "Applied", f"{wanted[0]['kind']} {route.name} is applied."),
        ready_condition(route, spec, gateway, services_of),
    ]
    return Plan(route, wanted, conditions, hosts.visit_addresses(spec, gateway), "applied")


def parked(route: Route, reason: str, message: str) -> Plan:
    """Takes the route out of the cluster while it cannot be served, keeping its row."""
    conditions = [condition("Synced", True, reason, message), condition("Ready", False, reason, message)]
    return Plan(route, [], conditions, [], reason)


def carry_out(step: Plan) -> tuple[dict, list]:
    """The plan's cluster work: returns the record of what is in the cluster now and the Ingress's
    load-balancer status."""
    if step.wanted:
        return put_in_cluster(step.route, step.wanted, step.hold)
    remove_recorded(step.route, step.route.applied)
    return {}, []


def concurrently(work, items) -> list:
    """work(item) for every item, APPLIES_IN_FLIGHT at a time, in this process's pool (its threads
    keep their API connections open between runs); a ClusterError is returned in place of its result."""

    def attempt(item):
        try:
            return work(item)
        except cluster.ClusterError as error:
            return error

    items = list(items)
    if len(items) <= 1:
        return [attempt(item) for item in items]
    return list(cluster.threads("apply", APPLIES_IN_FLIGHT).map(attempt, items))


def record_failure(pk, error: cluster.ClusterError) -> None:
    Route.record_status(pk, apply_failed(error))


def digest(manifests: list[dict]) -> str:
    return hashlib.sha256(json.dumps(manifests, sort_keys=True).encode()).hexdigest()


def put_in_cluster(route: Route, wanted: list[dict], hold: bool = False) -> tuple[dict, list]:
    """Applies the wanted manifests unless the last apply (`route.applied`, read with the row under
    its lock) put exactly these in place, and deletes what the last apply put there and is no longer
    wanted, but for its Ingress-style objects when `hold`. Returns the new record of what is in the
    cluster and the Ingress's load-balancer status. No reads: the record says what is there, and the
    periodic pass checks it with one list per kind."""
    wanted_digest = digest(wanted)
    if route.applied.get("digest") == wanted_digest and not route.reapply:
        return route.applied, route.load_balancer
    live = [cluster.apply_owned(manifest, exact_spec=True) for manifest in wanted]
    objects = [cluster.applied_record(obj) for obj in live]
    held = left_behind(route.applied, wanted) if hold else []
    remove_recorded(route, route.applied, keep=objects + held)
    # Without a digest the next run applies again, and lets what it held go once it may.
    record = {"digest": "" if held else wanted_digest, "objects": objects + held}
    return record, (live[0].get("status", {}).get("loadBalancer") or {}).get("ingress") or []


def answered_drift(routes) -> None:
    """Clears the drift count of routes whose objects were just put back, unless the periodic pass
    found drift again since they were read: then the run it queued applies once more."""
    for route in routes:
        Route.objects.filter(pk=route.pk, reapply=route.reapply).update(reapply=0)


def remove_recorded(route: Route, previous: dict, keep: list[dict] = ()) -> None:
    """Deletes the objects the last apply recorded, except those in `keep`."""
    kept = {(obj["kind"], obj["name"]) for obj in keep}
    for obj in previous.get("objects", []):
        if (obj["kind"], obj["name"]) not in kept:
            cluster.delete(obj["apiVersion"], obj["kind"], obj["name"], route.namespace)


def derived(routes: list[Route]) -> dict[int, route_spec.RouteSpec]:
    """What the worker alone derives for routes their gateway serves, in a few statements for any
    number of routes: each auto rule's generated host (from the gateway's address or domain) and
    the routes' host claims. Returns each route's spec as served, by primary key; routes whose
    admission may change with these claims get another run."""
    specs, outdated = {}, []
    for route in routes:
        spec = route_spec.from_route(route)
        served = hosts.resolved_hosts(spec, route.project.name, route.gateway)
        for rule, host in zip(route.rules.all(), served, strict=True):
            if rule.host_mode == "auto" and rule.generated_host != host:
                rule.generated_host = host
                outdated.append(rule)
        specs[route.pk] = spec.with_hosts(served)
    with transaction.atomic():
        RouteRule.objects.bulk_update(outdated, ["generated_host"])
        moved = sync_claims([(route, specs[route.pk], route.gateway.ingress_class) for route in routes])
    if moved:  # the claims of these routes are read afresh, in one query
        renewed = [route for route in routes if route.pk in moved]
        for route in renewed:
            getattr(route, "_prefetched_objects_cache", {}).pop("claims", None)
        prefetch_related_objects(renewed, "claims")
        for other in competitors(set().union(*moved.values()), besides=[route.pk for route in routes]):
            send(reconcile_route, other)
    return specs


def ready_condition(route: Route, spec, gateway, services_of=live.services) -> dict:
    missing = live.backends_missing(spec, services_of)
    if missing:
        return condition("Ready", False, "BackendNotFound", f"Not found in this project (yet): {', '.join(missing)}.")
    if gateway.state != "Ready":
        gateway_ready = gateway.condition("Ready") or {}
        return condition(
            "Ready", False, "GatewayNotReady", f"The gateway is not ready: {gateway_ready.get('message', 'pending')}"
        )
    return condition("Ready", True, "Ready", "The route is served by the gateway.")


def remove_route(route: Route) -> str:
    """Deletes the route's cluster objects (all carrying its ownership label, recorded or not), then
    the row; routes waiting for its hosts get another look."""
    cluster.delete_unwanted(route.owner, served_kinds(), [], route.namespace)
    waiting = competitors({claim.host for claim in route.claims.all()}, besides=[route.pk])
    route.delete()
    for other in waiting:
        send(reconcile_route, other)
    return "deleted"


# Ready reasons that wait on something outside the route which tells no one when it changes: a
# host held by another route, a backend Service, the gateway's address. (A gateway's readiness
# does tell: routes follow their gateway.)
WAITING_ON_OTHERS = ("HostAlreadyClaimed", "BackendNotFound", "WaitingForGatewayAddress")


def served_kinds() -> list[tuple[str, str]]:
    """The kinds routes may have in the cluster: an Ingress, and the kinds of the CRDs it serves."""
    kinds = list(render.INGRESS_KINDS)
    if live.ingress_routes_served():
        kinds += render.INGRESS_ROUTE_KINDS
    if live.gateway_api_served():
        kinds += render.GATEWAY_API_KINDS
    return kinds


def drifted_routes() -> list[int]:
    """In-sync routes to reconcile again: those waiting on others, and those whose objects in the
    cluster are not what the last apply recorded (deleted, replaced, their spec, labels or
    annotations changed by someone else). One paged list per kind, no per-route reads; a new
    load-balancer address is written to the row directly, and objects of routes that no longer exist
    are deleted."""
    settled = Route.objects.filter(deletion_requested=False, observed_generation__gte=F("generation"))
    queued = set(settled.filter(ready_reason__in=WAITING_ON_OTHERS).values_list("pk", flat=True))
    in_cluster = live_route_objects()
    reapply, new_addresses, controllers_said = [], [], {}
    rows = settled.values_list("pk", "project__name", "applied", "load_balancer", "conditions")  # namespace = name
    for pk, namespace, applied, load_balancer, conditions in rows.iterator(chunk_size=2000):
        recorded = applied.get("objects", [])
        found = [in_cluster.pop((obj["kind"], namespace, obj["name"]), None) for obj in recorded]
        if any(cluster.drifted(obj and obj.seen, record) for obj, record in zip(found, recorded, strict=True)):
            queued.add(pk)
            reapply.append(pk)  # apply again, whatever it renders
            continue
        if found and found[0].addresses != load_balancer:
            new_addresses.append(Route(pk=pk, load_balancer=found[0].addresses))
        if any(obj["kind"] in controller_status.GATEWAY_API_KINDS for obj in recorded):
            said = controller_status.route_conditions([obj.answer for obj in found])
            if controller_status.differs(conditions, said):
                controllers_said[pk] = Answer(said)
    for start in range(0, len(reapply), 500):
        Route.objects.filter(pk__in=reapply[start : start + 500]).update(reapply=F("reapply") + 1)
    Route.objects.bulk_update(new_addresses, ["load_balancer"], batch_size=500)
    Route.record_statuses(controllers_said)
    delete_orphans(in_cluster)  # what no route recorded is left
    return sorted(queued)


class LiveObject(NamedTuple):
    """What the periodic pass keeps of one of the console's route objects in the cluster."""

    api_version: str
    owner: str  # the owner label: which route it belongs to
    seen: cluster.Seen
    addresses: list  # status.loadBalancer.ingress
    answer: dict | None  # a Gateway API controller's conditions for the gateway (controller_status)


def live_route_objects() -> dict[tuple[str, str, str], LiveObject]:
    """The console's route objects in the cluster by (kind, namespace, name): one paged list per kind."""
    found = {}
    selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
    for api_version, kind in served_kinds():
        for item in cluster.each_object(api_version, kind, selector):
            metadata = item["metadata"]
            found[(kind, metadata["namespace"], metadata["name"])] = LiveObject(
                api_version,
                metadata.get("labels", {}).get(cluster.OWNER, ""),
                cluster.seen(item),
                (item.get("status", {}).get("loadBalancer") or {}).get("ingress") or [],
                controller_status.parent_answer(item) if kind in controller_status.GATEWAY_API_KINDS else None,
            )
    return found


def delete_orphans(unrecorded: dict[tuple[str, str, str], LiveObject]) -> None:
    """Deletes the console's route objects whose route no longer exists (its row was removed while
    the cluster could not be reached, say). Objects of existing routes are left alone: a reconcile
    may be about to record them."""
    owners = {}
    for (kind, namespace, name), obj in unrecorded.items():
        pk = Route.pk_of_owner(obj.owner)
        if pk is not None:
            owners.setdefault(pk, []).append((obj.api_version, kind, name, namespace))
    existing = set(Route.objects.filter(pk__in=owners).values_list("pk", flat=True))
    for pk, objects in owners.items():
        if pk not in existing:
            for api_version, kind, name, namespace in objects:
                cluster.delete(api_version, kind, name, namespace)


def gateway_changed(gateway) -> None:
    """A gateway's mode, address or flavor changed: its routes follow, in one run."""
    pks = list(Route.objects.filter(gateway=gateway, deletion_requested=False).values_list("pk", flat=True))
    if pks:
        enqueue(reconcile_routes, pks)


register(
    Route,
    reconcile_route,
    drifted_routes,
    many=reconcile_routes,
    carrying=lambda key: rows_carrying(Route.objects, "annotations", key),
)
follow("gateway", gateway_changed)
