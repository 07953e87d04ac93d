"""The tenancy API: every endpoint, its errors, and that bad input writes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from tenants import permissions as perms
from tenants import services
from tenants.models import AuditEntry, Project, ProjectMembership, Workspace, WorkspaceMembership
from tests.conftest import PASSWORD, api_as, password_login


@pytest.fixture
def api(platform_admin):
    return api_as(platform_admin)


@pytest.fixture
def demo(make_user, platform_admin, workspace):
    """ws-a with project shop (admin: alice, operator: olga), members regular and provisioner;
    ws-b with project hidden, run by bob."""
    users = {name: make_user(name) for name in ("alice", "olga", "regular", "provisioner", "bob", "viewer")}
    for name in ("alice", "olga", "regular"):
        services.add_workspace_member(workspace, username=name, role=perms.WORKSPACE_REGULAR, by=platform_admin)
    services.add_workspace_member(
        workspace, username="provisioner", role=perms.WORKSPACE_SELF_PROVISIONER, by=platform_admin
    )
    services.add_workspace_member(workspace, username="viewer", role=perms.WORKSPACE_VIEWER, by=platform_admin)
    shop = services.create_project(workspace=workspace, name="shop", by=users["alice"])
    services.add_project_member(shop, username="olga", role="operator", by=users["alice"])
    other = services.create_workspace(name="ws-b", admin=users["bob"], by=platform_admin)
    hidden = services.create_project(workspace=other, name="hidden", by=users["bob"])
    return {**users, "shop": shop, "ws_b": other, "hidden": hidden}


@pytest.fixture
def nothing_written(django_capture_on_commit_callbacks):
    """Asserts a request wrote no row in the tenancy tables and queued no reconcile."""

    def counts():
        models = (Workspace, Project, WorkspaceMembership, ProjectMembership, AuditEntry, get_user_model())
        return {model.__name__: model.objects.count() for model in models}

    class Check:
        def __enter__(self):
            self.before = counts()
            self.capture = django_capture_on_commit_callbacks()
            self.queued = self.capture.__enter__()
            return self

        def __exit__(self, *exc):
            self.capture.__exit__(*exc)
            assert counts() == self.before
            assert self.queued == []

    return Check


# Tokens and accounts


def test_token_is_issued_for_good_credentials_and_authenticates(make_user):
    make_user("carol")
    response = APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": PASSWORD})
    assert response.status_code == 200
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/workspaces/").status_code == 200


def test_token_is_refused_for_a_wrong_password(make_user):
    make_user("carol")
    response = APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": "wrong"})
    assert response.status_code == 400
    assert "Unable to log in" in response.json()["non_field_errors"][0]


def test_disabled_user_can_neither_use_a_token_nor_log_in(api, make_user, client):
    make_user("carol")
    token = APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": PASSWORD}).json()["token"]

    response = api.patch("/api/v1/users/carol/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False

    tokened = APIClient()
    tokened.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert tokened.get("/api/v1/workspaces/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/", {"username": "carol", "password": PASSWORD}).status_code == 400
    assert password_login(client, "carol", PASSWORD) is False


def test_platform_admin_creates_and_lists_users(api):
    response = api.post(
        "/api/v1/users/",
        {"username": "dave", "email": "dave@example.com", "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json() == {
        "username": "dave",
        "email": "dave@example.com",
        "is_active": True,
        "platform_admin": False,
        "date_joined": response.json()["date_joined"],
        "last_login": None,
    }
    listed = api.get("/api/v1/users/?search=dav").json()
    assert [user["username"] for user in listed["results"]] == ["dave"]


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"username": "root", "password": "correct-horse-battery-staple"}, 409, "username", "already exists"),
        ({"username": "dave", "password": "short"}, 400, "password", "too short"),
        ({"username": "dave", "password": "password123"}, 400, "password", "too common"),
        ({"username": "dave", "password": ""}, 400, "password", "may not be blank"),
        ({"username": "bad name!", "password": "correct-horse-battery-staple"}, 400, "username", "valid username"),
        ({"username": "", "password": "correct-horse-battery-staple"}, 400, "username", "may not be blank"),
    ],
)
def test_bad_accounts_are_refused_on_the_field(api, nothing_written, body, status, field, message):
    with nothing_written():
        response = api.post("/api/v1/users/", body, format="json")
    assert response.status_code == status
    assert message in " ".join(response.json()[field])


def test_users_endpoint_is_for_platform_admins_only(demo):
    client = api_as(demo["alice"])
    assert client.get("/api/v1/users/").status_code == 403
    assert client.patch("/api/v1/users/olga/", {"is_active": False}, format="json").status_code == 403
    assert get_user_model().objects.get(username="olga").is_active


# Workspaces


def test_workspace_crud_by_a_platform_admin(api, demo):
    response = api.post("/api/v1/workspaces/", {"name": "ws-c", "alias": "C", "admin": "bob"}, format="json")
    assert response.status_code == 201
    assert WorkspaceMembership.objects.get(workspace__name="ws-c").user.username == "bob"
    assert api.patch("/api/v1/workspaces/ws-c/", {"description": "third"}, format="json").json()["description"] == (
        "third"
    )
    assert api.delete("/api/v1/workspaces/ws-c/").status_code == 204
    assert not Workspace.objects.filter(name="ws-c").exists()


def test_workspace_list_is_restricted_searchable_ordered_and_paginated(api, demo):
    assert [w["name"] for w in api_as(demo["alice"]).get("/api/v1/workspaces/").json()["results"]] == ["ws-a"]
    everything = api.get("/api/v1/workspaces/?ordering=-name").json()
    assert [w["name"] for w in everything["results"]] == ["ws-b", "ws-a"]
    assert everything["count"] == 2
    assert [w["name"] for w in api.get("/api/v1/workspaces/?search=ws-b").json()["results"]] == ["ws-b"]
    assert api.get("/api/v1/workspaces/?limit=1").json()["next"] is not None


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"name": "Bad_Name"}, 400, "name", "lowercase"),
        ({"name": "a" * 64}, 400, "name", "63"),
        ({"name": "ws-a"}, 409, "name", "already exists"),
        ({"name": "ws-c", "admin": "nobody"}, 400, "admin", "no active user named"),
    ],
)
def test_bad_workspaces_are_refused_on_the_field(api, demo, nothing_written, body, status, field, message):
    with nothing_written():
        response = api.post("/api/v1/workspaces/", body, format="json")
    assert response.status_code == status
    assert message in " ".join(response.json()[field])


def test_only_platform_admins_create_workspaces(demo, nothing_written):
    with nothing_written():
        response = api_as(demo["alice"]).post("/api/v1/workspaces/", {"name": "mine"}, format="json")
    assert response.status_code == 403


def test_workspace_with_projects_cannot_be_deleted(api, demo):
    response = api.delete("/api/v1/workspaces/ws-a/")
    assert response.status_code == 409
    assert response.json()["detail"] == ["Workspace 'ws-a' still has 1 project. Delete its projects first."]
    assert Workspace.objects.filter(name="ws-a").exists()


def test_workspace_members_can_read_but_not_edit_and_strangers_get_404(demo):
    alice = api_as(demo["alice"])
    assert alice.get("/api/v1/workspaces/ws-a/").status_code == 200
    assert alice.patch("/api/v1/workspaces/ws-a/", {"alias": "x"}, format="json").status_code == 403
    assert alice.delete("/api/v1/workspaces/ws-a/").status_code == 403
    assert alice.get("/api/v1/workspaces/ws-b/").status_code == 404
    assert alice.patch("/api/v1/workspaces/ws-b/", {"alias": "x"}, format="json").status_code == 404
    assert alice.get("/api/v1/workspaces/ws-b/members/").status_code == 404


# Workspace members


def test_workspace_admin_manages_members_and_each_change_is_logged(api, demo, make_user):
    make_user("erin")
    assert api.post(
        "/api/v1/workspaces/ws-a/members/", {"username": "erin", "role": "workspace-viewer"}
    ).status_code == (201)
    assert api.patch("/api/v1/workspaces/ws-a/members/erin/", {"role": "workspace-regular"}).json()["role"] == (
        "workspace-regular"
    )
    assert api.delete("/api/v1/workspaces/ws-a/members/erin/").status_code == 204
    events = AuditEntry.objects.filter(workspace__name="ws-a", object_name="erin", project=None)
    assert [(e.action, e.before, e.after, e.actor_name) for e in events.order_by("pk")] == [
        ("added", None, {"role": "workspace-viewer"}, "root"),
        ("changed", {"role": "workspace-viewer"}, {"role": "workspace-regular"}, "root"),
        ("removed", {"role": "workspace-regular"}, None, "root"),
    ]


def test_removing_a_workspace_member_removes_them_from_its_projects(api, demo):
    assert api.delete("/api/v1/workspaces/ws-a/members/olga/").status_code == 204
    assert not ProjectMembership.objects.filter(user__username="olga").exists()


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "field", "message"),
    [
        ("post", "members/", {"username": "nobody", "role": "workspace-viewer"}, 400, "username", "no active user"),
        ("post", "members/", {"username": "alice", "role": "workspace-viewer"}, 409, "username", "already a member"),
        ("post", "members/", {"username": "bob", "role": "owner"}, 400, "role", "not a role here"),
        ("patch", "members/root/", {"role": "workspace-viewer"}, 400, "role", "last workspace admin"),
        ("delete", "members/root/", None, 400, "username", "last workspace admin"),
    ],
)
def test_bad_workspace_member_changes_are_refused(
    api, demo, nothing_written, method, url, body, status, field, message
):
    with nothing_written():
        response = getattr(api, method)(f"/api/v1/workspaces/ws-a/{url}", body, format="json")
    assert response.status_code == status
    assert message in " ".join(response.json()[field])


def test_non_admins_cannot_manage_workspace_members(demo, nothing_written):
    with nothing_written():
        response = api_as(demo["viewer"]).post(
            "/api/v1/workspaces/ws-a/members/", {"username": "bob", "role": "workspace-viewer"}
        )
    assert response.status_code == 403


# Projects


def test_self_provisioner_creates_a_project_and_becomes_its_admin(demo):
    client = api_as(demo["provisioner"])
    response = client.post("/api/v1/workspaces/ws-a/projects/", {"name": "mine", "alias": "Mine"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["workspace"], body["alias"], body["status"]["state"]) == (
        "mine",
        "ws-a",
        "Mine",
        "Pending",
    )
    assert ProjectMembership.objects.get(project__name="mine").role == "admin"
    assert client.patch("/api/v1/projects/mine/", {"description": "d"}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "Shop"}, 400, "lowercase"),
        ({"name": "-shop"}, 400, "lowercase"),
        ({"name": "a" * 64}, 400, "63"),
        ({"name": "kube-shop"}, 400, "reserved"),
        ({"name": "shop"}, 409, "already exists"),
        ({"name": "hidden"}, 409, "already exists"),
    ],
)
def test_bad_projects_are_refused_on_the_name(api, demo, nothing_written, body, status, message):
    with nothing_written():
        response = api.post("/api/v1/workspaces/ws-a/projects/", body, format="json")
    assert response.status_code == status
    assert message in " ".join(response.json()["name"])


def test_regular_members_cannot_create_projects(demo, nothing_written):
    with nothing_written():
        response = api_as(demo["regular"]).post("/api/v1/workspaces/ws-a/projects/", {"name": "x"}, format="json")
    assert response.status_code == 403


def test_projects_of_another_workspace_answer_404_everywhere(demo):
    alice = api_as(demo["alice"])
    for method, url in [
        ("get", "/api/v1/projects/hidden/"),
        ("patch", "/api/v1/projects/hidden/"),
        ("delete", "/api/v1/projects/hidden/"),
        ("get", "/api/v1/projects/hidden/members/"),
        ("post", "/api/v1/projects/hidden/members/"),
        ("patch", "/api/v1/projects/hidden/members/bob/"),
        ("delete", "/api/v1/projects/hidden/members/bob/"),
        ("get", "/api/v1/workspaces/ws-b/projects/"),
        ("post", "/api/v1/workspaces/ws-b/projects/"),
    ]:
        response = getattr(alice, method)(url, {}, format="json")
        assert response.status_code == 404, (method, url)
        assert "hidden" not in response.content.decode()
    assert [p["name"] for p in alice.get("/api/v1/projects/").json()["results"]] == ["shop"]


def test_operators_and_viewers_cannot_edit_or_delete_projects(demo, nothing_written):
    for user in (demo["olga"], demo["viewer"]):
        client = api_as(user)
        with nothing_written():
            assert client.patch("/api/v1/projects/shop/", {"alias": "x"}, format="json").status_code == 403
            assert client.delete("/api/v1/projects/shop/").status_code == 403
    assert not Project.objects.get(name="shop").deletion_requested


def test_project_admin_deletes_a_project(demo):
    response = api_as(demo["alice"]).delete("/api/v1/projects/shop/")
    assert response.status_code == 202
    assert response.json()["status"]["state"] == "Deleting"


# Project members


def test_project_admin_invites_changes_and_removes_members(demo):
    alice = api_as(demo["alice"])
    response = alice.post("/api/v1/projects/shop/members/", {"username": "regular", "role": "viewer"})
    assert response.status_code == 201
    assert response.json() == {
        "username": "regular",
        "role": "viewer",
        "added_by": "alice",
        "added": response.json()["added"],
    }
    listed = alice.get("/api/v1/projects/shop/members/?ordering=user__username").json()["results"]
    assert [(m["username"], m["role"]) for m in listed] == [
        ("alice", "admin"),
        ("olga", "operator"),
        ("regular", "viewer"),
    ]
    assert alice.patch("/api/v1/projects/shop/members/regular/", {"role": "admin"}).json()["role"] == "admin"
    # Now that there are two admins, the first may step down.
    assert alice.patch("/api/v1/projects/shop/members/alice/", {"role": "operator"}).status_code == 200
    assert api_as(demo["regular"]).delete("/api/v1/projects/shop/members/olga/").status_code == 204


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "field", "message"),
    [
        ("post", "members/", {"username": "bob", "role": "viewer"}, 400, "username", "not a member of workspace ws-a"),
        ("post", "members/", {"username": "olga", "role": "viewer"}, 409, "username", "already a member"),
        ("post", "members/", {"username": "regular", "role": "superuser"}, 400, "role", "not a role here"),
        ("post", "members/", {"username": "ghost", "role": "viewer"}, 400, "username", "no active user"),
        ("post", "members/", {"role": "viewer"}, 400, "username", "required"),
        ("patch", "members/alice/", {"role": "viewer"}, 400, "role", "last project admin"),
        ("delete", "members/alice/", None, 400, "username", "last admin of project shop"),
    ],
)
def test_bad_project_member_changes_are_refused(demo, nothing_written, method, url, body, status, field, message):
    with nothing_written():
        response = getattr(api_as(demo["alice"]), method)(f"/api/v1/projects/shop/{url}", body, format="json")
    assert response.status_code == status
    assert message in " ".join(response.json()[field])


def test_operators_cannot_manage_members(demo, nothing_written):
    with nothing_written():
        response = api_as(demo["olga"]).post("/api/v1/projects/shop/members/", {"username": "regular", "role": "admin"})
    assert response.status_code == 403


def test_unknown_member_answers_404(demo):
    assert api_as(demo["alice"]).patch("/api/v1/projects/shop/members/regular/", {"role": "admin"}).status_code == (404)


# Schema


def test_openapi_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/workspaces/{name}/members/{username}/",
        "/api/v1/projects/{name}/members/",
        "/api/v1/users/{username}/",
        "/api/v1/auth/token/",
    ):
        assert path in paths
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and "swagger-ui" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()


def test_nobody_disables_their_own_account_by_any_door(api, platform_admin, client):
    with pytest.raises(ValidationError) as raised:
        services.update_user(platform_admin, is_active=False, by=platform_admin)
    assert raised.value.message_dict == {"is_active": ["You cannot disable your own account."]}

    response = api.patch(f"/api/v1/users/{platform_admin.username}/", {"is_active": False}, format="json")
    assert response.status_code == 400 and response.json() == {"is_active": ["You cannot disable your own account."]}
    client.force_login(platform_admin)
    page = client.post(f"/users/{platform_admin.username}/", {"email": "", "is_active": "", "platform_admin": "on"})
    assert page.status_code == 200 and "You cannot disable your own account." in page.content.decode()
    assert get_user_model().objects.get(pk=platform_admin.pk).is_active
