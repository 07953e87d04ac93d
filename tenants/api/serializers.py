from django.contrib.auth import get_user_model
from rest_framework import serializers

from tenants import permissions as perms
from tenants.models import Project, Workspace


class UserSerializer(serializers.ModelSerializer):
    platform_admin = serializers.BooleanField(source="is_superuser", required=False)
    password = serializers.CharField(write_only=True, required=True, style={"input_type": "password"})

    class Meta:
        model = get_user_model()
        fields = ["username", "email", "is_active", "platform_admin", "password", "date_joined", "last_login"]
        read_only_fields = ["date_joined", "last_login"]
        extra_kwargs = {"username": {"validators": []}}


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)
    platform_admin = serializers.BooleanField(required=False)


class WorkspaceSerializer(serializers.ModelSerializer):
    admin = serializers.CharField(
        write_only=True, required=False, help_text="Username of the first workspace admin; you by default."
    )

    class Meta:
        model = Workspace
        fields = ["name", "alias", "description", "created", "admin"]
        read_only_fields = ["created"]
        extra_kwargs = {"name": {"validators": []}}


class WorkspaceUpdateSerializer(serializers.Serializer):
    alias = serializers.CharField(required=False, allow_blank=True, max_length=63)
    description = serializers.CharField(required=False, allow_blank=True, max_length=1024)


class StatusSerializer(serializers.Serializer):
    state = serializers.CharField()
    observed_generation = serializers.IntegerField()
    conditions = serializers.ListField(child=serializers.DictField())


class ProjectSerializer(serializers.ModelSerializer):
    workspace = serializers.SlugRelatedField(slug_field="name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["name", "workspace", "alias", "description", "generation", "created", "status"]
        read_only_fields = ["generation", "created"]
        extra_kwargs = {"name": {"validators": []}}

    def get_status(self, project) -> StatusSerializer:
        return StatusSerializer(
            {
                "state": project.state,
                "observed_generation": project.observed_generation,
                "conditions": project.conditions,
            }
        ).data


class ProjectUpdateSerializer(WorkspaceUpdateSerializer):
    pass


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()
    added_by = serializers.CharField(source="added_by.username", default=None, read_only=True)
    added = serializers.DateTimeField(read_only=True)


class MemberInviteSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField(
        help_text=f"Workspace: {', '.join(perms.WORKSPACE_ROLES)}; project: {', '.join(perms.PROJECT_ROLES)}"
    )


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.CharField()
