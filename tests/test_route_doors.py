"""One table of submitted routes through every door (the Create wizard, Edit Rules, Edit
Annotations, Edit YAML, and the API's POST, batchCreate, PUT and PATCH): each door stores the same
route, or refuses it on the same fields with the same words. No cluster: the facts the doors read
(the project's Services and TLS secrets) are given as data, and a door that asks the cluster
anything else fails the test."""

import pytest
import yaml
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from console import cluster
from gateways import services as gateway_services
from routes import facts as route_facts
from routes import render as route_render
from routes import services as route_services
from routes import spec as route_spec
from routes.models import Route
from tenants import services as tenant_services

FACTS = route_facts.Facts(
    services=(
        {"name": "front-end", "type": "ClusterIP", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
        {"name": "catalogue", "type": "ClusterIP", "ports": [{"name": "web", "port": 8080, "protocol": "TCP"}]},
        {"name": "outside", "type": "ExternalName", "ports": []},
    ),
    tls_secrets=({"name": "good-tls", "dns_names": ["secure.example.com"], "not_after": "2099-01-01T00:00:00+00:00"},),
    ingress_routes=False,
)

NAME = "shop"


def rule(host="shop.example.com", protocol="http", tls_secret="", service="front-end", port=80, **path):
    mode = "auto" if host == "" else "custom"
    paths = [{"path": "/", "path_type": "Prefix", "service": service, "port": port, "weight": 1, **path}]
    return {"host_mode": mode, "host": host, "protocol": protocol, "tls_secret": tls_secret, "paths": paths}


BASE_RULES = [rule()]

# (what is submitted, the fields a refusal names or None when it is stored)
TABLE = {
    "plain": ({"rules": BASE_RULES}, None),
    "two rules, tls and a named port": (
        {"rules": [rule(), rule("secure.example.com", "https", "good-tls", "catalogue", "web", path="/c")]},
        None,
    ),
    "protocol-implied annotations are not stored": (
        {
            "rules": [rule("ws.example.com", protocol="ws")],
            "annotations": {"nginx.org/websocket-services": "front-end", "team": "a"},
        },
        None,
    ),
    "labels": ({"rules": BASE_RULES, "labels": {"team": "socks"}}, None),
    "no such service": ({"rules": [rule(service="ghost")]}, {"rules.0.paths.0.service"}),
    "no such port": ({"rules": [rule(port=81)]}, {"rules.0.paths.0.port"}),
    "externalname service": ({"rules": [rule(service="outside")]}, {"rules.0.paths.0.service"}),
    "unusable secret": ({"rules": [rule("secure.example.com", "https", "opaque")]}, {"rules.0.tls_secret"}),
    "bad host": ({"rules": [rule("Bad.Host")]}, {"rules.0.host"}),
    "bad path": ({"rules": [rule(path="/a//b")]}, {"rules.0.paths.0.path"}),
    "reserved label": ({"rules": BASE_RULES, "labels": {"kubeconsole.io/project": "x"}}, {"labels"}),
}


@pytest.fixture
def project(db, make_user, platform_admin, workspace, monkeypatch):
    monkeypatch.setattr(route_facts, "read", lambda namespace, gateway, secrets=True: FACTS)

    def no_cluster(method, path, *args, **kwargs):
        raise AssertionError(f"a door asked the cluster: {method} {path}")

    monkeypatch.setattr(cluster, "request", no_cluster)
    project = tenant_services.create_project(workspace=workspace, name="doors", by=platform_admin)
    gateway_services.configure_gateway(project)
    return project


def submitted(case: str) -> dict:
    data, _ = TABLE[case]
    return {"name": NAME, "annotations": {}, "labels": {}, **data}


def stored(project) -> dict | None:
    route = Route.objects.with_rules().filter(project=project, name=NAME).first()
    return route_services.comparable(route_spec.from_route(route)) if route else None


def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username="root"))
    return client


def api_errors(response) -> dict[str, list[str]]:
    assert response.status_code in (200, 201, 400), response.content
    return {} if response.status_code < 300 else {k: v for k, v in response.json().items() if k != "detail"}


# The doors. Each takes the project and the submitted route and returns the refusal's messages by
# dotted field ({} when it took the route).


def through_api_post(project, data):
    return api_errors(api().post(f"/api/v1/projects/{project.name}/routes/", data, format="json"))


def through_api_batch(project, data):
    answer = api_errors(api().post(f"/api/v1/projects/{project.name}/routes:batchCreate", {"routes": [data]}, "json"))
    return {key.removeprefix("routes.0."): messages for key, messages in answer.items()}


def through_api_put(project, data):
    return api_errors(api().put(f"/api/v1/projects/{project.name}/routes/{NAME}/", data, format="json"))


def through_api_patch(project, data):
    body = {key: data[key] for key in ("rules", "annotations", "labels")}
    return api_errors(api().patch(f"/api/v1/projects/{project.name}/routes/{NAME}/", body, format="json"))


def flat_rules(rules: list[dict]) -> dict:
    """The rules editor's fields for `rules`."""
    fields = {}
    for i, rule in enumerate(rules):
        for key in ("host_mode", "host", "protocol", "tls_secret"):
            fields[f"rule-{i}-{key}"] = rule[key]
        for j, path in enumerate(rule["paths"]):
            for key in ("path", "path_type", "service", "port", "weight"):
                fields[f"rule-{i}-path-{j}-{key}"] = str(path[key])
    return fields


def key_values(prefix: str, pairs: dict) -> dict:
    return {f"{prefix}-key": list(pairs) or [""], f"{prefix}-value": list(pairs.values()) or [""]}


