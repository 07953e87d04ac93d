"""Celery tasks that bring a gateway's ingress controller in line with its row, and report
what the cluster answered: node ports, load-balancer addresses, ready replicas."""

import copy
import logging

from celery import shared_task

from console import cluster
from console.cluster import label_key
from console.conditions import condition
from console.models import PENDING_REASONS
from console.reconcile import (
    OBSERVE_DELAYS,
    SWITCH_LOOK_SECONDS,
    apply_failed,
    check_namespace,
    exclusively,
    look_again,
    on_namespace_removal,
    reconciled,
    record_refusal,
    register,
    requeue_if_changed,
    retry_later,
    rows_carrying,
    send,
    send_later,
    wait_for_namespace,
)
from gateways import bound_routes, flavors, listeners, policy, render, rollout
from gateways.models import AnnotationAllowance, Gateway
from tenants.reconcile import namespace_ready

LOCAL_ADDRESS = "127.0.0.1"  # a cluster without nodes, such as the local control plane
log = logging.getLogger(__name__)


@shared_task(bind=True, name="gateways.reconcile_gateway", ignore_result=True)
def reconcile_gateway(self, gateway_id: int) -> str:
    with exclusively(self, Gateway, gateway_id):
        return _reconcile_gateway(self, gateway_id)


def _reconcile_gateway(self, gateway_id: int) -> str:
    gateway = Gateway.objects.select_related("project__workspace").filter(pk=gateway_id).first()
    if gateway is None:
        return "gone"
    try:
        if not gateway.enabled:
            result = remove_objects(gateway)
            reconciled("gateway", gateway)
            return result
        if not namespace_ready(gateway.project):
            wait_for_namespace(self, Gateway, gateway)
        result = apply_objects(gateway)
        fresh = Gateway.objects.select_related("project").get(pk=gateway.pk)
        if served_facts(fresh) != served_facts(gateway):
            reconciled("gateway", fresh)
        return result
    except PermissionError as error:
        return record_refusal(Gateway, gateway.pk, error)
    except cluster.ClusterError as error:
        Gateway.record_status(gateway.pk, apply_failed(error))
        if error.retryable:
            retry_later(self, error)
        return "failed"


def apply_objects(gateway: Gateway) -> str:
    generation = gateway.generation
    tls_hosts = bound_routes.ROUTES.tls_hosts([gateway.pk]).get(gateway.pk, {}) if gateway.serves_gateway_api else {}
    rendered, accepted = within_policy(gateway)
    earlier_flavor = switching_from(gateway)
    wanted = render.manifests(rendered, tls_hosts, keep_rules_of=earlier_flavor)
    check_namespace(wanted, gateway.namespace)
    applied = {m["kind"]: cluster.apply_owned(m, replace_immutable=True) for m in wanted}
    earlier_serving = still_holding_for_an_earlier_controller(gateway) and earlier_controller_serving(gateway)
    holding = leaving_the_gateway_api(gateway) and earlier_serving
    delete_unwanted(gateway, wanted, keep_gateway_api=holding)
    health = controller_health(gateway, applied["Deployment"])
    observed = observe(gateway, applied["Service"], health, node_addresses(), applied.get("Gateway"))
    Gateway.record_status(
        gateway.pk,
        [
            accepted,
            condition("Synced", True, "Applied", f"The {len(wanted)} objects of the gateway are applied."),
            ready_condition(gateway, observed, health),
        ],
        observed_generation=generation,
        applied={
            "objects": [cluster.applied_record(obj) for obj in applied.values()]
            + (gateway_api_objects(gateway.applied) if holding else []),
            "tls_hosts": tls_hosts,
            # The flavor whose controller's rules the roles hold: the earlier one while it serves.
            "flavor": earlier_flavor if earlier_flavor and earlier_serving else gateway.flavor,
        },
        **observed,
    )
    requeue_if_changed(gateway, generation)
    # What is kept for the earlier controller goes once it has; a new controller that cannot start
    # may never take over, and its observation brings the gateway back when it does.
    if earlier_serving and health.problem is None:
        look_again(reconcile_gateway, gateway.pk, SWITCH_LOOK_SECONDS)
    if not health.done:
        send_later(observe_gateway, gateway.pk, 0)
    return "applied"


