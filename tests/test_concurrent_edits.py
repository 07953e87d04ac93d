"""Two clients editing one route: the one holding a stale copy gets 409 and changes nothing.
Two reconciles of one route overlapping: the newest spec is what stays in the cluster."""

import pytest

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import services as route_services
from routes.models import Route
from routes.reconcile import reconcile_served
from tests.conftest import api_as, backend_service, browser_as, wait_for

# Both passes run it: row locks and stale-edit checks, which SQLite takes differently.
pytestmark = [pytest.mark.cluster, pytest.mark.both_databases]


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
    assert first.patch(url, {"annotations": {"team": "a"}}, format="json", HTTP_IF_MATCH=etag).status_code == 200
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
    wait_for(lambda: (g := Gateway.objects.get(project=project)).in_sync and g.node_ports and g, what="gw")
    route = route_services.create_route(project, body(annotations={"v": "one"}))
    wait_for(lambda: Route.objects.get(pk=route.pk).in_sync, what="first apply")
    older_run = Route.objects.with_rules().select_related("project", "gateway__project").get(pk=route.pk)
    older_run.applied = {}  # it read its row before its own first apply was recorded

    route_services.update_route(route, body(annotations={"v": "two"}))
    wait_for(lambda: Route.objects.get(pk=route.pk).observed_generation == 2, what="second apply")
    reconcile_served([older_run])  # the late writes of the older run

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


# The browser's edit dialogs carry the generation they were opened at, like the API's If-Match.

HTMX = {"HTTP_HX_REQUEST": "true"}


def olga_saves_info(client, opened):
    return {"alias": "by olga", "description": "", "generation": opened.context["generation"]}


def olga_saves_rules(client, opened):
    return {
        "action": "save",
        "generation": opened.context["generation"],
        "rule-0-host_mode": "custom",
        "rule-0-host": "shop.example.com",
        "rule-0-protocol": "http",
        "rule-0-tls_secret": "",
        "rule-0-path-0-path": "/olga",
        "rule-0-path-0-path_type": "Prefix",
        "rule-0-path-0-service": "front-end",
        "rule-0-path-0-port": "80",
    }


def olga_saves_annotations(client, opened):
    return {"annotations-key": ["team"], "annotations-value": ["olga"], "generation": opened.context["generation"]}


def olga_saves_yaml(client, opened):
    manifest = opened.context["form"].initial["manifest"].replace("shop.example.com", "olga.example.com")
    return {"manifest": manifest, "generation": opened.context["generation"]}


def shown(response) -> str:
    """What the re-opened dialog shows of the route: its form's values, or the rules editor's."""
    form = response.context.get("form")
    if form is not None:
        return str(form.initial)
    return str([rule["values"] for rule in response.context["rules"]])


@pytest.mark.parametrize(
    ("dialog", "olga_saves", "current_shows"),
    [
        ("edit-info", olga_saves_info, "by alice"),
        ("edit-rules", olga_saves_rules, "/catalogue"),
        ("edit-annotations", olga_saves_annotations, "'team': 'alice'"),
        ("edit-yaml", olga_saves_yaml, "/catalogue"),
    ],
)
def test_a_dialog_saved_over_someone_elses_change_is_refused_and_shows_the_current_route(
    editors, django_user_model, django_capture_on_commit_callbacks, dialog, olga_saves, current_shows
):
    shop, _, _, _ = editors
    cluster.apply(backend_service(shop.namespace, "front-end"))
    cluster.apply(backend_service(shop.namespace, "catalogue"))
    olga = browser_as(django_user_model.objects.get(username="olga"))
    url = f"/projects/{shop.name}/routes/front-end/{dialog}/"
    opened = olga.get(url, **HTMX)
    assert opened.context["generation"] == 1 and 'name="generation" value="1"' in opened.content.decode()

    route = Route.objects.get(name="front-end")
    alice_paths = [
        {"path": "/", "service": "front-end", "port": 80},
        {"path": "/catalogue", "service": "catalogue", "port": 80},
    ]
    alices = {"rules": [{"host": "shop.example.com", "paths": alice_paths}], "annotations": {"team": "alice"}}
    route_services.update_route(route, {"name": "front-end", **alices}, alias="by alice")

    with django_capture_on_commit_callbacks() as queued:
        refused = olga.post(url, olga_saves(olga, opened), **HTMX)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Someone else changed this route" in page and 'name="generation" value="2"' in page
    assert current_shows in shown(refused)
    assert queued == []
    route = Route.objects.get(name="front-end")
    rule = route.rules.get()
    assert (route.generation, route.alias, route.annotations, rule.host) == (
        2,
        "by alice",
        {"team": "alice"},
        "shop.example.com",
    )
    assert [path.path for path in rule.paths.all()] == ["/", "/catalogue"]


def test_the_gateway_wizard_saved_over_someone_elses_change_is_refused(
    project_with_gateway, django_user_model, django_capture_on_commit_callbacks
):
    shop = project_with_gateway
    alice = browser_as(django_user_model.objects.get(username="alice"))
    url = f"/projects/{shop.name}/gateway/wizard/"
    opened = alice.get(url, **HTMX)
    assert opened.context["generation"] == 1
    gateway_services.configure_gateway(shop, replicas=2)

    data = {"step": 2, "action": "save", "generation": 1, "access_mode": "NodePort", "flavor": "nginx-inc"}
    data.update({"replicas": "3", "default_domain": "", "external_address": ""})
    data.update(
        {"service_annotations-key": [""], "service_annotations-value": [""], "config-key": [""], "config-value": [""]}
    )
    with django_capture_on_commit_callbacks() as queued:
        refused = alice.post(url, data, **HTMX)
    assert refused.status_code == 409
    assert "Someone else changed this gateway" in refused.content.decode()
    assert refused.context["form"].initial["replicas"] == 2 and refused.context["generation"] == 2
    assert queued == [] and Gateway.objects.get(project=shop).replicas == 2

    # Saved from the current version, it goes through.
    saved = alice.post(url, {**data, "generation": 2}, **HTMX)
    assert saved.status_code == 204 and Gateway.objects.get(project=shop).replicas == 3


def test_two_admins_enabling_a_gateway_at_once_do_not_overwrite_each_other(
    project_with_gateway, django_user_model, django_capture_on_commit_callbacks
):
    shop = project_with_gateway
    Gateway.objects.filter(project=shop).delete()
    alice = browser_as(django_user_model.objects.get(username="alice"))
    opened = alice.get(f"/projects/{shop.name}/gateway/wizard/", **HTMX)
    assert 'name="generation" value="0"' in opened.content.decode()
    gateway_services.configure_gateway(shop, flavor="traefik")
    response = api_as(django_user_model.objects.get(username="alice")).put(
        f"/api/v1/projects/{shop.name}/gateway/", {"flavor": "nginx-inc", "generation": 0}, format="json"
    )
    assert response.status_code == 409 and Gateway.objects.get(project=shop).flavor == "traefik"
    etag = api_as(django_user_model.objects.get(username="alice")).get(f"/api/v1/projects/{shop.name}/gateway/")["ETag"]
    assert etag == '"1"'
