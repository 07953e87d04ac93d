"""Faults on the real components while tenants keep working: the API server down for 60 s, Redis
down for 60 s, a worker killed with SIGKILL in the middle of reconciling. Meanwhile the console
accepts what it can, shows the fault in words, and loses nothing; after recovery one periodic pass
(`resync`) brings every route to Synced with the cluster holding exactly what the console renders.
How long convergence took is written to test-artifacts/faults.jsonl."""

import json
import time

import pytest
from django.db.models import F

from console import cluster
from console.reconcile import resync
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import hosts, render
from routes import spec as route_spec
from routes.models import Route
from tests.conftest import ARTIFACTS, api_as, backend_service, browser_as, wait_for

pytestmark = pytest.mark.cluster

OUTAGE_SECONDS = 60


@pytest.fixture
def shop(ready_project, platform_admin):
    gateway_services.configure_gateway(ready_project)
    cluster.apply(backend_service(ready_project.namespace, "web"))  # the routes' backend
    wait_for(lambda: Gateway.objects.get(project=ready_project).in_sync, timeout=60, what="the gateway")
    return ready_project, api_as(platform_admin), browser_as(platform_admin)


def body(name: str, **extra) -> dict:
    rule = {"host": f"{name}.example.com", "paths": [{"path": "/", "service": "web", "port": 80}]}
    return {"name": name, "rules": [rule], **extra}


def create(shop, name: str, **extra):
    project, api, _ = shop
    response = api.post(f"/api/v1/projects/{project.name}/routes/", body(name, **extra), format="json")
    assert response.status_code == 201, response.content
    return response


def edit(shop, name: str, annotations: dict):
    project, api, _ = shop
    response = api.patch(f"/api/v1/projects/{project.name}/routes/{name}/", {"annotations": annotations}, format="json")
    assert response.status_code == 200, response.content


def in_cluster_as_rendered(route: Route) -> bool:
    gateway = route.gateway
    spec = route_spec.from_route(route)
    spec = spec.with_hosts(hosts.resolved_hosts(spec, route.project.name, gateway))
    for wanted in render.manifests(spec, gateway, route.owner):
        meta = wanted["metadata"]
        live = cluster.get(wanted["apiVersion"], wanted["kind"], meta["name"], meta["namespace"])
        if live is None or live["spec"] != wanted["spec"]:
            return False
        annotations = live["metadata"].get("annotations", {})
        if any(annotations.get(key) != value for key, value in meta.get("annotations", {}).items()):
            return False
    return True


def converged(project, names: set[str]) -> bool:
    routes = list(Route.objects.with_rules().select_related("project", "gateway").filter(project=project))
    if {route.name for route in routes} != names:
        return False
    for route in routes:
        synced = route.condition("Synced") or {}
        if not (route.in_sync and synced.get("status") == "True" and in_cluster_as_rendered(route)):
            return False
    return True


def recover_and_measure(fault: str, project, names: set[str], recovered_at: float) -> float:
    resync.apply()  # one periodic pass, as Celery beat would run it
    wait_for(lambda: converged(project, names), timeout=120, interval=0.5, what=f"convergence after {fault}")
    seconds = round(time.monotonic() - recovered_at, 1)
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "faults.jsonl").open("a") as out:
        out.write(json.dumps({"fault": fault, "routes": len(names), "converged_after_seconds": seconds}) + "\n")
    return seconds


