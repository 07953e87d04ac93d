"""Limits a platform sets: projects per self-provisioner, routes per project, rules per route and
gateway replicas, each enforced at its boundary with a message on the field and nothing written,
and shown on the project page as used/allowed."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings

from console import cluster
from gateways.models import Gateway
from routes.models import Route
from tenants import permissions as perms
from tenants import services
from tenants.models import Project
from tests.conftest import api_as, backend_service, browser_as

# Both passes run it: the limits are counted under a row lock, which SQLite takes differently.
pytestmark = pytest.mark.both_databases


def limits(**changed):
    return override_settings(CONSOLE_QUOTAS={**settings.CONSOLE_QUOTAS, **changed})


def test_a_self_provisioner_creates_projects_up_to_the_limit_and_a_workspace_admin_past_it(
    make_user, workspace, platform_admin
):
    make_user("sam")
    services.add_workspace_member(workspace, username="sam", role=perms.WORKSPACE_SELF_PROVISIONER, by=platform_admin)
    sam = api_as(get_user_model().objects.get(username="sam"))
    url = f"/api/v1/workspaces/{workspace.name}/projects/"
    with limits(projects_per_self_provisioner=2):
        assert [sam.post(url, {"name": f"sam-{i}"}, format="json").status_code for i in range(2)] == [201, 201]
        refused = sam.post(url, {"name": "sam-2"}, format="json")
        assert refused.status_code == 400
        assert "the most a self-provisioner may (2" in refused.json()["name"][0]
        assert not Project.objects.filter(name="sam-2").exists()
        assert api_as(platform_admin).post(url, {"name": "root-1"}, format="json").status_code == 201


@pytest.fixture
def shop(project_with_gateway):
    cluster.apply(backend_service(project_with_gateway.namespace, "front-end"))
    return project_with_gateway


def route(name: str, rules: int = 1) -> dict:
    return {
        "name": name,
        "rules": [
            {"host": f"r{i}.{name}.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
            for i in range(rules)
        ],
    }


@pytest.mark.cluster
def test_a_project_holds_routes_up_to_the_limit_through_every_door(shop):
    olga = api_as(get_user_model().objects.get(username="olga"))
    url = f"/api/v1/projects/{shop.name}/routes/"
    with limits(routes_per_project=3):
        assert olga.post(url, route("one"), format="json").status_code == 201
        batch = olga.post(
            f"{url[:-1]}:batchCreate", {"routes": [route("two"), route("three"), route("four")]}, format="json"
        )
        assert batch.status_code == 400 and "may have at most 3" in batch.json()["routes"][0]
        two = olga.post(f"{url[:-1]}:batchCreate", {"routes": [route("two"), route("three")]}, format="json")
        assert two.status_code == 201
        refused = olga.post(url, route("four"), format="json")
        assert refused.status_code == 400 and "may have at most 3" in refused.json()["name"][0]
        assert Route.objects.filter(project=shop).count() == 3
        page = browser_as(get_user_model().objects.get(username="vera")).get(f"/projects/{shop.name}/")
        assert "3 of 3 allowed" in page.content.decode()


@pytest.mark.cluster
def test_a_route_holds_rules_up_to_the_limit(shop):
    olga = api_as(get_user_model().objects.get(username="olga"))
    url = f"/api/v1/projects/{shop.name}/routes/"
    with limits(rules_per_route=2):
        refused = olga.post(url, route("many", rules=3), format="json")
        assert refused.status_code == 400 and "at most 2 rules" in refused.json()["rules"][0]
        assert olga.post(url, route("two", rules=2), format="json").status_code == 201
        grown = olga.patch(f"{url}two/", {"rules": route("two", rules=3)["rules"]}, format="json")
        assert grown.status_code == 400 and Route.objects.get(name="two").rules.count() == 2


@pytest.mark.cluster
def test_a_gateway_runs_replicas_up_to_the_limit(shop):
    alice = api_as(get_user_model().objects.get(username="alice"))
    url = f"/api/v1/projects/{shop.name}/gateway/"
    with limits(gateway_replicas=2):
        refused = alice.put(url, {"replicas": 3}, format="json")
        assert refused.status_code == 400 and "At most 2 replicas" in refused.json()["replicas"][0]
        assert Gateway.objects.get(project=shop).replicas == 1
        assert alice.put(url, {"replicas": 2}, format="json").status_code == 202
        page = browser_as(get_user_model().objects.get(username="vera")).get(f"/projects/{shop.name}/")
        assert "2, at most 2" in page.content.decode()
