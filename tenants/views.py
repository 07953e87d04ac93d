"""HTML views: parse the request, check the permission table, call a service, render."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from console import quotas
from tenants import permissions as perms
from tenants import services
from tenants.forms import (
    ConfirmNameForm,
    InviteForm,
    ProjectEditForm,
    ProjectForm,
    RoleForm,
    UserCreateForm,
    UserEditForm,
    WorkspaceEditForm,
    WorkspaceForm,
    add_service_errors,
)
from tenants.models import Project, Workspace
from tenants.scopes import MemberScope

EVENTS_SHOWN = 50


def call_service(form, function, *args, **kwargs):
    """Runs a service with the form's data; on bad input puts the errors on the form and returns None."""
    try:
        return function(*args, **kwargs)
    except ValidationError as error:
        add_service_errors(form, error)
        return None


# Workspaces


@login_required
def workspace_list(request):
    workspaces = Workspace.objects.visible_to(request.user)
    return render(
        request,
        "tenants/workspace_list.html",
        {"workspaces": workspaces, "can_create": perms.can(request.user, "create_workspace")},
    )


@login_required
def workspace_create(request):
    perms.require(request.user, "create_workspace")
    form = WorkspaceForm(request.POST or None, initial={"admin": request.user.username})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            admin = services.find_user(data["admin"], field="admin")
            workspace = services.create_workspace(
                name=data["name"], alias=data["alias"], description=data["description"], admin=admin, by=request.user
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("workspace-detail", workspace.name)
    return render(request, "tenants/workspace_form.html", {"form": form})


def workspace_context(request, workspace, tab):
    return {"workspace": workspace, "tab": tab, "allowed": perms.allowed_actions(request.user, workspace)}


@login_required
def workspace_detail(request, name):
    workspace = perms.in_reach(request.user, Workspace, "view_workspace", name=name)
    projects = Project.objects.visible_to(request.user).filter(workspace=workspace)
    context = workspace_context(request, workspace, "projects")
    context.update(projects=projects, polling=any(not p.settled for p in projects))
    template = "tenants/partials/project_rows.html" if request.htmx else "tenants/workspace_detail.html"
    return render(request, template, context)


@login_required
def workspace_settings(request, name):
    workspace = perms.in_reach(request.user, Workspace, "view_workspace", name=name)
    form = WorkspaceEditForm(request.POST or None, instance=workspace)
    if request.method == "POST":
        perms.require(request.user, "edit_workspace", workspace)
        if form.is_valid() and call_service(
            form, services.update_workspace, workspace, by=request.user, **form.cleaned_data
        ):
            messages.success(request, "Workspace saved.")
            return redirect("workspace-settings", workspace.name)
    return render(
        request, "tenants/workspace_settings.html", {**workspace_context(request, workspace, "settings"), "form": form}
    )


@login_required
def workspace_delete(request, name):
    workspace = perms.in_reach(request.user, Workspace, "delete_workspace", name=name)
    form = ConfirmNameForm(request.POST or None, expected=workspace.name)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_workspace(workspace, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Workspace {workspace.name} deleted.")
            return redirect("workspace-list")
    return render(request, "tenants/confirm_delete.html", {"object": workspace, "kind": "workspace", "form": form})


# Projects


@login_required
def project_list(request):
    projects = Project.objects.visible_to(request.user).select_related("workspace")
    template = "tenants/partials/project_rows.html" if request.htmx else "tenants/project_list.html"
    return render(request, template, {"projects": projects, "polling": any(not p.settled for p in projects)})


@login_required
def project_create(request, workspace):
    workspace = perms.in_reach(request.user, Workspace, "create_project", name=workspace)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        project = call_service(form, services.create_project, workspace=workspace, by=request.user, **form.cleaned_data)
        if project:
            return redirect("project-detail", project.name)
    return render(request, "tenants/project_form.html", {"form": form, "workspace": workspace})


def project_context(request, project, section):
    return {"project": project, "section": section, "allowed": perms.allowed_actions(request.user, project)}


@login_required
def project_detail(request, name):
    project = perms.in_reach(request.user, Project, "view_project", name=name)
    template = "tenants/partials/project_status.html" if request.htmx else "tenants/project_detail.html"
    context = project_context(request, project, "overview")
    context["member_count"] = project.memberships.count()
    context["quota"] = project_quota(project)
    return render(request, template, context)


def project_quota(project) -> dict:
    """The project's use of the limits the platform sets, for its overview (routes and the gateway
    reach it through their relations: tenants imports neither app)."""
    gateway = getattr(project, "gateway", None)
    return {
        "routes_used": project.routes.filter(deletion_requested=False).count(),
        "routes_allowed": quotas.limit(quotas.ROUTES_PER_PROJECT),
        "replicas_used": gateway.replicas if gateway is not None and gateway.enabled else None,
        "replicas_allowed": quotas.limit(quotas.GATEWAY_REPLICAS),
    }


@login_required
def project_settings(request, name):
    project = perms.in_reach(request.user, Project, "view_project", name=name)
    form = ProjectEditForm(request.POST or None, instance=project)
    if request.method == "POST":
        perms.require(request.user, "edit_project", project)
        if form.is_valid() and call_service(
            form, services.update_project, project, by=request.user, **form.cleaned_data
        ):
            messages.success(request, "Project saved.")
            return redirect("project-settings", project.name)
    return render(
        request, "tenants/project_settings.html", {**project_context(request, project, "settings"), "form": form}
    )


@login_required
def project_delete(request, name):
    project = perms.in_reach(request.user, Project, "delete_project", name=name, deletion_requested=False)
    form = ConfirmNameForm(request.POST or None, expected=project.name)
    if request.method == "POST" and form.is_valid():
        services.delete_project(project, by=request.user)
        messages.success(request, f"Project {project.name} is being deleted with its namespace.")
        return redirect("workspace-detail", project.workspace.name)
    return render(request, "tenants/confirm_delete.html", {"object": project, "kind": "project", "form": form})


# Members (workspaces and projects alike; see tenants.scopes)


def members_context(request, scope: MemberScope, obj, **extra):
    allowed = perms.allowed_actions(request.user, obj)
    context = {
        "scope": scope,
        "object": obj,
        scope.kind: obj,
        "members": scope.members(obj),
        "allowed": allowed,
        "can_manage": scope.manage_action in allowed,
        "role_choices": scope.role_choices,
        "layout": f"tenants/{scope.kind}_base.html",
        "section": "members",
        "tab": "members",
    }
    if context["can_manage"]:
        context["events"] = scope.events(obj)[:EVENTS_SHOWN]
    context.update(extra)
    return context


@login_required
def members(request, scope: MemberScope, name):
    obj = perms.in_reach(request.user, scope.model, scope.view_action, name=name)
    template = "tenants/partials/members.html" if request.htmx else "tenants/members.html"
    return render(request, template, members_context(request, scope, obj))


@login_required
def member_candidates(request, scope: MemberScope, name):
    """The invite modal's search: who could be invited, by name, as the admin types."""
    obj = perms.in_reach(request.user, scope.model, scope.manage_action, name=name)
    search = request.GET.get("q", "").strip()
    candidates = scope.candidates(obj, search, by=request.user)[:20]
    context = {"candidates": candidates, "search": search, "scope": scope}
    return render(request, "tenants/partials/member_candidates.html", context)


@login_required
def member_invite(request, scope: MemberScope, name):
    obj = perms.in_reach(request.user, scope.model, scope.manage_action, name=name)
    form = InviteForm(request.POST or None, role_choices=scope.role_choices)
    if request.method == "POST" and form.is_valid():
        if call_service(form, scope.add, obj, by=request.user, **form.cleaned_data):
            if request.htmx:
                # Close the modal and refresh the member list and the log in one response.
                context = members_context(request, scope, obj, oob=True)
                return render(request, "tenants/partials/invite_done.html", context)
            return redirect(f"{scope.kind}-members", obj.name)
    context = {"scope": scope, "object": obj, "form": form, "candidates": scope.candidates(obj, by=request.user)[:20]}
    template = "tenants/partials/invite_modal.html" if request.htmx else "tenants/invite_page.html"
    return render(request, template, context, status=200 if not form.errors else 400)


@login_required
@require_POST
def member_role(request, scope: MemberScope, name, username):
    obj = perms.in_reach(request.user, scope.model, scope.manage_action, name=name)
    form = RoleForm(request.POST, role_choices=scope.role_choices)
    error = None
    if form.is_valid():
        try:
            scope.change(obj, username=username, role=form.cleaned_data["role"], by=request.user)
        except ValidationError as failure:
            error = " ".join(failure.messages)
    else:
        error = " ".join(form.errors.get("role", ["Choose a role."]))
    return members_response(request, scope, obj, error)


@login_required
@require_POST
def member_remove(request, scope: MemberScope, name, username):
    obj = perms.in_reach(request.user, scope.model, scope.manage_action, name=name)
    error = None
    try:
        scope.remove(obj, username=username, by=request.user)
    except ValidationError as failure:
        error = " ".join(failure.messages)
    return members_response(request, scope, obj, error)


def members_response(request, scope, obj, error):
    if request.htmx:
        context = members_context(request, scope, obj, error=error)
        return render(request, "tenants/partials/members.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(f"{scope.kind}-members", obj.name)


# Accounts


@login_required
def user_list(request):
    perms.require(request.user, "manage_users")
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = call_service(form, services.create_user, by=request.user, **form.cleaned_data)
        if user:
            messages.success(request, f"User {user.username} created.")
            return redirect("user-list")
    users = get_user_model().objects.order_by("username")
    return render(request, "tenants/user_list.html", {"users": users, "form": form})


@login_required
def user_edit(request, username):
    perms.require(request.user, "manage_users")
    user = get_object_or_404(get_user_model(), username=username)
    initial = {"email": user.email, "is_active": user.is_active, "platform_admin": user.is_superuser}
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if call_service(form, services.update_user, user, by=request.user, **form.cleaned_data):
            messages.success(request, f"User {user.username} saved.")
            return redirect("user-list")
    return render(request, "tenants/user_edit.html", {"account": user, "form": form})


@login_required
def home(request):
    """Where a user starts: the workspaces, for those who run them (platform admins, workspace
    admins and self-provisioners); for everyone else their project, or their projects when there
    are several."""
    user = request.user
    runs_workspaces = user.workspace_memberships.filter(
        role__in=[perms.WORKSPACE_ADMIN, perms.WORKSPACE_SELF_PROVISIONER]
    ).exists()
    if perms.is_platform_admin(user) or runs_workspaces:
        return redirect("workspace-list")
    projects = list(Project.objects.visible_to(user).values_list("name", flat=True)[:2])
    if len(projects) == 1:
        return redirect("project-detail", projects[0])
    return redirect("project-list" if projects else "workspace-list")
