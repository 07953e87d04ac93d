"""Routes created together are reconciled together: one worker run applies a batch's routes
concurrently and writes their status at once, yet each route keeps its own answer. With the real
worker, API server and a ResourceQuota that lets only some of a batch in."""

import pytest

from console import cluster
from console.conditions import condition
from console.models import Answer
from console.reconcile import resync
from gateways import services as gateway_services
from gateways.models import Gateway
from routes.models import Route
from tenants import services
from tenants.models import Project
from tests.conftest import api_as, wait_for

# Both passes run it: the raw status SQL (executemany, GREATEST or MAX).
pytestmark = [pytest.mark.cluster, pytest.mark.both_databases]


@pytest.fixture
def shop(ready_project, platform_admin):
    gateway_services.configure_gateway(ready_project)
    wait_for(lambda: Gateway.objects.get(project=ready_project).in_sync, timeout=60, what="the gateway")
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": ready_project.namespace},
            "spec": {"ports": [{"name": "http", "port": 80}], "selector": {"app": "web"}},
        }
    )
    return ready_project, api_as(platform_admin)


def batch_create(shop, names: list[str]):
    project, api = shop
    routes = [
        {"name": name, "rules": [{"host": f"{name}.example.com", "paths": [{"service": "web", "port": 80}]}]}
        for name in names
    ]
    response = api.post(f"/api/v1/projects/{project.name}/routes:batchCreate", {"routes": routes}, format="json")
    assert response.status_code == 201, response.content


def synced(route: Route) -> bool:
    return route.in_sync and (route.condition("Synced") or {}).get("status") == "True"


def ingresses(namespace: str) -> set[str]:
    return {item["metadata"]["name"] for item in cluster.list_objects("networking.k8s.io/v1", "Ingress", namespace)}


def test_a_batch_is_reconciled_by_one_run_and_every_route_is_served(shop, worker):
    project, _ = shop
    names = [f"web-{i:02}" for i in range(40)]
    log_before = len(worker.log.read_text())
    batch_create(shop, names)
    wait_for(
        lambda: all(synced(r) for r in Route.objects.filter(project=project)), timeout=60, what="every route Synced"
    )
    assert ingresses(project.namespace) == set(names)
    ready = {r.name: r.condition("Ready")["reason"] for r in Route.objects.filter(project=project)}
    gateway_ready = Gateway.objects.get(project=project).state == "Ready"  # no default controller image here
    assert set(ready.values()) == {"Ready" if gateway_ready else "GatewayNotReady"}, ready  # the Service was found
    log = worker.log.read_text()[log_before:]
    assert log.count("routes.reconcile_routes[") >= 1 and "routes.reconcile_route[" not in log, log[-3000:]
    assert resync.apply().get() == {"Project": 0, "Gateway": 0, "Route": 0}  # what was recorded is what is there


def quota(namespace: str, ingresses_allowed: int, used: int) -> None:
    """A ResourceQuota on Ingresses; its status is set here, as the quota controller would (the API
    server's quota admission counts from it and refuses what goes over)."""
    manifest = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "ingresses", "namespace": namespace},
        "spec": {"hard": {"count/ingresses.networking.k8s.io": str(ingresses_allowed)}},
    }
    path = f"/api/v1/namespaces/{namespace}/resourcequotas"
    if cluster.request("GET", path)["items"]:
        current = cluster.request("GET", f"{path}/ingresses")
        manifest["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        cluster.request("PUT", f"{path}/ingresses", body=manifest)
    else:
        cluster.request("POST", path, body=manifest)
    current = cluster.request("GET", f"{path}/ingresses")
    hard = {"count/ingresses.networking.k8s.io": str(ingresses_allowed)}
    current["status"] = {"hard": hard, "used": {"count/ingresses.networking.k8s.io": str(used)}}
    cluster.request("PUT", f"{path}/ingresses/status", body=current)


def test_a_refused_apply_marks_only_its_route_and_the_rest_of_the_batch_is_served(shop, worker):
    project, _ = shop
    quota(project.namespace, ingresses_allowed=5, used=0)
    names = [f"web-{i:02}" for i in range(8)]
    batch_create(shop, names)

    def settled():
        routes = list(Route.objects.filter(project=project))
        return len(routes) == 8 and all(r.condition("Synced") for r in routes) and routes

    routes = wait_for(settled, timeout=60, what="every route answered")
    failed = [r for r in routes if r.condition("Synced")["status"] == "False"]
    served = [r for r in routes if synced(r)]
    assert len(served) == 5 and len(failed) == 3, [(r.name, r.conditions) for r in routes]
    for route in failed:
        synced_condition = route.condition("Synced")
        assert synced_condition["reason"] == "ApplyFailed"
        assert "exceeded quota" in synced_condition["message"], synced_condition
        assert route.state == "Error" and not route.in_sync
    assert ingresses(project.namespace) == {r.name for r in served}

    quota(project.namespace, ingresses_allowed=20, used=5)
    resync.apply()  # one periodic pass, as Celery beat would run it
    wait_for(lambda: all(synced(r) for r in Route.objects.filter(project=project)), timeout=60, what="the refused ones")
    assert ingresses(project.namespace) == set(names)


def test_status_answers_for_many_rows_land_each_on_its_row_and_never_move_one_backwards(db, workspace):
    first, second = (services.create_project(workspace=workspace, name=name) for name in ("one", "two"))
    Project.objects.filter(pk=first.pk).update(generation=3, observed_generation=3)
    generations = Project.record_statuses(
        {
            first.pk: Answer([condition("Ready", True, "Ready", "in line")], observed_generation=2),  # an older run
            second.pk: Answer([condition("Ready", False, "ApplyFailed", "refused")]),
            10**9: Answer([condition("Ready", True, "Ready", "gone")]),
        }
    )
    assert generations == {first.pk: 3, second.pk: 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.observed_generation, first.ready_reason, first.condition("Ready")["message"]) == (
        3,
        "Ready",
        "in line",
    )
    assert (second.observed_generation, second.ready_reason) == (0, "ApplyFailed")
    Project.record_statuses({second.pk: Answer([condition("Ready", True, "Ready", "now")], observed_generation=1)})
    second.refresh_from_db()
    assert (second.observed_generation, second.state) == (1, "Ready")
