"""What reconciling costs the API server, against the real one with a real worker: an unchanged
route is not applied again; the periodic pass reads one list per kind, writes nothing when all is
in sync, and still puts back what was deleted or changed behind the console's back; a gateway's
new address reaches its routes without the pass writing; one object is reconciled by one worker
at a time."""

import socket
import subprocess
import time

import pytest
import redis

from console import cluster
from console.celery import app as celery_app
from console.reconcile import resync
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import reconcile as routes_reconcile
from routes import services as route_services
from routes.models import Route
from routes.reconcile import reconcile_route
from tests.conftest import backend_service, give_load_balancer_address, wait_for

# Both passes run it: query counts and the raw status SQL.
pytestmark = [pytest.mark.cluster, pytest.mark.both_databases]
INGRESS = "networking.k8s.io/v1", "Ingress"


def body(name: str, host: str | None = None) -> dict:
    rule = {"host_mode": "custom", "host": host, "paths": [{"path": "/", "service": "web", "port": 80}]}
    if host is None:
        rule = {"host_mode": "auto", "paths": [{"path": "/", "service": "web", "port": 80}]}
    return {"name": name, "rules": [rule]}


def settled(route: Route) -> Route:
    return wait_for(
        lambda: (r := Route.objects.filter(pk=route.pk).first()) and r.in_sync and r.applied and r,
        what=f"route {route.name} to be applied",
    )


@pytest.fixture
def shop(ready_project):
    cluster.apply(backend_service(ready_project.namespace, "web"))
    gateway = gateway_services.configure_gateway(ready_project, access_mode="NodePort")
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).in_sync, what="the gateway")
    return ready_project


def writes(requests: dict) -> dict:
    return {call: n for call, n in requests.items() if not call.startswith(("GET", "LIST", "PAGE"))}


def test_an_unchanged_route_is_not_applied_again(shop):
    route = settled(route_services.create_route(shop, body("web", "web.example.com")))
    live = cluster.get(*INGRESS, "web", shop.namespace)

    cluster.REQUESTS.clear()
    assert reconcile_route.apply(args=[route.pk]).get() == "applied"
    assert writes(cluster.REQUESTS) == {}
    assert (
        cluster.get(*INGRESS, "web", shop.namespace)["metadata"]["resourceVersion"]
        == live["metadata"]["resourceVersion"]
    )
    assert Route.objects.get(pk=route.pk).condition("Synced")["status"] == "True"


def test_an_idle_pass_lists_each_kind_once_and_writes_nothing(shop):
    for name in ("a", "b", "c"):
        settled(route_services.create_route(shop, body(name, f"{name}.example.com")))
    resync()  # what earlier tests left behind (their rows are gone, their namespaces going) is cleaned

    cluster.REQUESTS.clear()
    queued = resync()
    assert not any(queued.values()), queued
    assert writes(cluster.REQUESTS) == {}
    assert all(call.startswith("LIST") and n == 1 for call, n in cluster.REQUESTS.items()), cluster.REQUESTS
    assert "LIST ingresses" in cluster.REQUESTS and "LIST deployments" in cluster.REQUESTS


def test_the_pass_reads_big_lists_a_page_at_a_time_and_finds_drift_on_any_page(shop, monkeypatch):
    """Its memory stays flat as the cluster grows; what it finds does not depend on the page."""
    for name in ("a", "b", "c", "d", "e"):
        settled(route_services.create_route(shop, body(name, f"{name}.example.com")))
    resync()
    monkeypatch.setattr(cluster, "LIST_PAGE", 2)

    cluster.REQUESTS.clear()
    assert not any(resync().values())
    assert cluster.REQUESTS["LIST ingresses"] == 1 and cluster.REQUESTS["PAGE ingresses"] >= 2, cluster.REQUESTS
    assert writes(cluster.REQUESTS) == {}

    cluster.delete(*INGRESS, "e", shop.namespace)  # listed last: on the third page
    assert resync()["Route"] == 1
    wait_for(lambda: cluster.get(*INGRESS, "e", shop.namespace), what="the Ingress to be put back")


