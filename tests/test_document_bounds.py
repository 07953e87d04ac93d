"""Documents a client sends are bounded at the door: Edit YAML refuses anchors and aliases (a
billion-laughs document), and Edit YAML and every API body refuse a document too deep or too large
with a message, never a 500 and never a write."""

import json
import time

import pytest
import yaml
from django.contrib.auth import get_user_model

from console import cluster, documents
from routes import services as route_services
from routes.models import Route
from tests.conftest import api_as, backend_service, browser_as

HTMX = {"HTTP_HX_REQUEST": "true"}


def laughs(depth: int) -> str:
    """A flow sequence that expands to 9**(depth+1) items: each level holds the level below,
    anchored where it first appears, and 8 aliases of it (about 100 bytes a level)."""
    nest = '["x","x","x","x","x","x","x","x","x"]'
    for i in range(depth):
        nest = f"[&l{i} {nest}, {', '.join([f'*l{i}'] * 8)}]"
    return nest


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# The loader, on its own


def test_an_alias_is_refused_before_anything_expands_it():
    started = time.monotonic()
    with pytest.raises(documents.DocumentError, match="anchors and aliases"):
        documents.load_yaml(f"port: {laughs(12)}\n")
    assert time.monotonic() - started < 1


def test_an_anchor_alone_is_refused_too():
    with pytest.raises(documents.DocumentError, match="Line 2"):
        documents.load_yaml("a: 1\nb: &x 2\n")


@pytest.mark.parametrize("load", [documents.load_yaml, documents.load_json])
def test_nesting_past_the_bound_is_refused_and_up_to_it_read(load):
    assert load(nested(documents.MAX_DEPTH)) not in (None, [])
    with pytest.raises(documents.DocumentError, match="nests too deeply"):
        load(nested(documents.MAX_DEPTH + 1))
    with pytest.raises(documents.DocumentError, match="nests too deeply"):
        load(nested(100_000))  # past Python's recursion limit


@pytest.mark.parametrize("load", [documents.load_yaml, documents.load_json])
def test_a_document_over_the_size_bound_is_refused(load):
    with pytest.raises(documents.DocumentError, match="too large"):
        load('"' + "x" * documents.MAX_BYTES + '"')


def test_json_without_nan():
    with pytest.raises(ValueError, match="NaN"):
        documents.load_json('{"weight": NaN}')


# Through the doors


@pytest.fixture
def route_world(project_with_gateway):
    shop = project_with_gateway
    cluster.apply(backend_service(shop.namespace, "front-end"))
    rule = {"host": "shop.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
    route_services.create_route(shop, {"name": "front-end", "rules": [rule]})
    return shop


def edit_yaml(shop, text: str):
    client = browser_as(get_user_model().objects.get(username="olga"))
    return client.post(
        f"/projects/{shop.name}/routes/front-end/edit-yaml/", {"manifest": text, "generation": 1}, **HTMX
    )


def test_edit_yaml_refuses_a_billion_laughs_port_at_once_and_writes_nothing(route_world, cluster_calls):
    opened = yaml.safe_load(
        browser_as(get_user_model().objects.get(username="olga"))
        .get(f"/projects/{route_world.name}/routes/front-end/edit-yaml/", **HTMX)
        .context["form"]
        .initial["manifest"]
    )
    opened["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"] = {"number": "PORT"}
    text = yaml.safe_dump(opened).replace("PORT", laughs(8))  # 900 bytes; the old tree took 25 s and 3.9 GB
    started = time.monotonic()
    response = edit_yaml(route_world, text)
    assert time.monotonic() - started < 2
    assert response.status_code == 400
    assert "anchors and aliases" in response.content.decode()
    route = Route.objects.get(project=route_world, name="front-end")
    assert route.generation == 1 and route.rules.get().paths.get().port == 80
    assert [call for call in cluster_calls if call[0] != "GET"] == []


def test_edit_yaml_refuses_a_port_that_is_a_list(route_world):
    text = (
        browser_as(get_user_model().objects.get(username="olga"))
        .get(f"/projects/{route_world.name}/routes/front-end/edit-yaml/", **HTMX)
        .context["form"]
        .initial["manifest"]
    )
    response = edit_yaml(route_world, text.replace("number: 80", "number: [80, [80, [80]]]"))
    assert response.status_code == 400
    assert "must be a number or a name" in response.content.decode()


def test_edit_yaml_refuses_a_deep_document_with_a_message(route_world):
    response = edit_yaml(route_world, nested(5000))
    assert response.status_code == 400
    assert "nests too deeply" in response.content.decode()


@pytest.mark.parametrize(
    "body, message",
    [
        (nested(100_000), "nests too deeply"),
        ('{"name": "x", "rules": ' + nested(40) + "}", "nests too deeply"),
        ('{"name": "' + "x" * (documents.MAX_BYTES + 1) + '"}', "too large"),
        ('{"name": "x", "rules": [], "annotations": {"a": NaN}}', "NaN"),
    ],
)
def test_the_api_answers_a_deep_or_large_body_400_with_the_reason_and_writes_nothing(
    project_with_gateway, body, message
):
    olga = get_user_model().objects.get(username="olga")
    url = f"/api/v1/projects/{project_with_gateway.name}/routes/"
    response = api_as(olga).generic("POST", url, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert message in json.loads(response.content)["detail"]
    assert not Route.objects.filter(project=project_with_gateway).exists()
