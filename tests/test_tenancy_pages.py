"""The tenancy pages with Django's test client: forms, htmx partials, hidden buttons, refusals."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tenants import permissions as perms
from tenants import services
from tenants.models import AuditEntry, Project, ProjectMembership, Workspace
from tests.conftest import PASSWORD, password_login

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def shop(make_user, platform_admin, workspace):
    """ws-a: alice admin of project shop, olga operator, vera viewer, regular not in the project;
    ws-b with project hidden."""
    for name in ("alice", "olga", "vera", "regular"):
        make_user(name)
        services.add_workspace_member(workspace, username=name, role=perms.WORKSPACE_REGULAR, by=platform_admin)
    project = services.create_project(
        workspace=workspace, name="shop", by=get_user_model().objects.get(username="alice")
    )
    services.add_project_member(project, username="olga", role="operator", by=platform_admin)
    services.add_project_member(project, username="vera", role="viewer", by=platform_admin)
    bob = make_user("bob")
    other = services.create_workspace(name="ws-b", admin=bob, by=platform_admin)
    services.create_project(workspace=other, name="hidden", by=bob)
    return project


def logged_in(username) -> Client:
    client = Client()
    assert password_login(client, username, PASSWORD)
    return client


def test_members_page_lists_roles_and_shows_management_only_to_admins(shop):
    admin_page = logged_in("alice").get(reverse("project-members", args=["shop"])).content.decode()
    assert "Invite Member" in admin_page
    assert 'aria-label="Role of olga"' in admin_page
    assert "Membership log" in admin_page

    for name in ("olga", "vera"):
        page = logged_in(name).get(reverse("project-members", args=["shop"])).content.decode()
        assert 'data-member="alice"' in page and 'data-member="olga"' in page
        assert "Invite Member" not in page
        assert "<select" not in page
        assert "Membership log" not in page


def test_project_navigation_shows_the_sections_to_come(shop):
    page = logged_in("vera").get(reverse("project-detail", args=["shop"])).content.decode()
    for section in ("Application Workloads", "Routes", "Project Settings", "Basic Information", "Members", "Gateway"):
        assert section in page


def test_invite_modal_searches_only_workspace_members_not_yet_in_the_project(shop, make_user):
    make_user("roger")  # exists, but not in the workspace
    alice = logged_in("alice")
    modal = alice.get(reverse("project-member-invite", args=["shop"]), **HTMX).content.decode()
    assert "<dialog open" in modal and 'data-pick="regular"' in modal
    assert 'data-pick="roger"' not in modal and 'data-pick="olga"' not in modal

    found = alice.get(reverse("project-member-candidates", args=["shop"]), {"q": "reg"}, **HTMX).content.decode()
    assert 'data-pick="regular"' in found
    nothing = alice.get(reverse("project-member-candidates", args=["shop"]), {"q": "rog"}, **HTMX).content.decode()
    assert "Nobody who can be invited matches" in nothing


def test_inviting_through_the_modal_adds_the_member_and_logs_it(shop):
    response = logged_in("alice").post(
        reverse("project-member-invite", args=["shop"]), {"username": "regular", "role": "operator"}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-swap-oob="true"' in body and 'data-member="regular"' in body
    assert "<dialog" not in body  # the modal closes
    assert ProjectMembership.objects.get(project=shop, user__username="regular").role == "operator"
    event = AuditEntry.objects.filter(project=shop, kind="membership").first()
    assert (event.actor_name, event.action, event.object_name, event.before, event.after) == (
        "alice",
        "added",
        "regular",
        None,
        {"role": "operator"},
    )
    assert "added <strong>regular</strong>" in body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"username": "bob", "role": "viewer"}, "username", "not a member of workspace ws-a"),
        ({"username": "olga", "role": "viewer"}, "username", "already a member of this project"),
        ({"username": "regular", "role": "owner"}, "role", "Select a valid choice"),
        ({"username": "", "role": "viewer"}, "username", "This field is required"),
    ],
)
def test_bad_invites_show_the_error_on_the_field_and_add_nobody(shop, data, field, message):
    before = ProjectMembership.objects.count(), AuditEntry.objects.count()
    response = logged_in("alice").post(reverse("project-member-invite", args=["shop"]), data, **HTMX)
    assert response.status_code == 400
    assert "<dialog open" in response.content.decode()
    assert message in " ".join(response.context["form"].errors[field])
    assert (ProjectMembership.objects.count(), AuditEntry.objects.count()) == before


def test_changing_a_role_and_removing_a_member(shop):
    alice = logged_in("alice")
    response = alice.post(reverse("project-member-role", args=["shop", "vera"]), {"role": "operator"}, **HTMX)
    assert response.status_code == 200
    assert ProjectMembership.objects.get(project=shop, user__username="vera").role == "operator"
    response = alice.post(reverse("project-member-remove", args=["shop", "vera"]), **HTMX)
    assert response.status_code == 200
    assert 'data-member="vera"' not in response.content.decode()
    assert not ProjectMembership.objects.filter(project=shop, user__username="vera").exists()


def test_an_admin_who_steps_down_sees_the_list_as_a_viewer_at_once(shop):
    """What the request knew of alice's role is dropped when she changes it."""
    services.add_project_member(shop, username="regular", role="admin", by=shop.created_by)
    alice = logged_in("alice")
    response = alice.post(reverse("project-member-role", args=["shop", "alice"]), {"role": "viewer"}, **HTMX)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-member="alice"' in page and "<select" not in page and "Membership log" not in page
    assert alice.get(reverse("project-member-invite", args=["shop"]), **HTMX).status_code == 403


