"""Pure renderers: project row -> Kubernetes manifests."""

from console.cluster import label_key, ownership_labels


def owner_of(project) -> str:
    return f"project-{project.pk}"


def namespace(project) -> dict:
    labels = {
        **ownership_labels(owner_of(project)),
        label_key("workspace"): project.workspace.name,
        label_key("project"): project.name,
    }
    # No alias or description: a Gateway API controller lists every namespace, and what tenants
    # write about their projects is theirs alone.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": project.namespace, "labels": labels, "annotations": {}},
    }
