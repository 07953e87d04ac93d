"""Every change to memberships, gateways and routes lands in the audit log with its author,
its time and what it was before and after; refused changes leave no entry."""

import pytest

from tenants.models import AuditEntry
from tests.conftest import api_as

pytestmark = pytest.mark.cluster


ROUTE = {
    "name": "front-end",
    "rules": [
        {
            "host_mode": "custom",
            "host": "shop.example.com",
            "protocol": "http",
            "paths": [{"path": "/", "path_type": "Prefix", "service": "front-end", "port": 80}],
        }
    ],
}


def entries(kind: str) -> list[tuple]:
    return [
        (e.actor_name, e.action, e.object_name, e.before, e.after)
        for e in AuditEntry.objects.filter(kind=kind).order_by("pk")
    ]


def test_route_changes_are_logged_with_author_and_before_after(project_with_gateway, django_user_model):
    shop = project_with_gateway
    olga = api_as(django_user_model.objects.get(username="olga"))
    url = f"/api/v1/projects/{shop.name}/routes/"
    assert olga.post(url, ROUTE, format="json").status_code == 201
    assert olga.patch(f"{url}front-end/", {"alias": "Shop front"}, format="json").status_code == 200
    assert olga.delete(f"{url}front-end/").status_code == 202

    logged = entries("route")
    assert [(actor, action, name) for actor, action, name, _, _ in logged] == [
        ("olga", "added", "front-end"),
        ("olga", "changed", "front-end"),
        ("olga", "removed", "front-end"),
    ]
    added, changed, removed = logged
    assert added[3] is None and added[4]["rules"][0]["host"] == "shop.example.com"
    assert (changed[3]["alias"], changed[4]["alias"]) == ("", "Shop front")
    assert removed[3]["alias"] == "Shop front" and removed[4] is None
    entry = AuditEntry.objects.filter(kind="route").first()
    assert entry.project == shop and entry.scope == f"{shop.workspace.name}/{shop.name}" and entry.at


def test_gateway_changes_are_logged(project_with_gateway, django_user_model):
    shop = project_with_gateway
    alice = api_as(django_user_model.objects.get(username="alice"))
    url = f"/api/v1/projects/{shop.name}/gateway/"
    assert alice.put(url, {"access_mode": "LoadBalancer", "replicas": 2}, format="json").status_code == 202
    assert alice.delete(url).status_code == 202

    changes = [(actor, action) for actor, action, *_ in entries("gateway")]
    assert changes == [("system", "added"), ("alice", "changed"), ("alice", "changed")]
    _, _, name, before, after = entries("gateway")[1]
    assert name == f"kubeconsole-{shop.name}"
    assert (before["access_mode"], after["access_mode"], after["replicas"]) == ("NodePort", "LoadBalancer", 2)
    _, _, _, before, after = entries("gateway")[2]
    assert (before["enabled"], after["enabled"]) == (True, False)


def test_refused_changes_leave_no_entry(project_with_gateway, django_user_model):
    shop = project_with_gateway
    url = f"/api/v1/projects/{shop.name}/routes/"
    before = AuditEntry.objects.count()
    olga = api_as(django_user_model.objects.get(username="olga"))
    vera = api_as(django_user_model.objects.get(username="vera"))
    assert olga.post(url, {**ROUTE, "name": "Bad_Name"}, format="json").status_code == 400
    assert vera.post(url, ROUTE, format="json").status_code == 403
    alice = api_as(django_user_model.objects.get(username="alice"))
    assert olga.put(f"/api/v1/projects/{shop.name}/gateway/", {"replicas": 2}, format="json").status_code == 403
    assert alice.put(f"/api/v1/projects/{shop.name}/gateway/", {"replicas": 99}, format="json").status_code == 400
    assert AuditEntry.objects.count() == before