@shared_task(name="gateways.observe_gateway", ignore_result=True)
def observe_gateway(gateway_id: int, attempt: int = 0) -> str:
    """Reads how a gateway's controller is doing (its rollout, node ports, addresses) and writes it
    to the row when it changed; routes follow. Looks again later while it is not rolled out yet."""
    gateway = Gateway.objects.select_related("project").filter(pk=gateway_id, enabled=True).first()
    if gateway is None or not gateway.in_sync:
        return "not applied"  # its reconcile will look itself
    try:
        service = cluster.get("v1", "Service", render.NAME, gateway.namespace)
        deployment = cluster.get("apps/v1", "Deployment", render.NAME, gateway.namespace)
        if service is None or deployment is None:
            return "missing"  # the periodic pass applies it again
        health = controller_health(gateway, deployment)
        observed = observe(gateway, service, health, node_addresses(), read_gateway_object(gateway))
    except cluster.ClusterError as error:
        log.warning("could not observe gateway %s, the next resync will: %s", gateway_id, error.message)
        return "failed"
    record_observation(gateway, observed, health)
    if not health.done and attempt + 1 < len(OBSERVE_DELAYS):
        send_later(observe_gateway, gateway_id, attempt + 1)
        return "waiting"
    return "observed"


def remove_objects(gateway: Gateway) -> str:
    """Deletes exactly the objects this gateway created (found by its ownership label)."""
    generation = gateway.generation
    delete_unwanted(gateway, [])
    Gateway.record_status(
        gateway.pk,
        [
            condition("Synced", True, "Removed", "The gateway's objects are removed from the cluster."),
            condition("Ready", False, "Disabled", "The gateway is disabled."),
        ],
        observed_generation=generation,
        addresses=[],
        node_ports={},
        ready_replicas=0,
        applied={},
    )
    requeue_if_changed(gateway, generation)
    return "removed"


def within_policy(gateway: Gateway) -> tuple[Gateway, dict]:
    """The gateway as it is rendered, without the Service annotations the policy no longer allows
    (an allowance taken back), and its Accepted condition, which names them."""
    allowances = AnnotationAllowance.as_policy()
    dropped = policy.refused_now(gateway.service_annotations, gateway.flavor, allowances, target=policy.GATEWAY_SERVICE)
    if not dropped:
        return gateway, condition("Accepted", True, "Valid", "The gateway's settings are valid.")
    rendered = copy.copy(gateway)
    rendered.service_annotations = {k: v for k, v in gateway.service_annotations.items() if k not in dropped}
    return rendered, condition("Accepted", False, "AnnotationNotAllowed", policy.refused_condition_message(dropped))


def served_facts(gateway: Gateway) -> tuple:
    """What routes depend on: when any of it changes, they are reconciled again."""
    return (gateway.observed_generation, gateway.addresses, gateway.node_ports, gateway.state)


def gateway_api_objects(record: dict) -> list[dict]:
    kinds = {*render.GATEWAY_API_NAMESPACED_KINDS, *render.GATEWAY_API_CLUSTER_KINDS}
    return [obj for obj in record.get("objects", []) if (obj["apiVersion"], obj["kind"]) in kinds]


def switching_from(gateway: Gateway) -> str | None:
    """The flavor the gateway's roles last held rules for, when it is not the gateway's flavor:
    its controller may still serve the routes while the new one starts."""
    earlier = gateway.applied.get("flavor")
    return earlier if earlier in flavors.FLAVORS and earlier != gateway.flavor else None


def still_holding_for_an_earlier_controller(gateway: Gateway) -> bool:
    return bool(switching_from(gateway)) or leaving_the_gateway_api(gateway)


def leaving_the_gateway_api(gateway: Gateway) -> bool:
    """Whether the gateway's last apply put Gateway API objects in place that it no longer wants."""
    return not gateway.serves_gateway_api and bool(gateway_api_objects(gateway.applied))


def delete_unwanted(gateway: Gateway, wanted: list[dict], keep_gateway_api: bool = False) -> None:
    """Deletes what the gateway created and no longer wants; its GatewayClass and Gateway stay while
    `keep_gateway_api` (the controller that serves routes through them is still running)."""
    namespaced, cluster_scoped = gateway_kinds()
    if keep_gateway_api:
        namespaced = [kind for kind in namespaced if kind not in render.GATEWAY_API_NAMESPACED_KINDS]
        cluster_scoped = [kind for kind in cluster_scoped if kind not in render.GATEWAY_API_CLUSTER_KINDS]
    cluster.delete_unwanted(gateway.owner, namespaced, wanted, gateway.namespace)
    cluster.delete_unwanted(gateway.owner, cluster_scoped, wanted)