def test_the_last_admin_cannot_be_demoted_or_removed(shop):
    alice = logged_in("alice")
    response = alice.post(reverse("project-member-role", args=["shop", "alice"]), {"role": "viewer"}, **HTMX)
    assert response.status_code == 400
    assert "This is the last project admin" in response.content.decode()
    response = alice.post(reverse("project-member-remove", args=["shop", "alice"]), **HTMX)
    assert response.status_code == 400
    assert ProjectMembership.objects.get(project=shop, user__username="alice").role == "admin"


def test_operators_and_viewers_are_refused_member_management(shop):
    for name in ("olga", "vera"):
        client = logged_in(name)
        assert client.get(reverse("project-member-invite", args=["shop"]), **HTMX).status_code == 403
        assert (
            client.post(
                reverse("project-member-invite", args=["shop"]), {"username": "regular", "role": "admin"}
            ).status_code
            == 403
        )
        assert (
            client.post(reverse("project-member-role", args=["shop", "alice"]), {"role": "viewer"}).status_code == 403
        )
        assert client.post(reverse("project-member-remove", args=["shop", "alice"])).status_code == 403
    assert ProjectMembership.objects.filter(project=shop).count() == 3


def test_pages_of_another_workspace_answer_404(shop):
    alice = logged_in("alice")
    for url in (
        reverse("project-detail", args=["hidden"]),
        reverse("project-members", args=["hidden"]),
        reverse("project-settings", args=["hidden"]),
        reverse("project-delete", args=["hidden"]),
        reverse("project-member-invite", args=["hidden"]),
        reverse("workspace-detail", args=["ws-b"]),
        reverse("workspace-members", args=["ws-b"]),
        reverse("project-create", args=["ws-b"]),
    ):
        assert alice.get(url).status_code == 404, url


def test_form_posts_without_a_csrf_token_are_refused(shop):
    client = Client(enforce_csrf_checks=True)
    client.force_login(get_user_model().objects.get(username="alice"))
    response = client.post(reverse("project-member-invite", args=["shop"]), {"username": "regular", "role": "viewer"})
    assert response.status_code == 403
    assert not ProjectMembership.objects.filter(user__username="regular").exists()


def test_workspace_pages_create_projects_and_refuse_regulars(shop, platform_admin):
    alice = logged_in("alice")
    page = alice.get(reverse("workspace-detail", args=["ws-a"])).content.decode()
    assert 'data-project="shop"' in page and 'data-project="hidden"' not in page
    assert reverse("project-create", args=["ws-a"]) not in page
    assert alice.post(reverse("project-create", args=["ws-a"]), {"name": "mine"}).status_code == 403
    assert not Project.objects.filter(name="mine").exists()

    services.add_workspace_member(
        Workspace.objects.get(name="ws-a"), username="bob", role=perms.WORKSPACE_SELF_PROVISIONER, by=platform_admin
    )
    response = logged_in("bob").post(reverse("project-create", args=["ws-a"]), {"name": "mine"})
    assert response.status_code == 302
    assert ProjectMembership.objects.get(project__name="mine").user.username == "bob"


def test_workspace_with_projects_cannot_be_deleted_from_the_page(shop, admin_client):
    response = admin_client.post(reverse("workspace-delete", args=["ws-a"]), {"name": "ws-a"})
    assert response.status_code == 200
    assert "still has 1 project" in response.content.decode()
    assert Workspace.objects.filter(name="ws-a").exists()


