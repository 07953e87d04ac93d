from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self):
        from console.context_processors import add_navigation
        from tenants import signals  # noqa: F401 - connects the receivers

        add_navigation(user_navigation)


def user_navigation(request) -> dict:
    """The top bar's Users entry, for those who may manage users."""
    from tenants import permissions as perms

    return {"can_manage_users": perms.can(getattr(request, "user", None), "manage_users")}
