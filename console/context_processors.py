"""What every page's shell needs to know, asked of the permission table like any other check."""

from tenants import permissions as perms


def navigation(request) -> dict:
    """Which entries of the top bar the signed-in user may open."""
    return {"can_manage_users": perms.can(getattr(request, "user", None), "manage_users")}
