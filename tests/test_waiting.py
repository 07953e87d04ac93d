"""Waiting is not failing: objects that wait on a slow namespace keep saying so, in words, for as
long as it takes, and carry on when it is there. A finalizer holds namespaces longer than the retry
budget of real failures (8 retries, 2 s apart); nothing may turn to ApplyFailed meanwhile."""

import re
import time

import pytest

from console import cluster
from console.reconcile import MAX_RETRIES, NAMESPACE_POLL_SECONDS, resync
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import facts as route_facts
from routes import services as route_services
from routes.models import Route
from tenants import services
from tenants.models import Project
from tests.conftest import backend_service, wait_for

pytestmark = pytest.mark.cluster

HOLD = "example.com/hold"
HELD_SECONDS = MAX_RETRIES * NAMESPACE_POLL_SECONDS + 10


def set_finalizers(namespace: str, finalizers: list[str] | None) -> None:
    path = cluster.kind_of("v1", "Namespace").path(name=namespace)
    body = {"metadata": {"finalizers": finalizers}}
    cluster.request("PATCH", path, body=body, content_type="application/merge-patch+json")


def ready_reasons(*objects) -> list[str]:
    """Each object's Ready reason now (or 'gone')."""
    reasons = []
    for obj in objects:
        row = type(obj).objects.filter(pk=obj.pk).first()
        ready = row.condition("Ready") if row else None
        reasons.append(ready["reason"] if ready else ("gone" if row is None else "none yet"))
    return reasons


def route_runs_received(worker) -> int:
    return len(re.findall(r"Task routes\.reconcile_route\[[-0-9a-f]+\] received", worker.log.read_text()))


def test_objects_waiting_on_a_slow_namespace_wait_and_never_fail(live_cluster, worker, workspace, unique_name):
    # A project whose deletion the namespace holds up.
    leaving = services.create_project(workspace=workspace, name=f"{unique_name}-a")
    wait_for(lambda: Project.objects.get(pk=leaving.pk).state == "Ready", what="the first project to be Ready")
    set_finalizers(leaving.namespace, [HOLD])
    services.delete_project(leaving)

    # A project created while an earlier namespace of its name is still being removed, with a
    # gateway and a route waiting for it.
    arriving_name = f"{unique_name}-b"
    labels = {cluster.MANAGED_BY: cluster.FIELD_MANAGER}
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": arriving_name, "labels": labels}})
    set_finalizers(arriving_name, [HOLD])
    cluster.delete("v1", "Namespace", arriving_name)
    arriving = services.create_project(workspace=workspace, name=arriving_name)
    gateway = gateway_services.configure_gateway(arriving)
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    # No Service can be made in a namespace being removed: the route gets in as when the door could
    # not list the project's Services, and the worker checks again.
    unknown = route_facts.Facts(services=None, tls_secrets=None, ingress_routes=False, trouble="not yet")
    ctx = route_services.context(arriving, facts=unknown)
    route = route_services.create_route(arriving, {"name": "front-end", "rules": [rule]}, ctx=ctx)

    try:
        wait_for(
            lambda: ready_reasons(leaving, arriving) == ["Terminating", "Terminating"],
            what="both projects to say they wait for their namespace",
        )
        seen = set()
        deadline = time.monotonic() + HELD_SECONDS
        while time.monotonic() < deadline:
            reasons = ready_reasons(leaving, arriving, gateway, route)
            seen.update(reasons)
            states = [type(o).objects.get(pk=o.pk).state for o in (arriving, gateway, route)]
            assert "Error" not in states and "ApplyFailed" not in reasons, (states, reasons)
            time.sleep(0.5)
        waiting = ["Terminating", "Terminating", "WaitingForNamespace", "WaitingForNamespace"]
        assert ready_reasons(leaving, arriving, gateway, route) == waiting

        # Periodic passes meanwhile queue the waiting route again; it still looks once per 2 s.
        for _ in range(3):
            resync()
        time.sleep(1)  # the runs those passes queued come and go
        before = route_runs_received(worker)
        time.sleep(3 * NAMESPACE_POLL_SECONDS)
        assert route_runs_received(worker) - before <= 4  # 3 looks; a chain per pass would make 12
        assert seen <= {*waiting, "none yet"}, seen
        assert Route.objects.get(pk=route.pk).condition("Synced")["message"] == (
            f"Waiting for namespace {arriving_name} to be ready."
        )
    finally:
        set_finalizers(leaving.namespace, None)
        set_finalizers(arriving_name, None)

    wait_for(lambda: not Project.objects.filter(pk=leaving.pk).exists(), timeout=60, what="the first project to go")
    wait_for(lambda: Project.objects.get(pk=arriving.pk).state == "Ready", timeout=60, what="the second to be Ready")
    cluster.apply(backend_service(arriving_name, "front-end"))
    wait_for(
        lambda: (g := Gateway.objects.get(pk=gateway.pk)).in_sync and g.condition("Synced")["status"] == "True",
        timeout=60,
        what="the gateway to be applied",
    )
    wait_for(
        lambda: cluster.get("networking.k8s.io/v1", "Ingress", "front-end", arriving_name),
        timeout=60,
        what="the route's Ingress",
    )
