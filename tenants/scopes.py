"""Membership scopes: workspaces and projects manage their members the same way, so the
HTML views and the API handle both through one description of each scope."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

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

    def candidates(self, obj, search: str = "", by=None) -> QuerySet:
        """Users who could be invited: for a project, members of its workspace not yet in it,
        matching `search`; for a workspace, the one active user whose username or email is exactly
        `search` (the platform's users are not listed to tenants), a platform admin only when the
        platform allows tenants to add one."""
        users = get_user_model().objects.filter(is_active=True).exclude(pk__in=obj.memberships.values("user"))
        if self.kind == "project":
            users = users.filter(workspace_memberships__workspace=obj.workspace)
            return (users.filter(username__icontains=search) if search else users).order_by("username")
        if not search:
            return users.none()
        if not services.may_add_platform_admins(by):
            users = users.filter(is_superuser=False)
        return users.filter(Q(username=search) | Q(email__iexact=search)).order_by("username")

    @property
    def shows_email(self) -> bool:
        """Whether candidates' emails may be shown: a project's come from its workspace; a
        workspace's are outside it."""
        return self.kind == "project"


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
