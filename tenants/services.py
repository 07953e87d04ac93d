"""Tenant operations, each in one transaction; the HTML views and the API call these alike.

Bad input raises django.core.exceptions.ValidationError keyed by the field it concerns,
before anything is written.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from console import quotas
from console.reconcile import changed, enqueue
from tenants import audit
from tenants import permissions as perms
from tenants.models import AuditEntry, Project, ProjectMembership, Workspace, WorkspaceMembership
from tenants.reconcile import reconcile_project

User = get_user_model()


# Accounts


def account(user) -> dict:
    """An account as the audit log keeps it (never its password)."""
    return {"email": user.email, "is_active": user.is_active, "platform_admin": user.is_superuser}


@transaction.atomic
def create_user(*, username: str, email: str = "", password: str, platform_admin: bool = False, by=None):
    user = User(username=username, email=email, is_superuser=platform_admin, is_staff=platform_admin)
    user.full_clean(exclude=["password"])
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    user.save()
    audit.record(by, AuditEntry.ACCOUNT, AuditEntry.ADDED, user.username, after=account(user))
    return user


@transaction.atomic
def update_user(
    user,
    *,
    email: str | None = None,
    is_active: bool | None = None,
    platform_admin: bool | None = None,
    by=None,
):
    """Edits an account. Disabling it ends its sessions' access and deletes its API token; nobody
    disables their own account (`by`: who edits), so a platform keeps an admin who can log in."""
    if is_active is False and by is not None and by.pk == user.pk:
        raise ValidationError({"is_active": "You cannot disable your own account."})
    before = account(user)
    if email is not None:
        user.email = email
    if platform_admin is not None:
        user.is_superuser = user.is_staff = platform_admin
    if is_active is not None:
        user.is_active = is_active
    user.full_clean(exclude=["password"])
    user.save()  # a new password or a disable revokes the user's tokens (tenants/signals.py)
    if account(user) != before:
        audit.record(by, AuditEntry.ACCOUNT, AuditEntry.CHANGED, user.username, before=before, after=account(user))
    return user


def find_user(username: str, field: str = "username"):
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({field: no_user(username)})
    return user


def no_user(username: str) -> str:
    return f"There is no active user named '{username}'."


def may_add_platform_admins(by) -> bool:
    """Whether `by` may add a platform admin to a workspace: platform admins (and the console
    itself) may; tenants only where the platform allows it (CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS)."""
    return by is None or by.is_superuser or settings.CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS


# Workspaces


@transaction.atomic
def create_workspace(*, name: str, alias: str = "", description: str = "", admin, by) -> Workspace:
    """Creates a workspace with `admin` as its first workspace admin."""
    workspace = Workspace(name=name, alias=alias, description=description, created_by=by)
    workspace.full_clean()
    workspace.save()
    audit.record(by, AuditEntry.WORKSPACE, AuditEntry.ADDED, name, after=described(workspace), workspace=workspace)
    _record(by, admin, AuditEntry.ADDED, new_role=perms.WORKSPACE_ADMIN, workspace=workspace)
    WorkspaceMembership.objects.create(workspace=workspace, user=admin, role=perms.WORKSPACE_ADMIN, added_by=by)
    return workspace


@transaction.atomic
def update_workspace(workspace: Workspace, *, alias: str, description: str, by=None) -> Workspace:
    before = described(workspace)
    workspace.alias, workspace.description = alias, description
    workspace.full_clean()
    workspace.save(update_fields=["alias", "description"])
    _record_change(by, AuditEntry.WORKSPACE, workspace.name, before, described(workspace), workspace=workspace)
    return workspace


@transaction.atomic
def delete_workspace(workspace: Workspace, *, by=None) -> None:
    count = workspace.projects.count()
    if count:
        raise ValidationError(
            f"Workspace '{workspace.name}' still has {count} project{'s' if count != 1 else ''}. "
            "Delete its projects first.",
            code="not_empty",
        )
    audit.record(by, AuditEntry.WORKSPACE, AuditEntry.REMOVED, workspace.name, before=described(workspace))
    workspace.delete()


@transaction.atomic
def add_workspace_member(workspace: Workspace, *, username: str, role: str, by) -> WorkspaceMembership:
    _check_role(role, perms.WORKSPACE_ROLES)
    user = find_user(username)
    if user.is_superuser and not may_add_platform_admins(by):
        raise ValidationError({"username": no_user(username)})  # as for anyone a tenant cannot see
    if workspace.memberships.filter(user=user).exists():
        raise ValidationError(
            {"username": ValidationError(f"{username} is already a member of this workspace.", code="unique")}
        )
    membership = WorkspaceMembership.objects.create(workspace=workspace, user=user, role=role, added_by=by)
    _record(by, user, AuditEntry.ADDED, new_role=role, workspace=workspace)
    perms.forget(workspace)
    return membership


@transaction.atomic
def change_workspace_role(workspace: Workspace, *, username: str, role: str, by) -> WorkspaceMembership:
    _check_role(role, perms.WORKSPACE_ROLES)
    membership = _locked_membership(workspace.memberships, username)
    if membership.role == perms.WORKSPACE_ADMIN and role != perms.WORKSPACE_ADMIN:
        _keep_one(workspace.memberships, perms.WORKSPACE_ADMIN, "workspace admin", "role")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _record(by, membership.user, AuditEntry.CHANGED, old_role=old, new_role=role, workspace=workspace)
    perms.forget(workspace)
    return membership


@transaction.atomic
def remove_workspace_member(workspace: Workspace, *, username: str, by) -> None:
    """Removes a member from the workspace and from all its projects."""
    membership = _locked_membership(workspace.memberships, username)
    if membership.role == perms.WORKSPACE_ADMIN:
        _keep_one(workspace.memberships, perms.WORKSPACE_ADMIN, "workspace admin", "username")
    for project_membership in ProjectMembership.objects.filter(project__workspace=workspace, user=membership.user):
        _remove_project_membership(project_membership, by)
    membership.delete()
    _record(by, membership.user, AuditEntry.REMOVED, old_role=membership.role, workspace=workspace)
    perms.forget(workspace)


# Projects


@transaction.atomic
def create_project(*, workspace: Workspace, name: str, alias: str = "", description: str = "", by=None) -> Project:
    """Stores a project, makes its creator its admin, and queues the creation of its namespace."""
    if by is not None and perms.provisions_itself(by, workspace):
        used = Project.objects.filter(created_by=by, deletion_requested=False).count()
        if quotas.over(quotas.PROJECTS_PER_SELF_PROVISIONER, used):
            raise ValidationError(
                {
                    "name": f"You have created {used} projects, the most a self-provisioner may "
                    f"({quotas.limit(quotas.PROJECTS_PER_SELF_PROVISIONER)}, a limit the platform sets). "
                    "Delete one, or ask a workspace admin to create this one."
                }
            )
    project = Project(workspace=workspace, name=name, alias=alias, description=description, created_by=by)
    project.full_clean()
    project.save()
    audit.record(by, AuditEntry.PROJECT, AuditEntry.ADDED, name, after=described(project), project=project)
    if by is not None:
        ProjectMembership.objects.create(project=project, user=by, role=perms.PROJECT_ADMIN, added_by=by)
        _record(by, by, AuditEntry.ADDED, new_role=perms.PROJECT_ADMIN, project=project)
    enqueue(reconcile_project, project.pk)
    return project


@transaction.atomic
def update_project(project: Project, *, alias: str, description: str, by=None) -> Project:
    before = described(project)
    project.alias, project.description = alias, description
    project.full_clean()
    project.save(update_fields=["alias", "description"])
    _record_change(by, AuditEntry.PROJECT, project.name, before, described(project), project=project)
    changed(project)
    return project


@transaction.atomic
def delete_project(project: Project, *, by=None) -> None:
    """Marks the project for deletion; the worker removes its namespace, then the row."""
    audit.record(by, AuditEntry.PROJECT, AuditEntry.REMOVED, project.name, before=described(project), project=project)
    project.deletion_requested = True
    project.save(update_fields=["deletion_requested"])
    changed(project)


@transaction.atomic
def add_project_member(project: Project, *, username: str, role: str, by) -> ProjectMembership:
    """Invites a member of the project's workspace into the project with a role."""
    _check_role(role, perms.PROJECT_ROLES)
    user = find_user(username)
    if not project.workspace.memberships.filter(user=user).exists():
        raise ValidationError(
            {"username": f"{username} is not a member of workspace {project.workspace.name}; invite them there first."}
        )
    if project.memberships.filter(user=user).exists():
        raise ValidationError(
            {"username": ValidationError(f"{username} is already a member of this project.", code="unique")}
        )
    membership = ProjectMembership.objects.create(project=project, user=user, role=role, added_by=by)
    _record(by, user, AuditEntry.ADDED, new_role=role, project=project)
    perms.forget(project)
    return membership


