"""The one permission table of the console.

Every view, page or API, gets its workspace or project through `in_reach(user, Model, action,
name=...)`: one query finds the object with the user's roles (404 when it is out of reach, 403 when
the action is not allowed). Every later `can(user, action, obj)` and `allowed_actions` on that object
are decided from those roles without a query. Every list is restricted by `visible_*` below, built
from the same table. Nothing else looks at roles.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Access:
    """The roles one user holds on one workspace or project, resolved once; every action is then
    decided from the tables above without a query."""

    workspace_role: str | None
    project_role: str | None = None

    def can(self, action: str) -> bool:
        if action in WORKSPACE_ACTIONS:
            return self.workspace_role in WORKSPACE_ACTIONS[action]
        return self.project_role in PROJECT_ACTIONS[action]


NO_ACCESS = Access(None, None)


def _effective_project_role(own: str | None, workspace: str | None) -> str | None:
    """A project membership or what the workspace role grants there, whichever is stronger."""
    candidates = [role for role in (own, WORKSPACE_ROLE_IN_PROJECTS.get(workspace)) if role]
    return max(candidates, key=_PROJECT_RANK.__getitem__) if candidates else None


def _is_project(obj) -> bool:
    return hasattr(obj, "workspace_id")


def role_annotations(user, project: bool) -> dict:
    """Annotations that bring a user's roles along with the workspaces or projects a query finds
    (`Workspace/Project.objects.with_roles_of`), so their look-up costs no further query."""
    from django.db.models import OuterRef, Subquery, Value

    from tenants.models import ProjectMembership, WorkspaceMembership

    workspace = "workspace_id" if project else "pk"
    annotations = {
        "roles_of": Value(user.pk),
        "workspace_role_of_user": Subquery(
            WorkspaceMembership.objects.filter(workspace=OuterRef(workspace), user=user.pk).values("role")[:1]
        ),
    }
    if project:
        annotations["project_role_of_user"] = Subquery(
            ProjectMembership.objects.filter(project=OuterRef("pk"), user=user.pk).values("role")[:1]
        )
    return annotations


def access(user, obj) -> Access:
    """The user's roles on a workspace or project: from the look-up's annotations when it brought
    them, else one query; kept on the object, which lives as long as the request that found it."""
    if not (user and user.is_authenticated and user.is_active):
        return NO_ACCESS
    known = obj.__dict__.setdefault("_access", {})
    if user.pk not in known:
        known[user.pk] = _resolve(user, obj)
    return known[user.pk]


def _resolve(user, obj) -> Access:
    project = _is_project(obj)
    if is_platform_admin(user):
        return Access(WORKSPACE_ADMIN, PROJECT_ADMIN if project else None)
    if getattr(obj, "roles_of", None) != user.pk:
        annotated = type(obj).objects.filter(pk=obj.pk).annotate(**role_annotations(user, project))
        obj = annotated.first() or obj
    workspace = getattr(obj, "workspace_role_of_user", None)
    if not project:
        return Access(workspace)
    return Access(workspace, _effective_project_role(getattr(obj, "project_role_of_user", None), workspace))


def provisions_itself(user, workspace) -> bool:
    """Whether `user` creates projects in the workspace as a self-provisioner (whose projects count
    against a platform limit), rather than as its admin or a platform admin."""
    return access(user, workspace).workspace_role == WORKSPACE_SELF_PROVISIONER


def forget(obj) -> None:
    """Drops what `access` knows about a workspace or project, after its memberships changed."""
    for attribute in ("_access", "roles_of"):
        obj.__dict__.pop(attribute, None)


def can(user, action: str, obj=None) -> bool:
    """Whether `user` may do `action` (on `obj`: a Workspace or a Project, none for platform actions)."""
    if action in PLATFORM_ACTIONS:
        return is_platform_admin(user)
    if action in WORKSPACE_ACTIONS or action in PROJECT_ACTIONS:
        return access(user, obj).can(action)
    raise KeyError(f"unknown action {action!r}")


def require(user, action: str, obj=None) -> None:
    """Raises PermissionDenied (403) unless `user` may do `action`."""
    if not can(user, action, obj):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} here.")


def in_reach(user, model, action: str, **lookup):
    """The workspace or project (`model`) that `lookup` finds, if `user` can see it (404 otherwise,
    exactly as for a name that does not exist) and may do `action` on it (403). How every view, page
    or API, gets the object it works on; the look-up brings the user's roles along."""
    from django.shortcuts import get_object_or_404

    obj = get_object_or_404(model.objects.visible_to(user).with_roles_of(user), **lookup)
    require(user, action, obj)
    return obj


def allowed_actions(user, obj) -> set[str]:
    """Every action the user may do on a workspace or project, for templates deciding which buttons to show."""
    table = PROJECT_ACTIONS if _is_project(obj) else WORKSPACE_ACTIONS
    granted = access(user, obj)
    return {action for action in table if granted.can(action)}


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
