"""What a gateway says while its controller rolls out, from the Deployment's status and the pods
as the API server reports them (pure: no cluster)."""

import pytest

from console.cluster import label_key
from gateways import rollout
from gateways.models import Gateway
from gateways.reconcile import ready_condition
from tenants.models import Project, Workspace

HASH = label_key("config-hash")


def traefik_gateway(replicas=1):
    project = Project(pk=5, name="shop", workspace=Workspace(name="ws"))
    return Gateway(pk=3, project=project, flavor="traefik", replicas=replicas, access_mode="NodePort")


def deployment(generation=2, observed=2, replicas=1, updated=1, ready=1):
    return {
        "metadata": {"generation": generation},
        "status": {
            "observedGeneration": observed,
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
        },
    }


def pod(
    config, ready=False, waiting=None, message="", scheduled=None, last_exit=None, image="nginx/nginx-ingress:5.5.4"
):
    container = {"name": "controller", "image": image, "state": {}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": message}}
    if last_exit:
        container["lastState"] = {"terminated": {"exitCode": last_exit[0], "reason": last_exit[1]}}
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if scheduled:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": scheduled[0], "message": scheduled[1]})
    return {
        "metadata": {"annotations": {HASH: config}},
        "status": {"conditions": conditions, "containerStatuses": [container]},
    }


def say(gateway, deploy, pods):
    health = rollout.health(gateway, deploy, pods)
    return ready_condition(gateway, {"addresses": ["10.0.0.1"]}, health)


def test_a_rolled_out_controller_is_ready_without_reading_pods():
    gateway = traefik_gateway()
    ready = say(gateway, deployment(), None)
    assert (ready["status"], ready["message"]) == ("True", "All 1 ingress controller replicas are ready.")


def test_one_ready_pod_of_the_earlier_controller_is_not_ready_and_says_it_serves_meanwhile():
    gateway = traefik_gateway()
    new = rollout.wanted_config_hash(gateway)
    # The case: readyReplicas 1 of 1, but that pod is the old flavor's; the new one cannot pull.
    deploy = deployment(replicas=2, updated=1, ready=1)
    pods = [
        pod("old", ready=True, image="traefik:v3.6.12"),
        pod(new, waiting="ImagePullBackOff", message='Back-off pulling image "nginx/nginx-ingress:5.5.4"'),
    ]
    ready = say(gateway, deploy, pods)
    assert (ready["status"], ready["reason"]) == ("False", "ImageNotAvailable")
    assert rollout.health(gateway, deploy, pods).ready_current == 0  # the page's "0 of 1 ready", not 1 of 1
    assert (
        "nginx/nginx-ingress:5.5.4 is not available to this cluster's nodes (ImagePullBackOff: Back-off"
        in ready["message"]
    )
    assert ready["message"].endswith("The earlier controller keeps serving the routes meanwhile.")


def test_a_new_controller_that_cannot_pull_and_nothing_else_says_routes_are_not_served():
    gateway = traefik_gateway()
    pods = [pod(rollout.wanted_config_hash(gateway), waiting="ErrImageNeverPull", message="image not present")]
    ready = say(gateway, deployment(replicas=1, updated=1, ready=0), pods)
    assert ready["reason"] == "ImageNotAvailable"
    assert ready["message"].endswith("Routes are not served until it starts.")


def test_a_crash_loop_names_the_last_exit():
    gateway = traefik_gateway()
    pods = [
        pod(
            rollout.wanted_config_hash(gateway),
            waiting="CrashLoopBackOff",
            message="back-off 40s",
            last_exit=(1, "Error"),
        )
    ]
    ready = say(gateway, deployment(ready=0), pods)
    assert ready["reason"] == "ControllerCannotStart"
    assert (
        "keeps stopping right after it starts (CrashLoopBackOff). It last stopped with exit code 1 (Error)."
        in ready["message"]
    )


def test_an_unschedulable_pod_says_the_schedulers_reason_and_stays_pending():
    from console.models import PENDING_REASONS

    gateway = traefik_gateway()
    pods = [
        pod(
            rollout.wanted_config_hash(gateway),
            scheduled=("Unschedulable", "0/1 nodes are available: insufficient cpu."),
        )
    ]
    ready = say(gateway, deployment(ready=0), pods)
    assert ready["reason"] == "ControllerUnschedulable" and ready["reason"] in PENDING_REASONS
    assert (
        "No node can run the controller (Unschedulable: 0/1 nodes are available: insufficient cpu.)" in ready["message"]
    )


def test_a_rollout_under_way_without_a_problem_says_so():
    gateway = traefik_gateway()
    pods = [pod("old", ready=True), pod(rollout.wanted_config_hash(gateway))]
    ready = say(gateway, deployment(replicas=2, updated=1, ready=1), pods)
    assert (ready["reason"], ready["message"]) == (
        "RollingOut",
        "The new controller is starting: 0 of 1 replicas with the present settings are ready."
        " The earlier controller keeps serving the routes meanwhile.",
    )


@pytest.mark.parametrize(
    "deploy",
    [
        deployment(generation=3, observed=2),  # the Deployment controller has not seen the change
        deployment(replicas=2, updated=1, ready=2),  # an earlier pod still runs
        deployment(replicas=1, updated=0, ready=1),  # the running pod is an earlier one
    ],
)
def test_a_count_of_ready_replicas_alone_is_not_ready(deploy):
    gateway = traefik_gateway()
    assert not rollout.rolled_out(deploy, gateway.replicas)
    assert say(gateway, deploy, [])["status"] == "False"


def test_pods_being_deleted_do_not_count():
    gateway = traefik_gateway()
    stopping = pod("old", ready=True)
    stopping["metadata"]["deletionTimestamp"] = "2026-12-07T03:00:00Z"
    health = rollout.health(gateway, deployment(replicas=1, updated=1, ready=1, observed=1), [stopping])
    assert health.earlier_ready == 0