@transaction.atomic
def change_project_role(project: Project, *, username: str, role: str, by) -> ProjectMembership:
    _check_role(role, perms.PROJECT_ROLES)
    membership = _locked_membership(project.memberships, username)
    if membership.role == perms.PROJECT_ADMIN and role != perms.PROJECT_ADMIN:
        _keep_one(project.memberships, perms.PROJECT_ADMIN, "project admin", "role")
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _record(by, membership.user, AuditEntry.CHANGED, old_role=old, new_role=role, project=project)
    perms.forget(project)
    return membership


@transaction.atomic
def remove_project_member(project: Project, *, username: str, by) -> None:
    _remove_project_membership(_locked_membership(project.memberships, username), by)
    perms.forget(project)


def _remove_project_membership(membership: ProjectMembership, by) -> None:
    if membership.role == perms.PROJECT_ADMIN:
        _keep_one(
            membership.project.memberships, perms.PROJECT_ADMIN, f"admin of project {membership.project}", "username"
        )
    membership.delete()
    _record(by, membership.user, AuditEntry.REMOVED, old_role=membership.role, project=membership.project)


# Helpers


def _check_role(role: str, allowed: list[str]) -> None:
    if role not in allowed:
        raise ValidationError({"role": f"'{role}' is not a role here. Choose one of: {', '.join(allowed)}."})