def test_drift_the_pass_found_is_put_back_even_when_a_reconcile_running_meanwhile_records_its_stale_copy(shop):
    """The pass marked drift in the route's `applied` record, which a reconcile that had read the row
    before then rewrote: the run the pass queued saw an unchanged digest and applied nothing, and the
    deleted Ingress stayed away (a full suite run caught it once)."""
    route = settled(route_services.create_route(shop, body("race", "race.example.com")))
    stale = next(iter(routes_reconcile.loaded_routes([route.pk])))  # a reconcile reads the row...
    cluster.delete(*INGRESS, "race", shop.namespace)
    assert route.pk in routes_reconcile.drifted_routes()  # ...the pass finds the drift...
    routes_reconcile.reconcile_served([stale])  # ...and the reconcile records what it read
    assert cluster.get(*INGRESS, "race", shop.namespace) is None  # it had nothing to apply

    fresh = next(iter(routes_reconcile.loaded_routes([route.pk])))  # the run the pass queued
    routes_reconcile.reconcile_served([fresh])
    assert cluster.get(*INGRESS, "race", shop.namespace) is not None
    assert Route.objects.get(pk=route.pk).reapply == 0


def test_the_pass_puts_back_an_ingress_deleted_or_changed_behind_the_consoles_back(shop):
    route = settled(route_services.create_route(shop, body("web", "web.example.com")))
    wanted_spec = cluster.get(*INGRESS, "web", shop.namespace)["spec"]

    cluster.delete(*INGRESS, "web", shop.namespace)
    assert resync()["Route"] == 1
    wait_for(lambda: cluster.get(*INGRESS, "web", shop.namespace), what="the Ingress to be put back")
    settled(route)

    changed = cluster.request(
        "PATCH",
        cluster.kind_of(*INGRESS).path(shop.namespace, "web"),
        body={
            "spec": {
                "rules": [
                    {
                        "host": "web.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "elsewhere", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            }
        },
        query=[("fieldManager", "kubectl-edit")],
        content_type="application/merge-patch+json",
    )
    assert changed["spec"] != wanted_spec
    assert resync()["Route"] == 1
    wait_for(lambda: cluster.get(*INGRESS, "web", shop.namespace)["spec"] == wanted_spec, what="the spec restored")


def test_the_pass_deletes_the_ingress_of_a_route_that_no_longer_exists(shop):
    kept = settled(route_services.create_route(shop, body("kept", "kept.example.com")))
    gone = settled(route_services.create_route(shop, body("gone", "gone.example.com")))
    Route.objects.filter(pk=gone.pk).delete()  # the row went while the cluster could not be told

    resync()
    assert cluster.get(*INGRESS, "gone", shop.namespace) is None
    assert cluster.get(*INGRESS, "kept", shop.namespace) is not None and Route.objects.get(pk=kept.pk).in_sync


def test_a_load_balancer_address_reaches_the_routes_without_the_pass_writing(shop):
    gateway = Gateway.objects.get(project=shop)
    gateway_services.configure_gateway(shop, access_mode="LoadBalancer")
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).in_sync, what="the LoadBalancer gateway")
    route = route_services.create_route(shop, body("web"))
    route = wait_for(lambda: (r := Route.objects.get(pk=route.pk)).in_sync and r, what="the route to wait")
    assert route.condition("Ready")["reason"] == "WaitingForGatewayAddress"
    assert cluster.get(*INGRESS, "web", shop.namespace) is None
    resync()  # cleans what earlier tests left behind

    give_load_balancer_address(shop.namespace, "203.0.113.7")
    cluster.REQUESTS.clear()
    resync()
    assert writes(cluster.REQUESTS) == {}
    assert Gateway.objects.get(pk=gateway.pk).addresses == ["203.0.113.7"]
    host = f"web.{shop.name}.203.0.113.7.nip.io"

    def served_at_the_new_address():
        live = cluster.get(*INGRESS, "web", shop.namespace)
        return live and live["spec"]["rules"][0]["host"] == host

    wait_for(served_at_the_new_address, what="the route to follow its gateway")
    assert settled(route).urls[0]["host"] == host


def test_one_object_is_reconciled_by_one_worker_at_a_time(shop):
    route = settled(route_services.create_route(shop, body("web", "one.example.com")))
    lock = redis.Redis.from_url(celery_app.conf.broker_url).lock(f"kubeconsole:reconcile:Route:{route.pk}", timeout=30)
    assert lock.acquire(blocking=False)
    try:
        route_services.update_route(route, body("web", "two.example.com"))
        time.sleep(3)  # the worker keeps trying while another holds the route
        assert not Route.objects.get(pk=route.pk).in_sync
        assert cluster.get(*INGRESS, "web", shop.namespace)["spec"]["rules"][0]["host"] == "one.example.com"
    finally:
        lock.release()
    wait_for(lambda: Route.objects.get(pk=route.pk).in_sync, timeout=15, what="the edit after the lock is free")
    assert cluster.get(*INGRESS, "web", shop.namespace)["spec"]["rules"][0]["host"] == "two.example.com"


def test_a_lock_left_by_a_killed_worker_on_this_host_does_not_hold_the_route_up(shop):
    route = settled(route_services.create_route(shop, body("web", "one.example.com")))
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process of this host that no longer runs, as a worker SIGKILLed mid-reconcile
    lock = redis.Redis.from_url(celery_app.conf.broker_url).lock(f"kubeconsole:reconcile:Route:{route.pk}", timeout=30)
    assert lock.acquire(blocking=False, token=f"{socket.gethostname()}:{gone.pid}:left-behind")

    route_services.update_route(route, body("web", "two.example.com"))
    wait_for(lambda: Route.objects.get(pk=route.pk).in_sync, timeout=5, what="the edit despite the dead holder")
    assert cluster.get(*INGRESS, "web", shop.namespace)["spec"]["rules"][0]["host"] == "two.example.com"


def test_the_pass_removes_what_kubectl_added_to_a_managed_ingress_and_restores_what_it_changed(shop, kubectl):
    spec = {**body("web", "web.example.com"), "annotations": {"team": "web"}}
    route = settled(route_services.create_route(shop, spec))
    wanted = cluster.get(*INGRESS, "web", shop.namespace)
    namespace = ["-n", shop.namespace]
    kubectl("annotate", "ingress", "web", *namespace, "nginx.org/server-snippets=return 302 https://evil.example.com")
    kubectl("annotate", "ingress", "web", *namespace, "--overwrite", "team=someone-else")
    kubectl("label", "ingress", "web", *namespace, "stolen=yes")
    default_backend = '{"spec": {"defaultBackend": {"service": {"name": "elsewhere", "port": {"number": 80}}}}}'
    kubectl("patch", "ingress", "web", *namespace, "--type=merge", "-p", default_backend)

    assert resync()["Route"] == 1  # one pass notices

    def as_rendered():
        live = cluster.get(*INGRESS, "web", shop.namespace)
        return all(
            live["metadata"].get(part) == wanted["metadata"].get(part) for part in ("labels", "annotations")
        ) and (live["spec"] == wanted["spec"])

    wait_for(as_rendered, what="the Ingress to carry exactly what the console rendered")
    assert cluster.get(*INGRESS, "web", shop.namespace)["metadata"]["annotations"] == {"team": "web"}
    settled(route)
    cluster.REQUESTS.clear()
    assert resync()["Route"] == 0 and writes(cluster.REQUESTS) == {}  # and then it is quiet again


def test_the_pass_removes_what_kubectl_added_to_a_gateways_objects(shop, kubectl):
    gateway = Gateway.objects.get(project=shop)
    gateway_services.configure_gateway(shop, config={"read-timeout": "120"})
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).in_sync, what="the gateway's settings")
    service = cluster.get("v1", "Service", "kubeconsole-gateway", shop.namespace)
    settings = cluster.get("v1", "ConfigMap", "kubeconsole-gateway", shop.namespace)["data"]
    namespace = ["-n", shop.namespace]
    kubectl(
        "annotate",
        "service",
        "kubeconsole-gateway",
        *namespace,
        "service.beta.kubernetes.io/aws-load-balancer-internal=false",
    )
    kubectl("label", "service", "kubeconsole-gateway", *namespace, "stolen=yes")
    kubectl(
        "patch",
        "configmap",
        "kubeconsole-gateway",
        *namespace,
        "--type=merge",
        "-p",
        '{"data": {"server-snippets": "x", "proxy-read-timeout": "1"}}',
    )

    assert resync()["Gateway"] == 1

    def restored():
        live_service = cluster.get("v1", "Service", "kubeconsole-gateway", shop.namespace)
        live_settings = cluster.get("v1", "ConfigMap", "kubeconsole-gateway", shop.namespace)["data"]
        same = all(live_service["metadata"].get(p) == service["metadata"].get(p) for p in ("labels", "annotations"))
        return same and live_settings == settings

    wait_for(restored, what="the gateway's Service and settings as the console rendered them")
    wait_for(lambda: Gateway.objects.get(pk=gateway.pk).in_sync, what="the gateway to settle")
    cluster.REQUESTS.clear()
    assert resync()["Gateway"] == 0 and writes(cluster.REQUESTS) == {}
