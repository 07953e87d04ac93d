"""Who may claim a host, across projects: a project's generated host names are its own whatever
the age of another's claim, a wildcard holds its whole subdomain, a gateway's default domain is its
project's own, and a route never proxies to an ExternalName Service. Checked at the door (the API
answers 400 on the field and writes nothing) and at admission (what the worker decides, from the
claims in the database)."""

from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from console import cluster
from gateways import services as gateway_services
from gateways.models import Gateway
from routes import reconcile
from routes import services as route_services
from routes.claims import admissions
from routes.models import HostClaim, Route, RouteRule
from tenants import services as tenant_services
from tests.conftest import api_as, backend_service

pytestmark = pytest.mark.cluster

ADDRESS = "10.0.0.7"


def path_to(service: str) -> list[dict]:
    return [{"path": "/", "service": service, "port": 80}]


def custom(name: str, host: str, service: str = "front-end") -> dict:
    return {"name": name, "rules": [{"host": host, "paths": path_to(service)}]}


@pytest.fixture
def two_projects(project_with_gateway, platform_admin, workspace, unique_name):
    """Alice's project (a gateway at ADDRESS) and Bob's, in the same workspace, each with a front-end."""
    shop = project_with_gateway
    bob = get_user_model().objects.get(username="bob")
    tenant_services.add_workspace_member(
        workspace, username="bob", role="workspace-self-provisioner", by=platform_admin
    )
    other = tenant_services.create_project(workspace=workspace, name=f"a-{unique_name}", by=bob)
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": other.namespace}})
    gateway_services.configure_gateway(other)
    for project in (shop, other):
        Gateway.objects.filter(project=project).update(addresses=[ADDRESS])
        cluster.apply(backend_service(project.namespace, "front-end"))
    yield shop, other
    cluster.delete("v1", "Namespace", other.namespace)


def create(project, data: dict) -> Route:
    """A route as the door stores it, then as the worker's reconcile derives its hosts and claims."""
    route = route_services.create_route(project, data)
    derive(route)
    return route


def derive(*routes: Route) -> list[int]:
    """The worker's derive step for `routes`; returns the routes it queued for another run (no
    worker runs here)."""
    queued = []
    with mock.patch.object(reconcile, "send", lambda task, pk: queued.append(pk)):
        reconcile.derived(list(reconcile.loaded_routes([route.pk for route in routes])))
    return queued


def refusals(*routes: Route) -> list[str]:
    fresh = list(
        Route.objects.filter(pk__in=[r.pk for r in routes]).select_related("project").prefetch_related("claims")
    )
    found = admissions(fresh)
    return [found[route.pk] for route in routes]


def claims_of(route: Route) -> set[tuple[str, str]]:
    return set(HostClaim.objects.filter(route=route).values_list("host", "path"))


def test_the_door_stores_the_users_hosts_and_the_worker_derives_the_rest(two_projects):
    """A request stores the rules as asked (an auto rule's host empty, whatever was sent) and no
    claim; the worker writes the generated host in its own column and the claims, aged from the
    request; when the gateway's address moves, the generated host and its claim follow and the
    custom host stays as the user wrote it."""
    shop, _ = two_projects
    olga = get_user_model().objects.get(username="olga")
    auto = {"host_mode": "auto", "host": "sent-anyway.example.com", "paths": path_to("front-end")}
    body = {"name": "mixed", "rules": [auto, {"host": "shop.example.com", "paths": path_to("front-end")}]}
    response = api_as(olga).post(f"/api/v1/projects/{shop.name}/routes/", body, format="json")
    assert response.status_code == 201, response.json()
    answered = [(rule["host"], rule["generated_host"]) for rule in response.json()["rules"]]
    assert answered == [("", ""), ("shop.example.com", "")]
    route = Route.objects.get(project=shop, name="mixed")
    assert claims_of(route) == set()

    derive(route)
    generated = f"front-end.{shop.name}.{ADDRESS}.nip.io"
    assert list(route.rules.values_list("host", "generated_host")) == [("", generated), ("shop.example.com", "")]
    assert claims_of(route) == {(generated, "/"), ("shop.example.com", "/")}
    assert set(HostClaim.objects.filter(route=route).values_list("claimed_at", flat=True)) == {
        Route.objects.get(pk=route.pk).rules_changed
    }
    fetched = api_as(olga).get(f"/api/v1/projects/{shop.name}/routes/mixed/").json()["rules"]
    assert [(rule["host"], rule["generated_host"]) for rule in fetched] == [("", generated), ("shop.example.com", "")]
    relabelled = api_as(olga).patch(
        f"/api/v1/projects/{shop.name}/routes/mixed/", {"labels": {"team": "shop"}}, format="json"
    )
    assert relabelled.status_code == 200, relabelled.json()
    assert [rule["generated_host"] for rule in relabelled.json()["rules"]] == [generated, ""]  # rules untouched

    Gateway.objects.filter(project=shop).update(addresses=["10.0.0.8"])
    derive(route)
    moved = f"front-end.{shop.name}.10.0.0.8.nip.io"
    assert list(route.rules.values_list("host", "generated_host")) == [("", moved), ("shop.example.com", "")]
    assert claims_of(route) == {(moved, "/"), ("shop.example.com", "/")}


