"""Deciding a route reads the cluster's facts once per request, before any transaction: the
wizard's final POST, the API's POST and a batch of 500 routes make at most one LIST of Services and
one of Secrets each, no GET per TLS secret, and no API-server call while a transaction is open (a
row lock is held only inside one). Against the real API server."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from console import cluster
from routes.models import Route
from routes.validators import MAX_BATCH

pytestmark = pytest.mark.cluster


@pytest.fixture
def calls(monkeypatch, transactional_db, redis_server):
    """Every request this process makes to the API server, as (method, path, whether a transaction
    was open). The database is transactional, so an open transaction is the code's own."""
    seen = []
    real = cluster.request

    def spy(method, path, *args, **kwargs):
        seen.append((method, path, connection.in_atomic_block))
        return real(method, path, *args, **kwargs)

    monkeypatch.setattr(cluster, "request", spy)
    return seen


def lists_of(calls, resource: str) -> int:
    return sum(1 for method, path, _ in calls if method == "GET" and path.endswith(f"/{resource}"))


def assert_facts_read_once(calls) -> None:
    assert lists_of(calls, "services") <= 1 and lists_of(calls, "secrets") <= 1, calls
    assert not [path for method, path, _ in calls if method == "GET" and "/secrets/" in path], calls
    assert not [(method, path) for method, path, in_transaction in calls if in_transaction], calls


def user(name: str):
    return get_user_model().objects.get(username=name)


def tls_rule(i: int) -> dict:
    return {
        "host": "secure.example.com",
        "protocol": "https",
        "tls_secret": "good-tls",
        "paths": [{"path": f"/r{i}", "service": "front-end", "port": 80}],
    }


def test_an_api_post_and_a_batch_of_500_read_the_facts_once_and_outside_any_transaction(project_with_gateway, calls):
    api = APIClient()
    api.force_authenticate(user("olga"))
    base = f"/api/v1/projects/{project_with_gateway.name}/routes"
    calls.clear()
    assert api.post(f"{base}/", {"name": "one", "rules": [tls_rule(0)]}, format="json").status_code == 201
    assert_facts_read_once(calls)
    assert lists_of(calls, "services") == 1  # the Service was checked

    calls.clear()
    batch = {"routes": [{"name": f"r{i:03}", "rules": [tls_rule(i + 1)]} for i in range(MAX_BATCH)]}
    assert api.post(f"{base}:batchCreate", batch, format="json").status_code == 201
    assert_facts_read_once(calls)
    assert Route.objects.filter(project=project_with_gateway).count() == MAX_BATCH + 1

    calls.clear()
    body = {"rules": [tls_rule(0), tls_rule(MAX_BATCH + 1)]}
    assert api.patch(f"{base}/one/", body, format="json").status_code == 200
    assert_facts_read_once(calls)

    calls.clear()  # routes naming no TLS protocol or secret are not checked against the secrets
    plain = {"name": "plain", "rules": [{"host": "plain.example.com", "paths": [{"service": "front-end", "port": 80}]}]}
    assert api.post(f"{base}:batchCreate", {"routes": [plain]}, format="json").status_code == 201
    assert (lists_of(calls, "services"), lists_of(calls, "secrets")) == (1, 0), calls


def test_the_wizards_final_post_and_edit_rules_read_the_facts_once_and_outside_any_transaction(
    project_with_gateway, calls
):
    client = Client()
    client.force_login(user("olga"))
    project = project_with_gateway.name
    fields = {"rule-0-host_mode": "custom", "rule-0-host": "secure.example.com", "rule-0-protocol": "https"}
    fields |= {"rule-0-tls_secret": "good-tls", "rule-0-path-0-path": "/", "rule-0-path-0-path_type": "Prefix"}
    fields |= {"rule-0-path-0-service": "front-end", "rule-0-path-0-port": "80", "rule-0-path-0-weight": "1"}
    wizard = {"step": 2, "action": "create", "name": "front-end", "alias": "", "description": "", **fields}
    wizard |= {"annotations-key": [""], "annotations-value": [""], "labels-key": [""], "labels-value": [""]}
    calls.clear()
    assert client.post(f"/projects/{project}/routes/new/", wizard, HTTP_HX_REQUEST="true").status_code == 204
    assert_facts_read_once(calls)
    assert Route.objects.filter(name="front-end").exists()

    calls.clear()
    edit = {"action": "save", "generation": 1, **fields, "rule-0-path-0-path": "/shop"}
    answer = client.post(f"/projects/{project}/routes/front-end/edit-rules/", edit, HTTP_HX_REQUEST="true")
    assert answer.status_code == 204
    assert_facts_read_once(calls)
    assert Route.objects.get(name="front-end").rules.get().paths.get().path == "/shop"
