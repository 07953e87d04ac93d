"""The one permission table of the console.

Every check, in the HTML views and in the API, asks `can(user, action, obj)`; every list is
restricted by `visible_*` below, built from the same table. Nothing else looks at roles.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q

# Roles, as DESIGN.md section 1 names them.
PLATFORM_ADMIN = "platform-admin"
WORKSPACE_ADMIN = "workspace-admin"
WORKSPACE_SELF_PROVISIONER = "workspace-self-provisioner"
WORKSPACE_REGULAR = "workspace-regular"
WORKSPACE_VIEWER = "workspace-viewer"
WORKSPACE_ROLES = [WORKSPACE_ADMIN, WORKSPACE_SELF_PROVISIONER, WORKSPACE_REGULAR, WORKSPACE_VIEWER]
WORKSPACE_ROLE_CHOICES = [
    (WORKSPACE_ADMIN, "Workspace admin"),
    (WORKSPACE_SELF_PROVISIONER, "Self-provisioner"),
    (WORKSPACE_REGULAR, "Regular member"),
    (WORKSPACE_VIEWER, "Viewer"),
]

PROJECT_ADMIN = "admin"
PROJECT_OPERATOR = "operator"
PROJECT_VIEWER = "viewer"
PROJECT_ROLES = [PROJECT_ADMIN, PROJECT_OPERATOR, PROJECT_VIEWER]
PROJECT_ROLE_CHOICES = [(PROJECT_ADMIN, "Admin"), (PROJECT_OPERATOR, "Operator"), (PROJECT_VIEWER, "Viewer")]

# What each workspace role grants in every project of its workspace.
WORKSPACE_ROLE_IN_PROJECTS = {WORKSPACE_ADMIN: PROJECT_ADMIN, WORKSPACE_VIEWER: PROJECT_VIEWER}

# Platform actions: only platform admins.
PLATFORM_ACTIONS = {"manage_users", "create_workspace"}

# Workspace actions -> workspace roles that may do them.
WORKSPACE_ACTIONS = {
    "view_workspace": {WORKSPACE_ADMIN, WORKSPACE_SELF_PROVISIONER, WORKSPACE_REGULAR, WORKSPACE_VIEWER},
    "edit_workspace": {WORKSPACE_ADMIN},
    "delete_workspace": {WORKSPACE_ADMIN},
    "view_workspace_members": {WORKSPACE_ADMIN, WORKSPACE_SELF_PROVISIONER, WORKSPACE_REGULAR, WORKSPACE_VIEWER},
    "manage_workspace_members": {WORKSPACE_ADMIN},
    "create_project": {WORKSPACE_ADMIN, WORKSPACE_SELF_PROVISIONER},
}

# Project actions -> project roles that may do them.
_ALL_PROJECT_ROLES = {PROJECT_ADMIN, PROJECT_OPERATOR, PROJECT_VIEWER}
_OPERATORS = {PROJECT_ADMIN, PROJECT_OPERATOR}
PROJECT_ACTIONS = {
    "view_project": _ALL_PROJECT_ROLES,
    "edit_project": {PROJECT_ADMIN},
    "delete_project": {PROJECT_ADMIN},
    "view_project_members": _ALL_PROJECT_ROLES,
    "manage_project_members": {PROJECT_ADMIN},
    "view_gateway": _ALL_PROJECT_ROLES,
    "manage_gateway": {PROJECT_ADMIN},
    "view_routes": _ALL_PROJECT_ROLES,
    "create_route": _OPERATORS,
    "edit_route": _OPERATORS,
    "delete_route": _OPERATORS,
    "list_services": _OPERATORS,
    "list_secrets": _OPERATORS,
}

_PROJECT_RANK = {PROJECT_VIEWER: 1, PROJECT_OPERATOR: 2, PROJECT_ADMIN: 3}


def is_platform_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def workspace_role(user, workspace) -> str | None:
    if not (user and user.is_authenticated and user.is_active):
        return None
    if is_platform_admin(user):
        return WORKSPACE_ADMIN
    membership = workspace.memberships.filter(user=user).only("role").first()
    return membership.role if membership else None


def project_role(user, project) -> str | None:
    """The user's effective role in a project: their own membership or what their workspace role
    grants there, whichever is stronger."""
    if not (user and user.is_authenticated and user.is_active):
        return None
    if is_platform_admin(user):
        return PROJECT_ADMIN
    membership = project.memberships.filter(user=user).only("role").first()
    own = membership.role if membership else None
    implied = WORKSPACE_ROLE_IN_PROJECTS.get(workspace_role(user, project.workspace))
    candidates = [role for role in (own, implied) if role]
    return max(candidates, key=_PROJECT_RANK.__getitem__) if candidates else None


def can(user, action: str, obj=None) -> bool:
    """Whether `user` may do `action` (on `obj`: a Workspace or a Project, none for platform actions)."""
    if action in PLATFORM_ACTIONS:
        return is_platform_admin(user)
    if action in WORKSPACE_ACTIONS:
        return workspace_role(user, obj) in WORKSPACE_ACTIONS[action]
    if action in PROJECT_ACTIONS:
        return project_role(user, obj) in PROJECT_ACTIONS[action]
    raise KeyError(f"unknown action {action!r}")


def require(user, action: str, obj=None) -> None:
    """Raises PermissionDenied (403) unless `user` may do `action`."""
    if not can(user, action, obj):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} here.")


def allowed_actions(user, obj) -> set[str]:
    """Every action the user may do on a workspace or project, for templates deciding which buttons to show."""
    table = PROJECT_ACTIONS if hasattr(obj, "workspace_id") else WORKSPACE_ACTIONS
    return {action for action in table if can(user, action, obj)}


def visible_workspaces_filter(user) -> Q | None:
    """A filter on Workspace for what the user may view; None means everything."""
    from tenants.models import WorkspaceMembership

    if is_platform_admin(user):
        return None
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    roles = WORKSPACE_ACTIONS["view_workspace"]
    return Q(pk__in=WorkspaceMembership.objects.filter(user=user, role__in=roles).values("workspace"))


def visible_projects_filter(user) -> Q | None:
    """A filter on Project for what the user may view; None means everything."""
    from tenants.models import ProjectMembership, WorkspaceMembership

    if is_platform_admin(user):
        return None
    if not (user and user.is_authenticated and user.is_active):
        return Q(pk__in=[])
    roles = PROJECT_ACTIONS["view_project"]
    via_workspace = [role for role, granted in WORKSPACE_ROLE_IN_PROJECTS.items() if granted in roles]
    own = ProjectMembership.objects.filter(user=user, role__in=roles).values("project")
    workspaces = WorkspaceMembership.objects.filter(user=user, role__in=via_workspace).values("workspace")
    return Q(pk__in=own) | Q(workspace__in=workspaces)