def gateway_kinds() -> tuple[list, list]:
    """The kinds gateways create, namespaced and cluster-scoped: the Gateway API's when the cluster
    serves it."""
    if cluster.serves(render.GATEWAY_API):
        return (
            render.NAMESPACED_KINDS + render.GATEWAY_API_NAMESPACED_KINDS,
            render.CLUSTER_KINDS + render.GATEWAY_API_CLUSTER_KINDS,
        )
    return render.NAMESPACED_KINDS, render.CLUSTER_KINDS


def read_gateway_object(gateway: Gateway) -> dict | None:
    """The gateway's Gateway (Gateway API), when it serves routes through one."""
    return (
        cluster.get(render.GATEWAY_API, "Gateway", render.NAME, gateway.namespace)
        if gateway.serves_gateway_api
        else None
    )


def observe_listeners(gateway_id: int) -> None:
    """Reads the Gateway's listeners again (one GET) and records them when they changed: routes
    attaching or leaving change their counts, and nothing else would look until the next pass."""
    gateway = Gateway.objects.select_related("project").filter(pk=gateway_id, enabled=True).first()
    if gateway is None or not gateway.serves_gateway_api:
        return
    try:
        found = listeners.reported(read_gateway_object(gateway))
    except cluster.ClusterError as error:
        log.warning("could not read gateway %s's listeners, the next resync will: %s", gateway_id, error.message)
        return
    if found != gateway.listeners:
        Gateway.record_status(gateway.pk, [], listeners=found)


# What a gateway's controller is doing (controller_state).
CONTROLLER_DOWN, CONTROLLER_ROLLING, CONTROLLER_SETTLED = "down", "rolling", "settled"


def earlier_controller_serving(gateway: Gateway) -> bool:
    return controller_state(gateway) == CONTROLLER_ROLLING


def controller_state(gateway: Gateway) -> str:
    """down: none of the controller's pods is ready; rolling: pods of an earlier configuration still
    take requests (the Deployment does not run the configuration the gateway renders alone yet, or a
    replaced pod is still stopping); settled: it does."""
    deployment = cluster.get("apps/v1", "Deployment", render.NAME, gateway.namespace)
    status = (deployment or {}).get("status") or {}
    if not status.get("readyReplicas"):
        return CONTROLLER_DOWN
    template = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    alone = (
        template.get(label_key("config-hash")) == rollout.wanted_config_hash(gateway)
        and rollout.rolled_out(deployment, deployment["spec"].get("replicas", 1))
        # A replaced pod takes stray requests while it stops (terminatingReplicas: Kubernetes 1.35 on).
        and not status.get("terminatingReplicas")
    )
    return CONTROLLER_SETTLED if alone else CONTROLLER_ROLLING


