"""Tenant isolation, generated: every HTML URL (from the URL configuration) and every API operation
(from the OpenAPI schema), for every role, against the user's own project and against a project
of another workspace. Each answer must be the permission table's (tests/test_permissions.py writes
it out by hand); objects out of reach answer 404 exactly as names that do not exist; no answer
names what the user cannot see; refused requests write nothing and queue nothing.

An endpoint added without a line in ENDPOINTS below fails `test_every_endpoint_is_described`."""

import re

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from console import cluster
from gateways import services as gateway_services
from routes import services as route_services
from tests.conftest import backend_service, tls_secret_manifest
from tests.test_permissions import (
    PROJECT_COLUMNS,
    PROJECT_TABLE,
    ROLES,
    WORKSPACE_COLUMNS,
    WORKSPACE_TABLE,
    build_world,
    parse,
)

pytestmark = pytest.mark.cluster

# Path template -> method -> the action it needs (None: any signed-in user; lists are filtered).
ENDPOINTS = {
    "/": {"GET": None},
    "/workspaces/": {"GET": None},
    "/workspaces/new/": {"GET": "create_workspace", "POST": "create_workspace"},
    "/workspaces/{name}/": {"GET": "view_workspace"},
    # Settings pages show Basic Information to every reader; saving needs the edit right.
    "/workspaces/{name}/settings/": {"GET": "view_workspace", "POST": "edit_workspace"},
    "/workspaces/{name}/delete/": {"GET": "delete_workspace", "POST": "delete_workspace"},
    "/workspaces/{workspace}/projects/new/": {"GET": "create_project", "POST": "create_project"},
    "/workspaces/{name}/members/": {"GET": "view_workspace_members"},
    "/workspaces/{name}/members/invite/": {"GET": "manage_workspace_members", "POST": "manage_workspace_members"},
    "/workspaces/{name}/members/candidates/": {"GET": "manage_workspace_members"},
    "/workspaces/{name}/members/{username}/role/": {"POST": "manage_workspace_members"},
    "/workspaces/{name}/members/{username}/remove/": {"POST": "manage_workspace_members"},
    "/projects/": {"GET": None},
    "/projects/{name}/": {"GET": "view_project"},
    "/projects/{name}/settings/": {"GET": "view_project", "POST": "edit_project"},
    "/projects/{name}/delete/": {"GET": "delete_project", "POST": "delete_project"},
    "/projects/{name}/members/": {"GET": "view_project_members"},
    "/projects/{name}/members/invite/": {"GET": "manage_project_members", "POST": "manage_project_members"},
    "/projects/{name}/members/candidates/": {"GET": "manage_project_members"},
    "/projects/{name}/members/{username}/role/": {"POST": "manage_project_members"},
    "/projects/{name}/members/{username}/remove/": {"POST": "manage_project_members"},
    "/users/": {"GET": "manage_users", "POST": "manage_users"},
    "/users/{username}/": {"GET": "manage_users", "POST": "manage_users"},
    "/projects/{name}/gateway/": {"GET": "view_gateway"},
    "/projects/{name}/gateway/wizard/": {"GET": "manage_gateway", "POST": "manage_gateway"},
    "/projects/{name}/gateway/disable/": {"GET": "manage_gateway", "POST": "manage_gateway"},
    "/projects/{name}/routes/": {"GET": "view_routes"},
    "/projects/{name}/routes/new/": {"GET": "create_route", "POST": "create_route"},
    "/projects/{name}/routes/{route}/": {"GET": "view_routes"},
    "/projects/{name}/routes/{route}/edit-info/": {"GET": "edit_route", "POST": "edit_route"},
    "/projects/{name}/routes/{route}/edit-rules/": {"GET": "edit_route", "POST": "edit_route"},
    "/projects/{name}/routes/{route}/edit-annotations/": {"GET": "edit_route", "POST": "edit_route"},
    "/projects/{name}/routes/{route}/edit-yaml/": {"GET": "edit_route", "POST": "edit_route"},
    "/projects/{name}/routes/{route}/delete/": {"GET": "delete_route", "POST": "delete_route"},
    "/projects/{name}/routes/{route}/gateway-api/": {"GET": "view_routes"},
    # The API, as the OpenAPI schema lists it.
    "/api/v1/users/": {"GET": "manage_users", "POST": "manage_users"},
    "/api/v1/users/{username}/": {"GET": "manage_users", "PATCH": "manage_users"},
    "/api/v1/workspaces/": {"GET": None, "POST": "create_workspace"},
    "/api/v1/workspaces/{name}/": {"GET": "view_workspace", "PATCH": "edit_workspace", "DELETE": "delete_workspace"},
    "/api/v1/workspaces/{name}/members/": {"GET": "view_workspace_members", "POST": "manage_workspace_members"},
    "/api/v1/workspaces/{name}/members/{username}/": {
        "GET": "view_workspace_members",
        "PATCH": "manage_workspace_members",
        "DELETE": "manage_workspace_members",
    },
    "/api/v1/workspaces/{workspace}/projects/": {"GET": "view_workspace", "POST": "create_project"},
    "/api/v1/projects/": {"GET": None},
    "/api/v1/projects/{name}/": {"GET": "view_project", "PATCH": "edit_project", "DELETE": "delete_project"},
    "/api/v1/projects/{name}/members/": {"GET": "view_project_members", "POST": "manage_project_members"},
    "/api/v1/projects/{name}/members/{username}/": {
        "GET": "view_project_members",
        "PATCH": "manage_project_members",
        "DELETE": "manage_project_members",
    },
    "/api/v1/projects/{name}/gateway/": {"GET": "view_gateway", "PUT": "manage_gateway", "DELETE": "manage_gateway"},
    "/api/v1/projects/{name}/routes/": {"GET": "view_routes", "POST": "create_route"},
    "/api/v1/projects/{name}/routes:batchCreate": {"POST": "create_route"},
    "/api/v1/projects/{name}/routes/{route}/": {
        "GET": "view_routes",
        "PUT": "edit_route",
        "PATCH": "edit_route",
        "DELETE": "delete_route",
    },
    "/api/v1/projects/{name}/routes/{route}/manifest/": {"GET": "view_routes"},
    "/api/v1/projects/{name}/services/": {"GET": "list_services"},
    "/api/v1/projects/{name}/secrets/": {"GET": "list_secrets"},
}
# About the caller's own account, not any tenant's objects: covered by their own tests.
ACCOUNT_ENDPOINTS = {
    "/login/",
    "/logout/",
    "/account/password/",
    "/account/password/done/",
    "/api/schema/",
    "/api/docs/",
    "/api/v1/auth/token/",
}

