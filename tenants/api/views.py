"""The tenancy API. Thin like the HTML views: look up what the caller may see (404 otherwise),
check the permission table (403), call the same service functions."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from console import authentication
from console.api import valid
from console.parsers import BoundedJSONParser
from tenants import permissions as perms
from tenants import services
from tenants.api.serializers import (
    MemberInviteSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    UserSerializer,
    UserUpdateSerializer,
    WorkspaceSerializer,
    WorkspaceUpdateSerializer,
)
from tenants.models import Project, Workspace
from tenants.scopes import PROJECT, WORKSPACE


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Accounts; platform admins only. Disable a user with PATCH {"is_active": false}."""

    serializer_class = UserSerializer
    lookup_field = "username"
    lookup_value_regex = "[^/]+"
    search_fields = ["username", "email"]
    ordering_fields = ["username", "date_joined"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        perms.require(request.user, "manage_users")

    def get_queryset(self):
        return get_user_model().objects.order_by("username")

    def create(self, request, *args, **kwargs):
        data = valid(UserSerializer, request)
        user = services.create_user(
            username=data["username"],
            email=data.get("email", ""),
            password=data["password"],
            by=request.user,
            platform_admin=data.get("is_superuser", False),
        )
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request, username=None):
        user = self.get_object()
        data = valid(UserUpdateSerializer, request)
        services.update_user(user, by=request.user, **data)
        return Response(UserSerializer(user).data)


class WorkspaceViewSet(viewsets.ModelViewSet):
    serializer_class = WorkspaceSerializer
    lookup_field = "name"
    search_fields = ["name", "alias", "description"]
    ordering_fields = ["name", "created"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Workspace.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        perms.require(request.user, "create_workspace")
        data = valid(WorkspaceSerializer, request)
        admin = services.find_user(data.pop("admin", request.user.username), field="admin")
        workspace = services.create_workspace(**data, admin=admin, by=request.user)
        return Response(WorkspaceSerializer(workspace).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WorkspaceUpdateSerializer, responses=WorkspaceSerializer)
    def partial_update(self, request, name=None):
        workspace = perms.in_reach(request.user, Workspace, "edit_workspace", name=name)
        data = valid(WorkspaceUpdateSerializer, request)
        services.update_workspace(
            workspace,
            alias=data.get("alias", workspace.alias),
            description=data.get("description", workspace.description),
            by=request.user,
        )
        return Response(WorkspaceSerializer(workspace).data)

    def destroy(self, request, name=None):
        workspace = perms.in_reach(request.user, Workspace, "delete_workspace", name=name)
        services.delete_workspace(workspace, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectViewSet(viewsets.ModelViewSet):
    """Projects: listed under their workspace, addressed by name (the namespace) on their own."""

    serializer_class = ProjectSerializer
    lookup_field = "name"
    search_fields = ["name", "alias", "description"]
    ordering_fields = ["name", "created"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        projects = Project.objects.visible_to(self.request.user).select_related("workspace")
        if "workspace" in self.kwargs:
            workspace = perms.in_reach(self.request.user, Workspace, "view_workspace", name=self.kwargs["workspace"])
            projects = projects.filter(workspace=workspace)
        return projects

    def create(self, request, *args, **kwargs):
        workspace = perms.in_reach(request.user, Workspace, "create_project", name=self.kwargs["workspace"])
        data = valid(ProjectSerializer, request)
        project = services.create_project(workspace=workspace, by=request.user, **data)
        return Response(ProjectSerializer(project).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer)
    def partial_update(self, request, name=None):
        project = perms.in_reach(request.user, Project, "edit_project", name=name)
        data = valid(ProjectUpdateSerializer, request)
        services.update_project(
            project,
            alias=data.get("alias", project.alias),
            description=data.get("description", project.description),
            by=request.user,
        )
        return Response(ProjectSerializer(project).data)

    def destroy(self, request, name=None):
        project = perms.in_reach(request.user, Project, "delete_project", name=name)
        services.delete_project(project, by=request.user)
        return Response(ProjectSerializer(project).data, status=status.HTTP_202_ACCEPTED)


class MemberViewSet(viewsets.GenericViewSet):
    """Members of a workspace or a project (the `scope` passed by the URL configuration)."""

    serializer_class = MemberSerializer
    lookup_field = "username"
    lookup_value_regex = "[^/]+"
    scope = None
    search_fields = ["user__username", "user__email"]
    ordering_fields = ["user__username", "role", "added"]

    def get_queryset(self):
        return self.scope.members(
            perms.in_reach(self.request.user, self.scope.model, self.scope.view_action, name=self.kwargs["name"])
        )

    def list(self, request, name=None):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(MemberSerializer(page, many=True).data)

    @extend_schema(request=MemberInviteSerializer, responses=MemberSerializer)
    def create(self, request, name=None):
        owner = perms.in_reach(request.user, self.scope.model, self.scope.manage_action, name=name)
        data = valid(MemberInviteSerializer, request)
        membership = self.scope.add(owner, username=data["username"], role=data["role"], by=request.user)
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, name=None, username=None):
        membership = get_object_or_404(self.get_queryset(), user__username=username)
        return Response(MemberSerializer(membership).data)

    @extend_schema(request=MemberRoleSerializer, responses=MemberSerializer)
    def partial_update(self, request, name=None, username=None):
        owner = perms.in_reach(request.user, self.scope.model, self.scope.manage_action, name=name)
        get_object_or_404(self.scope.members(owner), user__username=username)
        data = valid(MemberRoleSerializer, request)
        membership = self.scope.change(owner, username=username, role=data["role"], by=request.user)
        return Response(MemberSerializer(membership).data)

    def destroy(self, request, name=None, username=None):
        owner = perms.in_reach(request.user, self.scope.model, self.scope.manage_action, name=name)
        get_object_or_404(self.scope.members(owner), user__username=username)
        self.scope.remove(owner, username=username, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceMemberViewSet(MemberViewSet):
    scope = WORKSPACE


class ProjectMemberViewSet(MemberViewSet):
    scope = PROJECT


class ObtainExpiringToken(ObtainAuthToken):
    """POST {username, password} -> {token, expires}: the user's token, a new one when theirs has expired."""

    # DRF's view names its own parsers; these are the API's, with the bounded JSON one.
    parser_classes = (BoundedJSONParser, FormParser, MultiPartParser)

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token = Token.objects.filter(user=user).first()
        if token is not None and authentication.expired(token):
            token.delete()
            token = None
        token = token or Token.objects.create(user=user)
        return Response({"token": token.key, "expires": authentication.expires(token).isoformat()})
