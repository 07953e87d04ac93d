"""Bad project input: a clear error on the field, and nothing written anywhere."""

import pytest
from django.urls import reverse

from console import cluster
from tenants import services
from tenants.models import Project

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("Shop", "Use lowercase letters, digits and &#x27;-&#x27;"),
        ("-shop", "Use lowercase letters, digits and &#x27;-&#x27;"),
        ("shop-", "Use lowercase letters, digits and &#x27;-&#x27;"),
        ("sh_op", "Use lowercase letters, digits and &#x27;-&#x27;"),
        ("a" * 64, "at most 63 characters"),
        ("", "This field is required."),
        ("kube-system", "is reserved for the cluster"),
        ("default", "is reserved for the cluster"),
        ("cert-manager", "reserved for the cluster&#x27;s own namespaces and the platform&#x27;s add-ons"),
        ("kube-console", "is reserved for the cluster"),
        ("argocd", "is reserved for the cluster"),
    ],
)
def test_bad_project_name_is_refused_on_the_field_and_nothing_is_written(
    control_plane, admin_client, workspace, django_capture_on_commit_callbacks, name, error
):
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(reverse("project-create", args=[workspace.name]), {"name": name})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["name"]
    assert error.lower() in response.content.decode().lower()
    assert Project.objects.count() == 0
    assert queued == []
    if name and name not in ("kube-system", "default"):
        assert cluster.get("v1", "Namespace", name) is None


def test_duplicate_project_name_is_refused_and_nothing_is_queued(
    admin_client, workspace, django_capture_on_commit_callbacks
):
    services.create_project(workspace=workspace, name="shop")
    with django_capture_on_commit_callbacks() as queued:
        response = admin_client.post(reverse("project-create", args=[workspace.name]), {"name": "shop"})
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["A project with this name already exists."]
    assert Project.objects.count() == 1
    assert queued == []


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("project-list"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