OTHER_WORKSPACE, OTHER_PROJECT = "zz-elsewhere-ws", "zz-hidden-prj"
PLATFORM_ACTIONS = {"manage_users", "create_workspace"}
OK = {200, 201, 202, 204, 302, 400, 409}


def html_paths() -> set[str]:
    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) not in ("admin/", "api/"):
                    yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    return {"/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route) for route in walk(get_resolver().url_patterns, "")}


def api_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {(path, method.upper()) for path, operations in schema["paths"].items() for method in operations}


def test_every_endpoint_is_described():
    described = {(path, method) for path, methods in ENDPOINTS.items() for method in methods}
    api = {op for op in api_operations() if op[0] not in ACCOUNT_ENDPOINTS}
    html = {path for path in html_paths() if path not in ACCOUNT_ENDPOINTS}
    assert api - described == set(), "API operations without an expected permission"
    assert html - {path for path, _ in described} == set(), "pages without an expected permission"
    assert {op for op in described if op[0].startswith("/api/")} == api, "described operations the schema lacks"


@pytest.fixture(scope="module")
def namespaces(control_plane):
    """The two projects' namespaces, kept for the whole module: deleting a namespace takes the
    controller a few seconds, and the next test would find it still terminating."""
    names = ["shop", OTHER_PROJECT]
    for namespace in names:
        cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        cluster.apply(tls_secret_manifest(namespace, "shop-tls", ["shop.example.com"]))
        cluster.apply(backend_service(namespace, "front-end"))
    yield names
    for namespace in names:
        cluster.delete("v1", "Namespace", namespace)


@pytest.fixture
def tenants(namespaces, make_user):
    world = build_world(make_user, OTHER_WORKSPACE, OTHER_PROJECT)
    for project in (world["shop"], world["other"]):
        assert project.namespace in namespaces
        gateway_services.configure_gateway(project)
        rule = {"host": f"{project.name}.example.com", "paths": [{"path": "/", "service": "front-end", "port": 80}]}
        route_services.create_route(project, {"name": "front-end", "rules": [rule]})
    return world


def url_for(template: str, own: bool) -> str:
    workspace = "home" if own else OTHER_WORKSPACE
    project = "shop" if own else OTHER_PROJECT
    values = {
        "name": workspace if "/workspaces/{name}" in template else project,
        "workspace": workspace,
        "route": "front-end",
        "username": "project-viewer" if own else "stranger",
    }
    return template.format(**values)


def expected_allowed(role: str, action: str | None, scope: str, own: bool) -> tuple[bool, bool]:
    """(may do the action, may see the object): the hand-written tables' answer."""
    if action is None:
        return True, True
    if action in PLATFORM_ACTIONS:
        return role == "platform-admin", True
    if role == "platform-admin":
        return True, True
    table, columns, view = (
        (PROJECT_TABLE, PROJECT_COLUMNS, "view_project")
        if scope == "project"
        else (WORKSPACE_TABLE, WORKSPACE_COLUMNS, "view_workspace")
    )
    if own:
        answers = parse(table, columns)
        return answers[(role, action)], answers[(role, view)]
    # The outsider is a workspace viewer of the other workspace; nobody else is in it.
    if role == "outsider":
        answers = parse(table, columns)
        return answers[("workspace-viewer", action)], True
    return False, False


def scope_of(template: str) -> str:
    return "workspace" if template.startswith(("/workspaces/", "/api/v1/workspaces/")) else "project"


def call(client: Client, method: str, url: str):
    """One request in a savepoint that is rolled back, so allowed writes do not change the world
    the next request sees (and queue nothing: on-commit hooks never run)."""
    with transaction.atomic():
        response = getattr(client, method.lower())(url, {}, content_type="application/json")
        transaction.set_rollback(True)
    return response


@pytest.mark.parametrize("role", ROLES)
def test_every_endpoint_answers_what_the_table_says(tenants, role):
    client = Client()
    client.force_login(tenants["users"][role])
    wrong, leaked = [], []
    for template, methods in ENDPOINTS.items():
        has_target = "{" in template
        for method, action in methods.items():
            for own in (True, False) if has_target else (True,):
                url = url_for(template, own)
                response = call(client, method, url)
                allowed, visible = expected_allowed(role, action, scope_of(template), own)
                if allowed:
                    expected = "2xx/3xx/400/409"
                    good = response.status_code in OK
                else:
                    expected = "403" if visible else "404"
                    good = response.status_code == int(expected)
                if not good:
                    wrong.append(f"{method} {url}: {response.status_code}, expected {expected}")
                sees_other = role in ("platform-admin", "outsider")
                if not sees_other and re.search(rf"{OTHER_PROJECT}|{OTHER_WORKSPACE}", response.content.decode()):
                    leaked.append(f"{method} {url}")
    assert not wrong, "\n".join(wrong)
    assert not leaked, "answers naming another workspace's objects:\n" + "\n".join(leaked)


def test_a_hidden_project_answers_like_one_that_does_not_exist(tenants):
    client = Client()
    client.force_login(tenants["users"]["project-admin"])
    for template, methods in ENDPOINTS.items():
        if "{name}" not in template or "/workspaces/{name}" in template:
            continue
        for method in methods:
            hidden = call(client, method, url_for(template, own=False))
            missing = call(client, method, url_for(template, own=False).replace(OTHER_PROJECT, "zz-no-such-prj"))
            assert hidden.status_code == missing.status_code == 404, template
            assert hidden.content.replace(OTHER_PROJECT.encode(), b"") == missing.content.replace(
                b"zz-no-such-prj", b""
            ), template


def test_anonymous_callers_are_sent_to_log_in(tenants):
    client = Client()
    for template, methods in ENDPOINTS.items():
        for method in methods:
            response = call(client, method, url_for(template, own=True))
            if template.startswith("/api/"):
                assert response.status_code == 401, template
            else:
                assert response.status_code in (302, 403), template
                if response.status_code == 302:
                    assert response.headers["Location"].startswith("/login/"), template
