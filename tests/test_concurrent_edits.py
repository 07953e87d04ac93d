"""Two clients editing one route: the one holding a stale copy gets 409 and changes nothing.
Two reconciles of one route overlapping: the newest spec is what stays in the cluster."""

import pytest

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import services as route_services
from routes.models import Route
from routes.reconcile import apply_route
from tests.conftest import api_as, backend_service, wait_for

pytestmark = pytest.mark.cluster


def body(host: str = "shop.example.com", **extra) -> dict:
    path = {"path": "/", "path_type": "Prefix", "service": "front-end", "port": 80}
    return {
        "name": "front-end",
        "rules": [{"host_mode": "custom", "host": host, "protocol": "http", "paths": [path]}],
        **extra,
    }


@pytest.fixture
def editors(project_with_gateway, django_user_model):
    shop = project_with_gateway
    url = f"/api/v1/projects/{shop.name}/routes/"
    olga = django_user_model.objects.get(username="olga")
    assert api_as(olga).post(url, body(), format="json").status_code == 201
    return shop, f"{url}front-end/", api_as(olga), api_as(django_user_model.objects.get(username="alice"))


def test_a_put_from_a_stale_copy_conflicts_and_changes_nothing(editors, django_capture_on_commit_callbacks):
    _, url, first, second = editors
    loaded_by_first, loaded_by_second = first.get(url).json(), second.get(url).json()
    assert loaded_by_first["generation"] == loaded_by_second["generation"] == 1

    saved = first.put(url, {**loaded_by_first, **body("one.example.com"), "generation": 1}, format="json")
    assert saved.status_code == 200 and saved.json()["generation"] == 2

    with django_capture_on_commit_callbacks() as queued:
        stale = second.put(url, {**loaded_by_second, **body("two.example.com"), "generation": 1}, format="json")
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["generation"][0]
    assert queued == []
    route = Route.objects.get(name="front-end")
    assert (route.generation, route.rules.get().host) == (2, "one.example.com")


def test_if_match_carries_the_generation_too(editors, django_capture_on_commit_callbacks):
    _, url, first, second = editors
    etag = first.get(url).headers["ETag"]
    assert etag == '"1"'
    assert (
        first.patch(url, {"annotations": {"team": "a"}}, format="json", HTTP_IF_MATCH=etag).status_code
        == 200
    )
    with django_capture_on_commit_callbacks() as queued:
        stale = second.patch(url, {"annotations": {"team": "b"}}, format="json", HTTP_IF_MATCH=etag)
        info = second.patch(url, {"alias": "Shop"}, format="json", HTTP_IF_MATCH=etag)
        garbled = second.patch(url, {"alias": "Shop"}, format="json", HTTP_IF_MATCH="yesterday")
    assert (stale.status_code, info.status_code, garbled.status_code) == (409, 409, 400)
    assert "If-Match" in garbled.json()["generation"][0]
    assert queued == []
    route = Route.objects.get(name="front-end")
    assert (route.annotations, route.alias) == ({"team": "a"}, "")
    fresh = second.get(url)
    assert second.patch(url, {"alias": "Shop"}, format="json", HTTP_IF_MATCH=fresh.headers["ETag"]).status_code == 200


def test_an_update_without_a_generation_still_wins_as_before(editors):
    _, url, first, _ = editors
    assert first.put(url, body("three.example.com"), format="json").json()["generation"] == 2


def test_an_older_reconcile_landing_last_is_undone(live_cluster, ready_project, django_user_model):
    """The older run renders generation 1, the newer one applies generation 2 first, then the older
    one's writes land: the route is queued again and the cluster ends with generation 2."""
    project = ready_project
    cluster.apply(backend_service(project.namespace, "front-end"))
    gateway_services.configure_gateway(project, access_mode="NodePort")
    gateway = wait_for(lambda: (g := Gateway.objects.get(project=project)).in_sync and g.node_ports and g, what="gw")
    route = route_services.create_route(project, body(annotations={"v": "one"}))
    wait_for(lambda: Route.objects.get(pk=route.pk).in_sync, what="first apply")
    older_run = Route.objects.with_rules().select_related("project", "gateway__project").get(pk=route.pk)
    older_run.applied = {}  # it read its row before its own first apply was recorded

    route_services.update_route(route, body(annotations={"v": "two"}))
    wait_for(lambda: Route.objects.get(pk=route.pk).observed_generation == 2, what="second apply")
    apply_route(older_run, gateway)  # the late writes of the older run

    def cluster_has_generation_two():
        found = cluster.get("networking.k8s.io/v1", "Ingress", "front-end", project.namespace)
        return found and found["metadata"]["annotations"].get("v") == "two"

    wait_for(cluster_has_generation_two, timeout=30, what="the newest spec to be applied again")
    assert Route.objects.get(pk=route.pk).in_sync


def test_a_delete_answers_even_when_the_worker_removed_the_row_first(editors, monkeypatch):
    """Under load the worker can delete the row between the DELETE's commit and its answer."""
    _, url, first, _ = editors
    real_delete = route_services.delete_route

    def delete_then_worker_finishes(route, **kwargs):
        real_delete(route, **kwargs)
        Route.objects.filter(pk=route.pk).delete()

    monkeypatch.setattr(route_services, "delete_route", delete_then_worker_finishes)
    response = first.delete(url)
    assert response.status_code == 202 and response.json()["name"] == "front-end"


def test_an_edit_of_a_route_deleted_meanwhile_answers_404(editors, monkeypatch):
    _, url, first, _ = editors
    real_update = route_services.update_route

    def deleted_meanwhile(route, *args, **kwargs):
        Route.objects.filter(pk=route.pk).delete()
        return real_update(route, *args, **kwargs)

    monkeypatch.setattr(route_services, "update_route", deleted_meanwhile)
    response = first.put(url, body("four.example.com"), format="json")
    assert response.status_code == 404