def editor_errors(context) -> dict[str, list[str]]:
    """The rules editor's messages, by dotted field."""
    found = {}
    for rule in context["rules"]:
        at = f"rules.{rule['index']}"
        found.update({f"{at}.{key}": messages for key, messages in rule["errors"].items() if messages})
        for path in rule["paths"]:
            where = f"{at}.paths.{path['index']}"
            found.update({f"{where}.{key}": messages for key, messages in path["errors"].items() if messages})
    return found


def form_errors(form, *fields: str) -> dict[str, list[str]]:
    return {field: list(form.errors[field]) for field in fields if field in form.errors}


def through_wizard(project, data):
    client = browser()
    post = {"step": 2, "action": "create", "name": data["name"], "alias": "", "description": ""}
    post |= flat_rules(data["rules"]) | key_values("annotations", data["annotations"])
    post |= key_values("labels", data["labels"])
    response = client.post(f"/projects/{project.name}/routes/new/", post, HTTP_HX_REQUEST="true")
    if response.status_code in (200, 204, 302):
        return {}
    context = response.context
    return (
        editor_errors(context)
        | form_errors(context["basic"], "name")
        | form_errors(context["advanced"], "annotations", "labels")
    )


def browser():
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="root"))
    return client


def dialog_url(project, dialog: str) -> str:
    return f"/projects/{project.name}/routes/{NAME}/{dialog}/"


def through_edit_rules(project, data):
    post = {"action": "save", "generation": 1, **flat_rules(data["rules"])}
    response = browser().post(dialog_url(project, "edit-rules"), post, HTTP_HX_REQUEST="true")
    return {} if response.status_code in (200, 204) else editor_errors(response.context)


def through_edit_annotations(project, data):
    post = {"generation": 1, **key_values("annotations", data["annotations"])}
    response = browser().post(dialog_url(project, "edit-annotations"), post, HTTP_HX_REQUEST="true")
    return {} if response.status_code in (200, 204) else prefixed(response.context["form"].errors["annotations"])


def through_edit_yaml(project, data):
    """The route's manifest as the worker would apply it, its rules, annotations and labels
    replaced by the submitted ones."""
    gateway = project.gateway
    spec = route_spec.from_data(data, project.namespace)
    spec = spec.with_hosts([rule.host for rule in spec.rules])
    manifests = route_render.ingress_manifests(spec, gateway, Route.objects.get(name=NAME).owner, False)
    post = {"generation": 1, "manifest": yaml.safe_dump_all(manifests)}
    response = browser().post(dialog_url(project, "edit-yaml"), post, HTTP_HX_REQUEST="true")
    return {} if response.status_code in (200, 204) else prefixed(response.context["form"].errors["manifest"])


def prefixed(messages: list[str]) -> dict[str, list[str]]:
    """A dialog's messages, which name the field they concern ("rules.0.host: ..."), by field."""
    found: dict[str, list[str]] = {}
    for message in messages:
        key, _, said = message.partition(": ")
        found.setdefault(key if said and " " not in key else "annotations", []).append(said or message)
    return found


CREATE_DOORS = [through_api_post, through_api_batch, through_wizard]
EDIT_DOORS = [through_api_put, through_api_patch, through_edit_rules, through_edit_annotations, through_edit_yaml]


def applies(door, data) -> bool:
    """Whether the door can carry the submitted route: Edit Rules carries rules alone, Edit
    Annotations annotations alone (the rest of the route stays as it was); Edit YAML shows the
    console's own labels on the manifest and keeps them the console's."""
    if door is through_edit_yaml:
        return not any(key.startswith("kubeconsole.io/") for key in data["labels"])
    if door is through_edit_rules:
        return not data["annotations"] and not data["labels"]
    if door is through_edit_annotations:
        return data["rules"] == BASE_RULES and not data["labels"]
    return True


@pytest.mark.parametrize("case", TABLE)
def test_every_door_stores_the_same_route_or_refuses_it_on_the_same_fields(project, case):
    data = submitted(case)
    _, refused_on = TABLE[case]
    if refused_on is None:
        expected = route_services.comparable(route_services.decide(route_services.context(project), data))
    outcomes = {}
    for door in CREATE_DOORS + EDIT_DOORS:
        if not applies(door, data):
            continue
        Route.objects.filter(project=project).delete()
        if door in EDIT_DOORS:
            route_services.create_route(project, {"name": NAME, "rules": BASE_RULES})
        before = stored(project)
        errors = door(project, data)
        outcomes[door.__name__] = (errors, stored(project) if not errors else before == stored(project))
    if refused_on is None:
        reference = ({}, expected)
    else:
        reference = outcomes["through_api_post"]
        assert set(reference[0]) == refused_on and reference[1] is True, reference
    differing = {door: outcome for door, outcome in outcomes.items() if outcome != reference}
    assert not differing, (reference, differing)
    assert len(outcomes) >= 5


@pytest.mark.parametrize(
    ("items", "reads_secrets"),
    [
        ([{"rules": [{"protocol": "http", "paths": []}, {"paths": []}]}], False),
        ([{"rules": [{"paths": []}]}, {"rules": [{"protocol": "wss"}]}], True),
        ([{"rules": [{"protocol": "http", "tls_secret": "shop-tls"}]}], True),
        ([{"rules": [{"protocol": ["https"]}]}], True),  # what a parser let through is read, never a crash
        ([{"rules": "all of them"}], True),
        (["not a route"], True),
    ],
)
def test_the_secrets_are_read_only_for_routes_that_name_tls(items, reads_secrets):
    assert route_facts.names_tls(items) is reads_secrets