def sleep_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def test_the_api_server_down_for_a_minute(shop, control_plane):
    project, api, browser = shop
    names = {f"web-{i}" for i in range(4)}
    for name in sorted(names):
        create(shop, name)
    wait_for(lambda: converged(project, names), timeout=60, what="the routes before the fault")

    command = control_plane.stop_apiserver()
    deadline = time.monotonic() + OUTAGE_SECONDS
    try:
        edit(shop, "web-0", {"edited": "during-the-outage"})
        create(shop, "web-new")
        names.add("web-new")
        wait_for(
            lambda: (
                (Route.objects.get(project=project, name="web-0").condition("Synced") or {}).get("reason")
                == "ApplyFailed"
            ),
            timeout=30,
            what="the worker to report the failed apply",
        )
        detail = browser.get(f"/projects/{project.name}/routes/web-0/")
        assert detail.status_code == 200
        assert "unreachable" in detail.content.decode() and "Traceback" not in detail.content.decode()
        rules = browser.get(f"/projects/{project.name}/routes/web-0/edit-rules/", HTTP_HX_REQUEST="true")
        assert rules.status_code == 200 and "could not list this project" in rules.content.decode()
        services = api.get(f"/api/v1/projects/{project.name}/services/")
        assert services.status_code == 503 and "unreachable" in services.json()["detail"]
        sleep_until(deadline)
    finally:
        control_plane.start_apiserver(command)
    seconds = recover_and_measure("api-server down 60 s", project, names, time.monotonic())
    edited = Route.objects.get(project=project, name="web-0")
    assert edited.annotations == {"edited": "during-the-outage"}
    assert seconds < 120


def test_redis_down_for_a_minute(shop, redis_server, worker):
    project, api, browser = shop
    names = {f"web-{i}" for i in range(4)}
    for name in sorted(names):
        create(shop, name)
    wait_for(lambda: converged(project, names), timeout=60, what="the routes before the fault")

    redis_server.stop()
    deadline = time.monotonic() + OUTAGE_SECONDS
    try:
        edit(shop, "web-1", {"edited": "while-redis-was-down"})
        create(shop, "web-new")
        names.add("web-new")
        listing = browser.get(f"/projects/{project.name}/routes/")
        assert listing.status_code == 200 and 'data-route="web-new"' in listing.content.decode()
        assert Route.objects.get(project=project, name="web-new").state == "Pending"
        sleep_until(deadline)
    finally:
        redis_server.start()
    seconds = recover_and_measure("redis down 60 s", project, names, time.monotonic())
    assert Route.objects.get(project=project, name="web-1").annotations == {"edited": "while-redis-was-down"}
    assert seconds < 120


def test_a_worker_killed_in_the_middle_of_reconciling(shop, worker):
    project, _, _ = shop
    names = {f"web-{i}" for i in range(8)}
    for name in sorted(names):
        create(shop, name)
    wait_for(lambda: "routes.reconcile_route" in worker.log.read_text(), timeout=30, what="a reconcile to start")
    worker.kill()
    killed_at = time.monotonic()
    edit(shop, "web-2", {"edited": "while-the-worker-was-dead"})
    worker.start()
    seconds = recover_and_measure("worker SIGKILL mid-reconcile", project, names, killed_at)
    assert Route.objects.get(project=project, name="web-2").annotations == {"edited": "while-the-worker-was-dead"}
    assert seconds < 120


def test_a_worker_killed_in_the_middle_of_a_batch(shop, worker):
    """A batchCreate's routes are reconciled by one run, a chunk at a time; the kill lands after some
    chunks are written and before the rest are."""
    project, api, _ = shop
    names = {f"bulk-{i:03}" for i in range(200)}
    routes = [body(name) for name in sorted(names)]
    response = api.post(f"/api/v1/projects/{project.name}/routes:batchCreate", {"routes": routes}, format="json")
    assert response.status_code == 201, response.content
    lagging = Route.objects.filter(project=project, observed_generation__lt=F("generation"))
    deadline = time.monotonic() + 120
    while not 0 < (left := lagging.count()) < len(names):
        if time.monotonic() > deadline:
            said = worker.log.read_text()[-4000:]
            pytest.fail(f"{left} of {len(names)} routes still lag after 120 s; the worker said:\n{said}")
        time.sleep(0.02)
    worker.kill()
    killed_at = time.monotonic()
    worker.start()
    seconds = recover_and_measure("worker SIGKILL mid-batch", project, names, killed_at)
    print(f"{left} of {len(names)} routes were not yet applied when the worker was killed; converged in {seconds} s")
    assert left > 0 and seconds < 120