def observe(gateway: Gateway, service: dict, health: rollout.Health, nodes: list[str], gateway_object=None) -> dict:
    """What routes and people need to know of a gateway: its node ports, the addresses it is reached
    at (the load balancer's, the configured one, or `nodes`), its ready replicas of the present
    configuration, and the listeners of its Gateway (`gateway_object`) when it serves the Gateway API."""
    node_ports = {
        port["name"]: port["nodePort"] for port in service.get("spec", {}).get("ports", []) if port.get("nodePort")
    }
    ingress = (service.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
    if gateway.access_mode == flavors.LOAD_BALANCER:
        addresses = [
            item.get("ip") or item.get("hostname") for item in ingress if item.get("ip") or item.get("hostname")
        ]
    else:
        addresses = [gateway.external_address] if gateway.external_address else nodes
    return {
        "node_ports": node_ports,
        "addresses": addresses,
        "ready_replicas": health.ready_current,
        "listeners": listeners.reported(gateway_object) if gateway.serves_gateway_api else [],
    }


def node_addresses() -> list[str]:
    """Where NodePort traffic can reach the cluster: nodes' external IPs, else their internal IPs."""
    nodes = cluster.list_objects("v1", "Node", cached=True)
    for wanted_type in ("ExternalIP", "InternalIP"):
        found = [
            address["address"]
            for node in nodes
            for address in node.get("status", {}).get("addresses", [])
            if address.get("type") == wanted_type
        ]
        if found:
            return sorted(set(found))
    return [LOCAL_ADDRESS]


def controller_health(gateway: Gateway, deployment: dict) -> rollout.Health:
    """The controller's rollout; its pods are read only while it is not done."""
    if rollout.rolled_out(deployment, gateway.replicas):
        return rollout.health(gateway, deployment, None)
    return rollout.health(gateway, deployment, rollout.controller_pods(gateway))


def ready_condition(gateway: Gateway, observed: dict, health: rollout.Health) -> dict:
    """Ready when the controller of the gateway's present configuration runs on every replica and
    nothing else does, and a load balancer has its address; otherwise why not, in a tenant's words
    (a controller that cannot start comes first: no address would help it)."""
    cannot_start = health.problem is not None and health.problem.reason not in PENDING_REASONS
    if not cannot_start and gateway.access_mode == flavors.LOAD_BALANCER and not observed["addresses"]:
        return condition(
            "Ready", False, "WaitingForLoadBalancer", "Waiting for the cloud to give the load balancer an address."
        )
    if not health.done:
        reason, message = rollout.ready_message(health)
        return condition("Ready", False, reason, message)
    return condition("Ready", True, "Ready", f"All {health.wanted} ingress controller replicas are ready.")


OBSERVED_KINDS = ("Service", "Deployment", "Gateway")


def unsettled_gateways() -> list[int]:
    """Gateways to reconcile again: enabled, in sync, and with an object that is no longer what the
    last apply recorded (gone, replaced, its spec, labels, annotations or settings changed by someone
    else). The others are observed from the same lists (replicas starting, a load balancer's
    address, node addresses); what changed is written to the row and routes follow, without writing
    to the cluster."""
    selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
    live, observable = {}, {}
    namespaced, cluster_scoped = gateway_kinds()
    for api_version, kind in namespaced + cluster_scoped:
        for item in cluster.each_object(api_version, kind, selector, with_spec=kind == "Service"):
            metadata = item["metadata"]
            key = (kind, metadata.get("namespace", ""), metadata["name"])
            live[key] = cluster.seen(item)
            if kind in OBSERVED_KINDS and metadata["name"] == render.NAME:
                observable[key] = item  # what is observed: a Service's ports and status, a Deployment's status
    in_sync = Gateway.objects.select_related("project").filter(enabled=True, observed_generation__gte=1)
    tls_hosts = bound_routes.ROUTES.tls_hosts()
    drifted, nodes, pods = [], None, None
    for gateway in in_sync:
        if not gateway.in_sync:
            continue
        recorded = gateway.applied.get("objects", [])
        listeners_lag = gateway.serves_gateway_api and gateway.applied.get("tls_hosts") != tls_hosts.get(gateway.pk, {})
        if (
            not recorded
            or listeners_lag
            or any(cluster.drifted(live.get((obj["kind"], obj["namespace"], obj["name"])), obj) for obj in recorded)
        ):
            drifted.append(gateway.pk)
            continue
        if nodes is None:
            nodes = node_addresses()
        service, deployment, gateway_object = (
            observable.get((kind, gateway.namespace, render.NAME)) for kind in OBSERVED_KINDS
        )
        if not rollout.rolled_out(deployment, gateway.replicas) and pods is None:
            pods = controller_pods_by_namespace()  # one list for every gateway still rolling out
        health = rollout.health(gateway, deployment, (pods or {}).get(gateway.namespace, []))
        record_observation(gateway, observe(gateway, service, health, nodes, gateway_object), health)
    return drifted


def controller_pods_by_namespace() -> dict[str, list[dict]]:
    """Every gateway controller's pods, by namespace: one paged list for a whole pass."""
    found: dict[str, list[dict]] = {}
    for pod in cluster.each_object("v1", "Pod", label_key("gateway")):
        found.setdefault(pod["metadata"]["namespace"], []).append(pod)
    return found


def record_observation(gateway: Gateway, observed: dict, health: rollout.Health) -> None:
    """Writes what the cluster shows of a gateway when it differs from the row; routes follow."""
    ready = ready_condition(gateway, observed, health)
    known = gateway.condition("Ready") or {}
    stored = {key: getattr(gateway, key) for key in observed}
    if stored == observed and all(known.get(key) == ready[key] for key in ("status", "reason", "message")):
        return
    Gateway.record_status(gateway.pk, [ready], **observed)
    fresh = Gateway.objects.select_related("project").get(pk=gateway.pk)
    if served_facts(fresh) != served_facts(gateway):
        reconciled("gateway", fresh)
    if health.done and still_holding_for_an_earlier_controller(fresh):
        send(reconcile_gateway, gateway.pk)  # the new controller took over: drop what was kept


def remove_with_project(project) -> None:
    """Before a project's namespace goes, delete its gateway's cluster-scoped objects too."""
    gateway = Gateway.objects.filter(project=project).first()
    if gateway is not None:
        cluster.delete_unwanted(gateway.owner, render.CLUSTER_KINDS, [])


register(
    Gateway,
    reconcile_gateway,
    unsettled_gateways,
    carrying=lambda key: rows_carrying(Gateway.objects, "service_annotations", key),
)
on_namespace_removal(remove_with_project)