def _locked_membership(memberships, username: str):
    membership = memberships.select_for_update().filter(user__username=username).select_related("user").first()
    if membership is None:
        raise ValidationError({"username": f"{username} is not a member."})
    return membership


def _keep_one(memberships, role: str, title: str, field: str) -> None:
    """Refuses a change that would leave no member with `role` (rows are locked, so two
    concurrent demotions cannot both pass)."""
    admins = list(memberships.select_for_update().filter(role=role).values_list("pk", flat=True))
    if len(admins) <= 1:
        raise ValidationError({field: f"This is the last {title}; make someone else {title} first."})


def described(obj) -> dict:
    """A workspace or project as the audit log keeps it."""
    return {"alias": obj.alias, "description": obj.description}


def _record_change(by, kind: str, name: str, before: dict, after: dict, **scope) -> None:
    if before != after:
        audit.record(by, kind, AuditEntry.CHANGED, name, before=before, after=after, **scope)


def _record(actor, member, action: str, *, old_role: str = "", new_role: str = "", workspace=None, project=None):
    audit.record(
        actor,
        AuditEntry.MEMBERSHIP,
        action,
        member.username,
        before={"role": old_role} if old_role else None,
        after={"role": new_role} if new_role else None,
        workspace=workspace,
        project=project,
    )
