"""The Django admin shows the tenancy tables; changes that touch the cluster or the audit
log go through the console's pages and API, so those rows are read-only here."""

from django.contrib import admin

from console.admin import ReadOnlyAdmin
from tenants.models import AuditEntry, Project, ProjectMembership, Workspace, WorkspaceMembership


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyAdmin):
    list_display = ["name", "alias", "created"]
    search_fields = ["name", "alias"]


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["name", "workspace", "alias", "generation", "observed_generation", "created"]
    list_filter = ["workspace"]
    search_fields = ["name", "alias"]


@admin.register(WorkspaceMembership)
class WorkspaceMembershipAdmin(ReadOnlyAdmin):
    list_display = ["workspace", "user", "role", "added_by", "added"]
    list_filter = ["role"]


@admin.register(ProjectMembership)
class ProjectMembershipAdmin(ReadOnlyAdmin):
    list_display = ["project", "user", "role", "added_by", "added"]
    list_filter = ["role"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "kind", "object_name", "scope"]
    list_filter = ["kind", "action"]
    search_fields = ["object_name", "actor_name", "scope"]
