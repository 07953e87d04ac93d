from django.conf import settings
from django.db import models

from console.models import ReconciledModel
from tenants import permissions
from tenants.validators import validate_dns1123_label, validate_project_name


class WorkspaceQuerySet(models.QuerySet):
    def visible_to(self, user):
        condition = permissions.visible_workspaces_filter(user)
        return self if condition is None else self.filter(condition)

    def with_roles_of(self, user):
        """Each workspace with `user`'s role in it, so deciding what they may do costs no query."""
        if not (user and user.is_authenticated):
            return self
        return self.annotate(**permissions.role_annotations(user, project=False))


class Workspace(models.Model):
    """A group of projects and the people who work in them."""

    name = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_dns1123_label],
        help_text="Lowercase letters, digits and '-'. Cannot be changed later.",
        error_messages={"unique": "A workspace with this name already exists."},
    )
    alias = models.CharField(max_length=63, blank=True, help_text="A display name; any characters.")
    description = models.TextField(max_length=1024, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.alias or self.name


class ProjectQuerySet(models.QuerySet):
    def visible_to(self, user):
        condition = permissions.visible_projects_filter(user)
        return self if condition is None else self.filter(condition)

    def with_roles_of(self, user):
        """Each project (with its workspace) and `user`'s roles in both, so deciding what they may
        do costs no query."""
        found = self.select_related("workspace")
        if not (user and user.is_authenticated):
            return found
        return found.annotate(**permissions.role_annotations(user, project=True))


class Project(ReconciledModel):
    """One Kubernetes namespace. Its name is the namespace's name, so it is unique console-wide."""

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(
        max_length=63,
        unique=True,
        validators=[validate_project_name],
        help_text="The namespace name: lowercase letters, digits and '-'. Cannot be changed later.",
        error_messages={"unique": "A project with this name already exists."},
    )
    alias = models.CharField(max_length=63, blank=True, help_text="A display name; any characters.")
    description = models.TextField(max_length=1024, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    deletion_requested = models.BooleanField(default=False, editable=False)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def namespace(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.alias or self.name


class Membership(models.Model):
    """A user's one role in a workspace or a project, and who gave it to them when."""

    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} as {self.role}"


class WorkspaceMembership(Membership):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_memberships")
    role = models.CharField(max_length=32, choices=permissions.WORKSPACE_ROLE_CHOICES)

    class Meta(Membership.Meta):
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="one_role_per_workspace")]


class ProjectMembership(Membership):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    role = models.CharField(max_length=32, choices=permissions.PROJECT_ROLE_CHOICES)

    class Meta(Membership.Meta):
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_role_per_project")]


class AuditEntry(models.Model):
    """Who changed a membership, a gateway, a route, a project, a workspace, an account or an
    annotation allowance, when, from which address, and what it was before and after. Names are
    copied and links are cleared, never cascaded, so the log outlives what it describes. Changes to
    accounts and allowances belong to the platform: no workspace, scope "platform"."""

    MEMBERSHIP, GATEWAY, ROUTE = "membership", "gateway", "route"
    WORKSPACE, PROJECT, ACCOUNT, ALLOWANCE = "workspace", "project", "account", "allowance"
    KINDS = [
        (MEMBERSHIP, "membership"),
        (GATEWAY, "gateway"),
        (ROUTE, "route"),
        (WORKSPACE, "workspace"),
        (PROJECT, "project"),
        (ACCOUNT, "account"),
        (ALLOWANCE, "annotation allowance"),
    ]
    ADDED, CHANGED, REMOVED = "added", "changed", "removed"
    ACTIONS = [(ADDED, "added"), (CHANGED, "changed"), (REMOVED, "removed")]

    workspace = models.ForeignKey(Workspace, null=True, on_delete=models.SET_NULL, related_name="audit_entries")
    project = models.ForeignKey(Project, null=True, on_delete=models.SET_NULL, related_name="audit_entries")
    scope = models.CharField(max_length=127, help_text="workspace or workspace/project, as it was named then")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150)
    kind = models.CharField(max_length=16, choices=KINDS)
    object_name = models.CharField(max_length=253, help_text="the member's username, the route's name")
    action = models.CharField(max_length=16, choices=ACTIONS)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="where the request came from")

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["kind", "project"]), models.Index(fields=["kind", "workspace"])]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.get_action_display()} {self.kind} {self.object_name} in {self.scope}"
