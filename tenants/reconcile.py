"""Celery tasks that bring a project's namespace in line with its row."""

from celery import shared_task

from console import cluster
from console.conditions import condition
from console.reconcile import again_later, apply_failed, before_namespace_removal, exclusively, register, retry_later
from tenants import render
from tenants.models import Project

TERMINATING_POLL_SECONDS = 2


@shared_task(bind=True, name="tenants.reconcile_project", ignore_result=True)
def reconcile_project(self, project_id: int) -> str:
    with exclusively(self, Project, project_id):
        return _reconcile_project(self, project_id)


def _reconcile_project(self, project_id: int) -> str:
    project = Project.objects.select_related("workspace").filter(pk=project_id).first()
    if project is None:
        return "gone"
    try:
        if project.deletion_requested:
            return remove_namespace(self, project)
        return apply_namespace(self, project)
    except cluster.ClusterError as error:
        Project.record_status(project.pk, apply_failed(error))
        if error.retryable:
            retry_later(self, error)
        return "failed"


def apply_namespace(task, project: Project) -> str:
    generation = project.generation
    live = cluster.get("v1", "Namespace", project.namespace)
    if live is not None and live["metadata"].get("deletionTimestamp"):
        # A namespace of the same name is still being deleted (a project deleted and created again).
        message = f"Waiting for the cluster to finish deleting an earlier namespace {project.namespace}."
        Project.record_status(project.pk, [condition("Ready", False, "Terminating", message)])
        again_later(task, project.pk, TERMINATING_POLL_SECONDS)
    if live is not None and not cluster.is_managed(live):
        message = (
            f"A namespace named '{project.namespace}' already exists and was not created by the console, "
            "so the console leaves it alone. Delete this project and choose another name."
        )
        Project.record_status(
            project.pk,
            [
                condition("Synced", False, "NamespaceTaken", message),
                condition("Ready", False, "NamespaceTaken", message),
            ],
            observed_generation=generation,
        )
        return "taken"
    applied = cluster.apply(render.namespace(project))
    phase = (applied.get("status") or {}).get("phase", "Unknown")
    ready = condition("Ready", True, "Active", f"Namespace {project.namespace} is active.")
    if phase != "Active":
        ready = condition("Ready", False, "Pending", f"Namespace {project.namespace} is {phase}.")
    Project.record_status(
        project.pk,
        [condition("Synced", True, "Applied", "The namespace matches the project."), ready],
        observed_generation=generation,
    )
    return "applied"


def remove_namespace(task, project: Project) -> str:
    """Deletes the project's namespace, waits until the cluster has removed it, then the row."""
    live = cluster.get("v1", "Namespace", project.namespace)
    if live is None or not cluster.is_managed(live):
        project.delete()
        return "deleted"
    if not live["metadata"].get("deletionTimestamp"):
        before_namespace_removal(project)
        cluster.delete("v1", "Namespace", project.namespace)
    message = f"Waiting for the cluster to remove namespace {project.namespace} and everything in it."
    Project.record_status(project.pk, [condition("Ready", False, "Terminating", message)])
    again_later(task, project.pk, TERMINATING_POLL_SECONDS)


def drifted_projects() -> list[int]:
    """In-sync projects whose namespace is missing from the cluster."""
    selector = f"{cluster.MANAGED_BY}={cluster.FIELD_MANAGER}"
    present = {item["metadata"]["name"] for item in cluster.each_object("v1", "Namespace", selector)}
    in_sync = Project.objects.filter(deletion_requested=False, observed_generation__gte=1)
    return [pk for pk, name in in_sync.values_list("pk", "name") if name not in present]


register(Project, reconcile_project, drifted_projects)


def namespace_ready(project: Project) -> bool:
    """Whether the project's namespace exists as the console's own, so that objects may go in it."""
    return project.state == "Ready" and not project.deletion_requested
