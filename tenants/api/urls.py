from django.urls import path

from tenants.api import views

LIST = {"get": "list", "post": "create"}
ITEM = {"get": "retrieve", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("auth/token/", views.ObtainExpiringToken.as_view(), name="api-token"),
    path("users/", views.UserViewSet.as_view(LIST), name="api-users"),
    path(
        "users/<str:username>/",
        views.UserViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="api-user",
    ),
    path("workspaces/", views.WorkspaceViewSet.as_view(LIST), name="api-workspaces"),
    path("workspaces/<slug:name>/", views.WorkspaceViewSet.as_view(ITEM), name="api-workspace"),
    path("workspaces/<slug:name>/members/", views.WorkspaceMemberViewSet.as_view(LIST), name="api-workspace-members"),
    path(
        "workspaces/<slug:name>/members/<str:username>/",
        views.WorkspaceMemberViewSet.as_view(ITEM),
        name="api-workspace-member",
    ),
    path("workspaces/<slug:workspace>/projects/", views.ProjectViewSet.as_view(LIST), name="api-workspace-projects"),
    path("projects/", views.ProjectViewSet.as_view({"get": "list"}), name="api-projects"),
    path("projects/<slug:name>/", views.ProjectViewSet.as_view(ITEM), name="api-project"),
    path("projects/<slug:name>/members/", views.ProjectMemberViewSet.as_view(LIST), name="api-project-members"),
    path(
        "projects/<slug:name>/members/<str:username>/",
        views.ProjectMemberViewSet.as_view(ITEM),
        name="api-project-member",
    ),
]
