from django.urls import path

from tenants import views
from tenants.scopes import PROJECT, WORKSPACE


def member_urls(prefix: str, scope) -> list:
    kind = scope.kind
    return [
        path(f"{prefix}/members/", views.members, {"scope": scope}, name=f"{kind}-members"),
        path(f"{prefix}/members/invite/", views.member_invite, {"scope": scope}, name=f"{kind}-member-invite"),
        path(
            f"{prefix}/members/candidates/",
            views.member_candidates,
            {"scope": scope},
            name=f"{kind}-member-candidates",
        ),
        path(f"{prefix}/members/<str:username>/role/", views.member_role, {"scope": scope}, name=f"{kind}-member-role"),
        path(
            f"{prefix}/members/<str:username>/remove/",
            views.member_remove,
            {"scope": scope},
            name=f"{kind}-member-remove",
        ),
    ]


urlpatterns = [
    path("", views.home, name="home"),
    path("workspaces/", views.workspace_list, name="workspace-list"),
    path("workspaces/new/", views.workspace_create, name="workspace-create"),
    path("workspaces/<slug:name>/", views.workspace_detail, name="workspace-detail"),
    path("workspaces/<slug:name>/settings/", views.workspace_settings, name="workspace-settings"),
    path("workspaces/<slug:name>/delete/", views.workspace_delete, name="workspace-delete"),
    path("workspaces/<slug:workspace>/projects/new/", views.project_create, name="project-create"),
    *member_urls("workspaces/<slug:name>", WORKSPACE),
    path("projects/", views.project_list, name="project-list"),
    path("projects/<slug:name>/", views.project_detail, name="project-detail"),
    path("projects/<slug:name>/settings/", views.project_settings, name="project-settings"),
    path("projects/<slug:name>/delete/", views.project_delete, name="project-delete"),
    *member_urls("projects/<slug:name>", PROJECT),
    path("users/", views.user_list, name="user-list"),
    path("users/<str:username>/", views.user_edit, name="user-edit"),
]
