"""The namespace renderer and the condition bookkeeping: pure functions."""

from datetime import UTC, datetime

from console import conditions
from tenants import render
from tenants.models import Project, Workspace

WORKSPACE = Workspace(name="workspace-demo")


def test_namespace_carries_ownership_workspace_and_project_labels_and_nothing_a_tenant_wrote():
    project = Project(pk=7, workspace=WORKSPACE, name="sock-shop", alias="Sock Shop")
    assert render.namespace(project) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "sock-shop",
            "labels": {
                "kubeconsole.io/managed-by": "kube-console",
                "kubeconsole.io/owner": "project-7",
                "kubeconsole.io/workspace": "workspace-demo",
                "kubeconsole.io/project": "sock-shop",
            },
            "annotations": {},
        },
    }


def test_condition_keeps_its_transition_time_while_status_is_unchanged():
    first = datetime(2026, 1, 1, tzinfo=UTC)
    later = datetime(2026, 1, 2, tzinfo=UTC)
    existing = conditions.merge([], [conditions.condition("Ready", False, "Pending", "waiting")], first)
    same = conditions.merge(existing, [conditions.condition("Ready", False, "Pending", "still waiting")], later)
    flipped = conditions.merge(same, [conditions.condition("Ready", True, "Active")], later)
    assert same[0]["last_transition_time"] == first.isoformat()
    assert same[0]["message"] == "still waiting"
    assert flipped[0] == {
        "type": "Ready",
        "status": "True",
        "reason": "Active",
        "message": "",
        "last_transition_time": later.isoformat(),
    }


def test_state_word_follows_generation_and_ready_condition():
    project = Project(name="shop", generation=2, observed_generation=1)
    assert project.state == "Pending"
    project.conditions = [conditions.condition("Ready", False, "ApplyFailed", "denied")]
    assert (project.state, project.state_message) == ("Error", "denied")
    project.observed_generation = 2
    project.conditions = [conditions.condition("Ready", True, "Active", "ok")]
    assert project.state == "Ready"
