from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect

from tenants import permissions as perms
from tenants.models import Project


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


def finish(request, url: str):
    """Ends a dialog or a wizard: htmx follows HX-Redirect, a plain form post a redirect."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
