"""Accounts from the second security review: a workspace admin finds a user only by their exact
username or email and sees no stranger's email, and cannot add a platform admin unless the platform
allows it; API tokens expire and go with a password change; an address that sprays a password over
many usernames is locked out; changes to accounts, workspaces, projects and allowances are audited
with their author and address."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gateways.models import AnnotationAllowance
from tenants import permissions as perms
from tenants import services
from tenants.models import AuditEntry
from tests.conftest import PASSWORD, api_as, browser_as, password_login

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(make_user, workspace, platform_admin):
    """A workspace admin of ws-a; carol, a user outside it; root, the platform admin."""
    make_user("carol")
    user = make_user("alice")
    services.add_workspace_member(workspace, username="alice", role=perms.WORKSPACE_ADMIN, by=platform_admin)
    return user


def candidates(user, search: str) -> str:
    url = reverse("workspace-member-candidates", args=["ws-a"])
    return browser_as(user).get(url, {"q": search}, **HTMX).content.decode()


def test_a_workspace_admin_finds_a_user_only_by_exact_username_or_email(alice):
    assert "carol" not in candidates(alice, "")  # nobody is listed
    assert "carol" not in candidates(alice, "car")  # nor found by part of a name
    assert "carol" not in candidates(alice, "example.com")
    found = candidates(alice, "carol")
    assert "carol" in found and "carol@example.com" not in found  # no stranger's email
    assert "carol" in candidates(alice, "CAROL@example.com")
    opened = browser_as(alice).get(reverse("workspace-member-invite", args=["ws-a"]), **HTMX).content.decode()
    assert "carol" not in opened and "exact username or email" in opened


def test_a_workspace_admin_cannot_add_a_platform_admin_unless_the_platform_allows_it(alice, workspace, make_user):
    make_user("pat", platform_admin=True)  # not in ws-a
    assert 'data-pick="pat"' not in candidates(alice, "pat")
    url = "/api/v1/workspaces/ws-a/members/"
    body = {"username": "pat", "role": perms.WORKSPACE_VIEWER}
    response = api_as(alice).post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["username"] == ["There is no active user named 'pat'."]  # as for a stranger
    assert not workspace.memberships.filter(user__username="pat").exists()
    with override_settings(CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS=True):
        assert 'data-pick="pat"' in candidates(alice, "pat")
        assert api_as(alice).post(url, body, format="json").status_code == 201


def token_for(username: str) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def answers(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get("/api/v1/workspaces/").status_code


def test_a_token_expires_after_the_configured_days_and_a_new_one_is_issued(alice):
    token = token_for("alice")
    assert answers(token) == 200
    with override_settings(CONSOLE_TOKEN_DAYS=30):
        Token.objects.filter(key=token).update(created=timezone.now() - timedelta(days=30, minutes=1))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.get("/api/v1/workspaces/")
        assert response.status_code == 401 and "expired" in response.json()["detail"]
        renewed = token_for("alice")
    assert renewed != token and answers(renewed) == 200


def test_a_password_change_revokes_the_accounts_tokens(alice):
    token = token_for("alice")
    browser = Client()
    assert password_login(browser, "alice", PASSWORD)
    changed = browser.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-password-2", "new_password2": "a-new-long-password-2"},
    )
    assert changed.status_code == 302
    assert answers(token) == 401


def test_one_address_spraying_a_password_over_many_usernames_is_locked_out(make_user):
    for i in range(25):
        make_user(f"user{i}")
    browser = Client()
    for i in range(20):  # one failure for each of 20 accounts: no single account reaches its 5
        assert not password_login(browser, f"user{i}", "Summer2026!")
    locked = browser.post(reverse("login"), {"username": "user24", "password": PASSWORD})
    assert locked.status_code == 429
    token = APIClient().post("/api/v1/auth/token/", {"username": "user24", "password": PASSWORD})
    assert "token" not in token.json()


def logged(kind: str) -> list[tuple]:
    entries = AuditEntry.objects.filter(kind=kind).order_by("pk")
    return [(e.actor_name, e.action, e.object_name, e.scope, e.address) for e in entries]


def test_account_changes_are_audited_with_author_and_address(platform_admin):
    api = api_as(platform_admin)
    created = api.post(
        "/api/v1/users/", {"username": "dave", "password": "correct-horse-battery-staple"}, format="json"
    )
    assert created.status_code == 201
    assert api.patch("/api/v1/users/dave/", {"is_active": False}, format="json").status_code == 200
    assert api.patch("/api/v1/users/dave/", {"platform_admin": True}, format="json").status_code == 200
    assert [entry for entry in logged("account") if entry[2] == "dave"] == [
        ("root", "added", "dave", "platform", "127.0.0.1"),
        ("root", "changed", "dave", "platform", "127.0.0.1"),
        ("root", "changed", "dave", "platform", "127.0.0.1"),
    ]
    disabled, promoted = AuditEntry.objects.filter(kind="account", action="changed").order_by("pk")
    assert (disabled.before["is_active"], disabled.after["is_active"]) == (True, False)
    assert (promoted.before["platform_admin"], promoted.after["platform_admin"]) == (False, True)
    assert "password" not in str(AuditEntry.objects.filter(kind="account").values_list("after", flat=True))


def test_deleting_a_project_and_a_workspace_is_audited(platform_admin, workspace):
    project = services.create_project(workspace=workspace, name="shop", by=platform_admin)
    api = api_as(platform_admin)
    assert api.delete(f"/api/v1/projects/{project.name}/").status_code == 202
    project.delete()  # as the worker does once the namespace is gone
    assert api.delete("/api/v1/workspaces/ws-a/").status_code == 204
    assert logged("project")[-1] == ("root", "removed", "shop", "ws-a/shop", "127.0.0.1")
    assert logged("workspace")[-1][:3] == ("root", "removed", "ws-a")


def test_changing_an_annotation_allowance_is_audited(platform_admin):
    admin = Client()
    admin.force_login(platform_admin)
    key = "cert-manager.io/cluster-issuer"
    added = admin.post(
        reverse("admin:gateways_annotationallowance_add"),
        {"target": "route", "key": key, "kind": "one-of", "choices": "letsencrypt"},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    allowance = AnnotationAllowance.objects.get(key=key)
    deleted = admin.post(reverse("admin:gateways_annotationallowance_delete", args=[allowance.pk]), {"post": "yes"})
    assert deleted.status_code == 302
    assert [entry[:4] for entry in logged("allowance")] == [
        ("root", "added", key, "platform"),
        ("root", "removed", key, "platform"),
    ]


def test_the_admin_warns_what_an_address_picking_allowance_does(platform_admin):
    admin = Client()
    admin.force_login(platform_admin)
    response = admin.post(
        reverse("admin:gateways_annotationallowance_add"),
        {"target": "gateway-service", "key": "metallb.io/loadBalancerIPs", "kind": "cidr-list", "choices": ""},
        follow=True,
    )
    assert "takes whichever IP addresses it names" in response.content.decode()