def test_platform_admin_creates_a_workspace_with_an_admin(admin_client, shop):
    response = admin_client.post(reverse("workspace-create"), {"name": "ws-c", "admin": "alice"})
    assert response.status_code == 302
    alice = get_user_model().objects.get(username="alice")
    assert perms.access(alice, Workspace.objects.get(name="ws-c")).workspace_role == "workspace-admin"
    response = admin_client.post(reverse("workspace-create"), {"name": "ws-c", "admin": "alice"})
    assert response.context["form"].errors["name"] == ["A workspace with this name already exists."]
    response = admin_client.post(reverse("workspace-create"), {"name": "ws-d", "admin": "ghost"})
    assert response.context["form"].errors["admin"] == ["There is no active user named 'ghost'."]
    assert not Workspace.objects.filter(name="ws-d").exists()


def test_users_page_creates_edits_and_disables_accounts(admin_client, shop):
    assert logged_in("alice").get(reverse("user-list")).status_code == 403
    response = admin_client.post(reverse("user-list"), {"username": "newbie", "password": "123"})
    assert "too short" in " ".join(response.context["form"].errors["password"])
    assert not get_user_model().objects.filter(username="newbie").exists()
    response = admin_client.post(reverse("user-list"), {"username": "newbie", "password": "a-strong-passphrase-9"})
    assert response.status_code == 302
    assert password_login(Client(), "newbie", "a-strong-passphrase-9")

    old_session = logged_in("olga")
    response = admin_client.post(reverse("user-edit", args=["olga"]), {"email": "olga@example.com", "is_active": ""})
    assert response.status_code == 302
    assert not password_login(Client(), "olga", PASSWORD)
    # An open session of a disabled user no longer gets in either.
    assert old_session.get(reverse("project-members", args=["shop"])).status_code == 302


def test_every_user_can_change_their_own_password(shop):
    vera = logged_in("vera")
    response = vera.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "another-long-secret-7", "new_password2": "another-long-secret-7"},
    )
    assert response.status_code == 302
    assert password_login(Client(), "vera", "another-long-secret-7")
    response = vera.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": "x", "new_password2": "y"},
    )
    assert "old_password" in response.context["form"].errors


def test_the_users_link_follows_the_permission_table(admin_client, shop, monkeypatch):
    assert 'href="/users/"' in admin_client.get(reverse("workspace-list")).content.decode()
    assert 'href="/users/"' not in logged_in("alice").get(reverse("workspace-list")).content.decode()
    # Were the table to give managing users to nobody, nobody would see the link.
    table = perms.can
    monkeypatch.setattr(
        perms, "can", lambda user, action, obj=None: action != "manage_users" and table(user, action, obj)
    )
    assert 'href="/users/"' not in admin_client.get(reverse("workspace-list")).content.decode()


def landing_after_login(username: str) -> str:
    client = Client()
    answer = client.post("/login/", {"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    return client.get(answer["Location"]).url


def test_after_login_a_project_member_lands_on_their_project_and_those_who_run_workspaces_on_the_workspaces(
    shop, platform_admin
):
    assert landing_after_login("olga") == "/projects/shop/"  # operator of one project
    assert landing_after_login("vera") == "/projects/shop/"
    assert landing_after_login("bob") == "/workspaces/"  # workspace admin of ws-b
    assert landing_after_login(platform_admin.username) == "/workspaces/"
    assert landing_after_login("regular") == "/workspaces/"  # in no project yet
    second = services.create_project(workspace=shop.workspace, name="shop-two", by=platform_admin)
    services.add_project_member(second, username="olga", role="viewer", by=platform_admin)
    assert landing_after_login("olga") == "/projects/"


def test_the_project_page_and_list_refresh_until_the_project_is_settled(shop):
    olga = logged_in("olga")

    def polls(path: str) -> bool:
        return 'hx-trigger="every 2s"' in olga.get(path, HTTP_HX_REQUEST="true").content.decode()

    waiting = {"type": "Ready", "status": "False", "reason": "Pending", "message": "Creating the namespace."}
    Project.objects.filter(pk=shop.pk).update(observed_generation=shop.generation, conditions=[waiting])
    assert polls("/projects/shop/") and polls("/projects/")  # applied, not Ready yet
    ready = {**waiting, "status": "True", "reason": "Ready", "message": "The namespace is active."}
    Project.objects.filter(pk=shop.pk).update(conditions=[ready])
    assert not polls("/projects/shop/") and not polls("/projects/")
