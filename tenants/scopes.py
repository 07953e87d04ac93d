"""Membership scopes: workspaces and projects manage their members the same way, so the
HTML views and the API handle both through one description of each scope."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from tenants import permissions as perms
from tenants import services
from tenants.models import AuditEntry, Project, Workspace


@dataclass(frozen=True)
class MemberScope:
    kind: str
    model: type
    role_choices: list
    add: Callable
    change: Callable
    remove: Callable

    @property
    def view_action(self) -> str:
        return f"view_{self.kind}_members"

    @property
    def manage_action(self) -> str:
        return f"manage_{self.kind}_members"

    def members(self, obj) -> QuerySet:
        return obj.memberships.select_related("user", "added_by")

    def events(self, obj) -> QuerySet:
        return AuditEntry.objects.filter(kind=AuditEntry.MEMBERSHIP, **{self.kind: obj}).select_related("project")

    def candidates(self, obj, search: str = "") -> QuerySet:
        """Users who could be invited: for a workspace any active user not in it; for a project,
        members of its workspace not yet in the project."""
        users = get_user_model().objects.filter(is_active=True)
        if self.kind == "project":
            users = users.filter(workspace_memberships__workspace=obj.workspace)
        users = users.exclude(pk__in=obj.memberships.values("user"))
        if search:
            users = users.filter(username__icontains=search)
        return users.order_by("username")


WORKSPACE = MemberScope(
    "workspace",
    Workspace,
    perms.WORKSPACE_ROLE_CHOICES,
    services.add_workspace_member,
    services.change_workspace_role,
    services.remove_workspace_member,
)
PROJECT = MemberScope(
    "project",
    Project,
    perms.PROJECT_ROLE_CHOICES,
    services.add_project_member,
    services.change_project_role,
    services.remove_project_member,
)