def test_the_older_request_holds_a_host_whichever_route_the_worker_reaches_first(two_projects):
    shop, other = two_projects
    first = route_services.create_route(shop, custom("first", "race.example.com"))
    second = route_services.create_route(other, custom("second", "race.example.com"))
    assert derive(second) == []
    assert derive(first) == [second.pk]  # whose admission may change with the new claim
    assert refusals(first, second) == ["", "Host race.example.com is already used by another project."]


def test_a_generated_host_is_refused_at_the_door_to_another_project(two_projects):
    shop, other = two_projects
    squat = f"front-end.{shop.name}.{ADDRESS}.nip.io"
    bob = get_user_model().objects.get(username="bob")
    response = api_as(bob).post(f"/api/v1/projects/{other.name}/routes/", custom("squat", squat), format="json")
    assert response.status_code == 400
    assert "names the console generates for another project" in " ".join(response.json()["rules.0.host"])
    assert shop.name not in str(response.json())  # it says the name is taken, not whose
    assert not Route.objects.filter(project=other).exists() and not HostClaim.objects.exists()


def test_an_older_squat_on_a_generated_host_loses_to_the_project_it_belongs_to(two_projects):
    shop, other = two_projects
    # A claim from before the rule: stored when any custom host was taken, first come first served.
    squat = create(other, custom("squat", "placeholder.example.com"))
    generated = f"front-end.{shop.name}.{ADDRESS}.nip.io"
    RouteRule.objects.filter(route=squat).update(host=generated)
    HostClaim.objects.filter(route=squat).update(host=generated)

    mine = create(shop, {"name": "front-end", "rules": [{"host_mode": "auto", "paths": path_to("front-end")}]})
    assert mine.rules.get().generated_host == generated
    assert refusals(mine, squat) == [
        "",
        f"Host {generated} is among the host names the console generates for another project.",
    ]


def test_generated_names_with_a_default_domain_cannot_collide_between_projects(two_projects):
    shop, other = two_projects
    gateway_services.configure_gateway(shop, default_domain="apps.example.com")
    for taken in ("apps.example.com", "eu.apps.example.com", "example.com"):
        with pytest.raises(ValidationError) as refused:
            gateway_services.configure_gateway(other, default_domain=taken)
        assert (
            "Another project's gateway generates its hosts in this domain"
            in refused.value.message_dict["default_domain"][0]
        )
    # front-end-a in project shop and front-end in project a-shop gave one host; now Bob's is elsewhere.
    gateway_services.configure_gateway(other, default_domain="apps.example.org")
    auto = {"name": "front-end", "rules": [{"host_mode": "auto", "paths": path_to("front-end")}]}
    assert create(other, auto).rules.get().generated_host == f"front-end-{other.name}.apps.example.org"
    with pytest.raises(ValidationError) as refused:
        create(other, custom("squat", f"front-end-{shop.name}.apps.example.com"))
    assert "names the console generates for another project" in refused.value.message_dict["rules.0.host"][0]


