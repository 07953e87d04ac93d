"""What one request costs in database queries, for every role that can see a project: a project
page or list API must not cost more as the project gains routes and members, and no role may pay
more than two queries over the platform admin's for the same page."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from routes import services as route_services
from routes.models import Route, RoutePath, RouteRule
from tenants import services
from tests.conftest import PASSWORD, api_as, password_login

# Both passes run it: query counts.
pytestmark = [pytest.mark.cluster, pytest.mark.both_databases]

# Who reads the project, and how: alice, olga and vera come from project_with_gateway.
READERS = {
    "platform-admin": "root",
    "workspace-admin": "wanda",
    "workspace-viewer": "wes",
    "project-admin": "alice",
    "operator": "olga",
    "viewer": "vera",
}
PAGES = ["", "settings/", "members/", "gateway/", "routes/", "routes/front-end/"]
APIS = ["members/", "gateway/", "routes/", "routes/front-end/"]


@pytest.fixture
def readers(project_with_gateway, make_user, platform_admin, workspace):
    for name, role in (("wanda", "workspace-admin"), ("wes", "workspace-viewer")):
        make_user(name)
        services.add_workspace_member(workspace, username=name, role=role, by=platform_admin)
    route_services.create_route(
        project_with_gateway,
        {"name": "front-end", "rules": [{"host": "a.example.com", "paths": [{"service": "front-end", "port": 80}]}]},
    )
    return project_with_gateway


def grow(project, make_user, count: int) -> None:
    """`count` more routes and project members."""
    routes = Route.objects.bulk_create(
        Route(project=project, gateway=project.gateway, name=f"more-{i:03}", observed_generation=1)
        for i in range(count)
    )
    rules = RouteRule.objects.bulk_create(RouteRule(route=r, position=0, host=f"{r.name}.example.com") for r in routes)
    RoutePath.objects.bulk_create(RoutePath(rule=r, position=0, service="front-end", port_number=80) for r in rules)
    alice = project.memberships.get(user__username="alice").user
    for i in range(count // 6):
        name = f"member-{project.name}-{i}"
        make_user(name)
        services.add_workspace_member(project.workspace, username=name, role="workspace-regular", by=alice)
        services.add_project_member(project, username=name, role="viewer", by=alice)


def page_client(username: str) -> Client:
    client = Client()
    assert password_login(client, username, PASSWORD)
    return client


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured)


def costs(project) -> dict[tuple[str, str], int]:
    """Queries per (role, URL), pages through a signed-in browser session, APIs with a token."""
    found = {}
    for role, username in READERS.items():
        browser, api = page_client(username), api_as(get_user_model().objects.get(username=username))
        for suffix in PAGES:
            url = f"/projects/{project.name}/{suffix}"
            found[(role, url)] = queries(browser, url)
        for suffix in APIS:
            url = f"/api/v1/projects/{project.name}/{suffix}"
            found[(role, url)] = queries(api, url)
    return found


def test_every_role_pays_what_the_platform_admin_pays_and_no_more_as_the_project_grows(readers, make_user):
    small = costs(readers)
    grow(readers, make_user, 60)
    assert_alike_and_constant(small, costs(readers), "small project -> 60 more routes and 10 more members")


def assert_alike_and_constant(small: dict, big: dict, growth: str) -> None:
    """The same count before and after the growth, and no role over the platform admin's + 2 or 10."""
    print(f"\nqueries per request ({growth})")
    for (role, url), count in small.items():
        print(f"  {role:17} {url:55} {count:3} -> {big[(role, url)]}")
    assert {key: big[key] for key in small} == small
    over = {
        (role, url): count
        for (role, url), count in big.items()
        if count > big[("platform-admin", url)] + 2 or count > 10
    }
    assert not over, f"more than the platform admin's + 2, or more than 10: {over}"


# Who reads the workspace ws-a: alice, olga and vera are its regular members.
WORKSPACE_READERS = {
    "platform-admin": "root",
    "workspace-admin": "wanda",
    "workspace-viewer": "wes",
    "workspace-regular": "alice",
}
WORKSPACE_PAGES = ["/workspaces/", "/projects/", "/workspaces/ws-a/"]
WORKSPACE_ADMIN_PAGES = ["/workspaces/ws-a/settings/", "/workspaces/ws-a/members/"]
WORKSPACE_APIS = [
    "/api/v1/workspaces/",
    "/api/v1/projects/",
    "/api/v1/workspaces/ws-a/",
    "/api/v1/workspaces/ws-a/members/",
    "/api/v1/workspaces/ws-a/projects/",
]


def workspace_costs() -> dict[tuple[str, str], int]:
    found = {}
    for role, username in WORKSPACE_READERS.items():
        browser, api = page_client(username), api_as(get_user_model().objects.get(username=username))
        pages = WORKSPACE_PAGES + (WORKSPACE_ADMIN_PAGES if role != "workspace-regular" else [])
        for url in pages:
            found[(role, url)] = queries(browser, url)
        for url in WORKSPACE_APIS:
            found[(role, url)] = queries(api, url)
    return found


def grow_workspace(workspace, make_user, count: int) -> None:
    """`count` more projects in the workspace, each with a member, and as many workspace members."""
    wanda = get_user_model().objects.get(username="wanda")
    for i in range(count):
        name = f"grown-{i:02}"
        make_user(name)
        services.add_workspace_member(workspace, username=name, role="workspace-regular", by=wanda)
        project = services.create_project(workspace=workspace, name=f"{workspace.name}-p{i:02}", by=wanda)
        services.add_project_member(project, username=name, role="operator", by=wanda)
        services.add_project_member(project, username="alice", role="viewer", by=wanda)


def test_workspace_pages_and_lists_cost_every_role_alike_and_do_not_grow(readers, make_user, workspace):
    small = workspace_costs()
    grow_workspace(workspace, make_user, 8)
    assert_alike_and_constant(small, workspace_costs(), "the workspace -> 8 more projects and members")
