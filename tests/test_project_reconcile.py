"""A project becomes a labelled namespace in a real API server, through a real worker."""

import json
import time

import pytest
from django.urls import reverse

from console import cluster
from tenants import services
from tenants.models import Project
from tenants.reconcile import reconcile_project
from tests.conftest import wait_for

pytestmark = pytest.mark.cluster


def project_state(name):
    project = Project.objects.filter(name=name).first()
    return project.state if project else None


def test_created_project_gets_its_labelled_namespace_and_becomes_ready(
    live_cluster, admin_client, workspace, unique_name
):
    response = admin_client.post(
        reverse("project-create", args=[workspace.name]), {"name": unique_name, "alias": "Shop"}
    )
    assert response.status_code == 302

    wait_for(lambda: project_state(unique_name) == "Ready", what=f"{unique_name} to become Ready")
    namespace = cluster.get("v1", "Namespace", unique_name)
    assert namespace["status"]["phase"] == "Active"
    assert namespace["metadata"]["labels"]["kubeconsole.io/project"] == unique_name
    assert namespace["metadata"]["labels"]["kubeconsole.io/workspace"] == workspace.name
    assert namespace["metadata"]["labels"]["kubeconsole.io/managed-by"] == "kube-console"
    # Other tenants' controllers list namespaces: the alias a tenant wrote stays in the console.
    assert "Shop" not in json.dumps(namespace["metadata"])
    project = Project.objects.get(name=unique_name)
    assert project.observed_generation == project.generation
    assert project.condition("Synced")["status"] == "True"

    page = admin_client.get(reverse("workspace-detail", args=[workspace.name])).content.decode()
    assert unique_name in page and "status-ready" in page


def test_deleting_a_project_removes_its_namespace_then_the_row(live_cluster, admin_client, workspace, unique_name):
    project = services.create_project(workspace=workspace, name=unique_name)
    wait_for(lambda: project_state(unique_name) == "Ready", what="Ready")

    response = admin_client.post(reverse("project-delete", args=[unique_name]), {"name": unique_name})
    assert response.status_code == 302
    assert project_state(unique_name) in ("Deleting", None)

    wait_for(lambda: cluster.get("v1", "Namespace", unique_name) is None, timeout=60, what="namespace removal")
    wait_for(lambda: not Project.objects.filter(pk=project.pk).exists(), timeout=30, what="row removal")


def test_delete_asks_for_the_name_and_keeps_everything_when_it_is_wrong(
    live_cluster, admin_client, workspace, unique_name
):
    services.create_project(workspace=workspace, name=unique_name)
    wait_for(lambda: project_state(unique_name) == "Ready", what="Ready")

    response = admin_client.post(reverse("project-delete", args=[unique_name]), {"name": "something-else"})
    assert response.status_code == 200
    assert f"Type &#x27;{unique_name}&#x27; exactly to confirm." in response.content.decode()
    assert project_state(unique_name) == "Ready"
    time.sleep(1)
    assert cluster.get("v1", "Namespace", unique_name)["status"]["phase"] == "Active"


def test_change_saved_while_the_worker_is_down_converges_when_it_returns(live_cluster, worker, workspace, unique_name):
    worker.stop()
    try:
        services.create_project(workspace=workspace, name=unique_name)
        time.sleep(2)
        assert cluster.get("v1", "Namespace", unique_name) is None
        assert project_state(unique_name) == "Pending"
    finally:
        worker.start()
    wait_for(lambda: project_state(unique_name) == "Ready", what="convergence after the worker restarted")
    assert cluster.get("v1", "Namespace", unique_name)["status"]["phase"] == "Active"


def test_api_server_rejection_shows_as_error_with_the_servers_message(live_cluster, admin_client, workspace):
    # A row no validator saw (as a bad migration or manual edit could leave): the API server
    # is the last line of defence, and its answer must reach the user word for word.
    project = Project.objects.create(workspace=workspace, name="Not_A_Namespace")
    reconcile_project.delay(project.pk)

    wait_for(lambda: project_state("Not_A_Namespace") == "Error", what="the Error condition")
    ready = Project.objects.get(pk=project.pk).condition("Ready")
    assert ready["reason"] == "ApplyFailed"
    assert 'Namespace "Not_A_Namespace" is invalid' in ready["message"]
    assert "RFC 1123" in ready["message"]
    page = admin_client.get(reverse("project-list")).content.decode()
    assert "status-error" in page and "Not_A_Namespace&quot; is invalid" in page


def test_namespace_not_created_by_the_console_is_left_alone(live_cluster, workspace, unique_name):
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": unique_name}})
    try:
        services.create_project(workspace=workspace, name=unique_name)
        wait_for(lambda: project_state(unique_name) == "Error", what="the NamespaceTaken condition")
        assert Project.objects.get(name=unique_name).condition("Ready")["reason"] == "NamespaceTaken"
        assert "kubeconsole.io/managed-by" not in (
            cluster.get("v1", "Namespace", unique_name)["metadata"].get("labels") or {}
        )
    finally:
        cluster.delete("v1", "Namespace", unique_name)


def test_resync_recreates_a_namespace_deleted_behind_the_consoles_back(live_cluster, workspace, unique_name):
    from console.reconcile import resync

    services.create_project(workspace=workspace, name=unique_name)
    wait_for(lambda: project_state(unique_name) == "Ready", what="Ready")
    cluster.delete("v1", "Namespace", unique_name)
    wait_for(lambda: cluster.get("v1", "Namespace", unique_name) is None, timeout=60, what="namespace removal")

    queued = resync()
    assert queued["Project"] >= 1
    wait_for(
        lambda: (cluster.get("v1", "Namespace", unique_name) or {}).get("status", {}).get("phase") == "Active",
        what="the namespace to be recreated",
    )


def test_longest_allowed_project_name_fits_every_label(live_cluster, workspace):
    name = "p" * 63
    services.create_project(workspace=workspace, name=name)
    wait_for(lambda: project_state(name) == "Ready", what="a 63-character project to become Ready")