def test_a_default_domain_under_which_another_project_holds_hosts_is_refused(two_projects):
    shop, other = two_projects
    route_services.create_route(other, custom("www", "www.taken.example.com"))  # asked, not claimed yet
    create(other, custom("wild", "*.wild.example.com"))
    for domain in ("taken.example.com", "eu.wild.example.com"):
        with pytest.raises(ValidationError) as refused:
            gateway_services.configure_gateway(shop, default_domain=domain)
        assert "already use host names in this domain" in refused.value.message_dict["default_domain"][0]
    assert Gateway.objects.get(project=shop).default_domain == ""


@pytest.mark.parametrize("wildcard_first", [True, False])
def test_a_wildcard_holds_its_whole_subdomain_across_projects(two_projects, wildcard_first):
    shop, other = two_projects
    steps = [(shop, custom("wild", "*.shop.example.com")), (other, custom("api", "api.shop.example.com"))]
    first, second = [create(project, data) for project, data in (steps if wildcard_first else steps[::-1])]
    assert refusals(first, second) == ["", f"Host {second.rules.get().host} is already used by another project."]


def test_a_wildcard_and_exact_hosts_of_one_project_live_together(two_projects):
    shop, _ = two_projects
    wild, api = create(shop, custom("wild", "*.mine.example.com")), create(shop, custom("api", "api.mine.example.com"))
    assert refusals(wild, api) == ["", ""]


def test_an_externalname_backend_is_refused_for_every_door(two_projects):
    shop, _ = two_projects
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "apiserver", "namespace": shop.namespace},
            "spec": {"type": "ExternalName", "externalName": "kubernetes.default.svc.cluster.local"},
        }
    )
    olga = get_user_model().objects.get(username="olga")
    url = f"/api/v1/projects/{shop.name}/routes/"
    response = api_as(olga).post(url, custom("sneaky", "sneaky.example.com", "apiserver"), format="json")
    assert response.status_code == 400
    assert "ExternalName" in " ".join(response.json()["rules.0.paths.0.service"])
    batch = {"routes": [custom("ok", "ok.example.com"), custom("sneaky", "sneaky.example.com", "apiserver")]}
    response = api_as(olga).post(f"/api/v1/projects/{shop.name}/routes:batchCreate", batch, format="json")
    assert response.status_code == 400
    assert "ExternalName" in " ".join(response.json()["routes.1.rules.0.paths.0.service"])
    assert not Route.objects.filter(project=shop).exists()


def test_with_a_platform_domain_a_new_gateway_takes_its_projects_part_and_no_project_takes_anothers(
    two_projects, settings
):
    shop, other = two_projects
    settings.CONSOLE_DEFAULT_DOMAIN = "tenants.example.org"
    alice, bob = (get_user_model().objects.get(username=name) for name in ("alice", "bob"))
    Gateway.objects.filter(project=other).delete()  # Bob enables his gateway now, through the API
    response = api_as(bob).put(f"/api/v1/projects/{other.name}/gateway/", {"access_mode": "NodePort"}, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["default_domain"] == f"{other.name}.tenants.example.org"
    auto = {"name": "front-end", "rules": [{"host_mode": "auto", "paths": path_to("front-end")}]}
    assert create(other, auto).rules.get().generated_host == f"front-end-{other.name}.{other.name}.tenants.example.org"

    # Alice's gateway predates the platform domain: she may move into her part of it, and only there.
    for domain, said in [
        (f"{other.name}.tenants.example.org", f"this project's default domain is {shop.name}.tenants.example.org"),
        ("tenants.example.org", "takes in the platform's domain"),
        ("example.org", "takes in the platform's domain"),
    ]:
        with pytest.raises(ValidationError) as refused:
            gateway_services.configure_gateway(shop, default_domain=domain)
        assert said in refused.value.message_dict["default_domain"][0]
    assert Gateway.objects.get(project=shop).default_domain == ""
    gateway_services.configure_gateway(shop, default_domain=f"eu.{shop.name}.tenants.example.org")

    squat = custom("squat", f"www.{other.name}.tenants.example.org")
    response = api_as(alice).post(f"/api/v1/projects/{shop.name}/routes/", squat, format="json")
    assert response.status_code == 400
    assert "names the console generates for another project" in " ".join(response.json()["rules.0.host"])
    assert not Route.objects.filter(project=shop).exists()
