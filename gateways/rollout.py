"""How far a gateway's controller has rolled out, from its Deployment's status and its pods, and
what to tell a tenant when the new pods cannot start (an image the nodes cannot get, a controller
that keeps stopping, no node to run it).

Pure functions over what the API server answered, plus the two reads the pages and the worker make.
"""

from dataclasses import dataclass

from console import cluster
from console.cluster import label_key
from gateways import render

# A container's waiting reasons, by what the tenant can do about them.
IMAGE_REASONS = {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"}
START_REASONS = {"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}
EVENTS_SHOWN = 8


@dataclass(frozen=True)
class Problem:
    reason: str  # the Ready condition's reason
    message: str


@dataclass(frozen=True)
class Health:
    """The controller's rollout: `wanted` replicas, `current` of them created from the gateway's
    present configuration, `current_ready` of those ready, `earlier_ready` pods of an earlier
    configuration still taking requests, and what keeps new pods from starting."""

    wanted: int
    ready: int
    done: bool
    current: int = 0
    current_ready: int = 0
    earlier_ready: int = 0
    problem: Problem | None = None

    @property
    def ready_current(self) -> int:
        """Ready replicas of the present configuration: a pod of an earlier one does not count."""
        return self.ready if self.done else self.current_ready


def wanted_config_hash(gateway) -> str:
    """The config-hash annotation the gateway's present configuration gives its controller pods."""
    return render.config_hash(render.FLAVOR_PARTS[gateway.flavor](gateway)["config"])


def rolled_out(deployment: dict, wanted: int) -> bool:
    """Whether the Deployment runs its latest spec on `wanted` ready pods and no others. Only its
    status and generation are read: the periodic pass lists Deployments without their spec."""
    status = deployment.get("status") or {}
    return (
        status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
        and status.get("updatedReplicas", 0) == wanted
        and status.get("replicas", 0) == wanted
        and status.get("readyReplicas", 0) >= wanted
    )


def health(gateway, deployment: dict, pods: list[dict] | None) -> Health:
    """The rollout of `deployment`, told from `pods` (the controller's, None when not read: a rollout
    that is done needs no pods)."""
    wanted = gateway.replicas
    ready = (deployment.get("status") or {}).get("readyReplicas") or 0
    if rolled_out(deployment, wanted) or pods is None:
        return Health(wanted, ready, rolled_out(deployment, wanted))
    config = wanted_config_hash(gateway)
    live = [pod for pod in pods if not pod["metadata"].get("deletionTimestamp")]
    current = [pod for pod in live if pod_config(pod) == config]
    earlier = [pod for pod in live if pod_config(pod) != config]
    return Health(
        wanted,
        ready,
        False,
        current=len(current),
        current_ready=sum(map(pod_ready, current)),
        earlier_ready=sum(map(pod_ready, earlier)),
        problem=next(filter(None, map(pod_problem, current)), None),
    )


def pod_config(pod: dict) -> str:
    return (pod["metadata"].get("annotations") or {}).get(label_key("config-hash"), "")


def pod_ready(pod: dict) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(item.get("type") == "Ready" and item.get("status") == "True" for item in conditions)


def pod_problem(pod: dict) -> Problem | None:
    """Why this pod cannot run its controller, in a tenant's words with the pod's own reason and
    message; None when nothing is known to be wrong (it may just be starting)."""
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        reason, said = waiting.get("reason", ""), waiting.get("message", "")
        if reason in IMAGE_REASONS:
            image = container.get("image") or "its image"
            return Problem(
                "ImageNotAvailable",
                f"The controller's image {image} is not available to this cluster's nodes"
                f" ({reason}{': ' + said if said else ''}). Choose another controller, or ask a platform admin"
                " to provide the image.",
            )
        if reason in START_REASONS:
            return Problem("ControllerCannotStart", cannot_start(reason, said, container))
    for item in status.get("conditions") or []:
        if item.get("type") == "PodScheduled" and item.get("status") == "False" and item.get("reason"):
            return Problem(
                "ControllerUnschedulable",
                f"No node can run the controller ({item['reason']}: {item.get('message', '')}).",
            )
    return None


def cannot_start(reason: str, said: str, container: dict) -> str:
    last = ((container.get("lastState") or {}).get("terminated")) or {}
    exit_note = ""
    if last:
        exit_note = f" It last stopped with exit code {last.get('exitCode')}"
        exit_note += f" ({last['reason']})." if last.get("reason") else "."
    if reason == "CrashLoopBackOff":
        return f"The controller keeps stopping right after it starts ({reason}).{exit_note}"
    return f"The controller's container cannot start ({reason}{': ' + said if said else ''}).{exit_note}"


def ready_message(health: Health) -> tuple[str, str]:
    """The Ready condition's (reason, message) for a controller that is not rolled out yet."""
    if health.problem is not None:
        return health.problem.reason, f"{health.problem.message} {serving_meanwhile(health)}"
    if health.earlier_ready:
        return (
            "RollingOut",
            f"The new controller is starting: {health.current_ready} of {health.wanted} replicas with the present"
            f" settings are ready. {serving_meanwhile(health)}",
        )
    if health.current_ready >= health.wanted:
        return "ControllerNotReady", "The controller is taking up the change."
    return "ControllerNotReady", f"{health.current_ready} of {health.wanted} ingress controller replicas are ready."


def serving_meanwhile(health: Health) -> str:
    if health.earlier_ready:
        return "The earlier controller keeps serving the routes meanwhile."
    return "Routes are not served until it starts."


def controller_pods(gateway) -> list[dict]:
    """The gateway's controller pods, of every configuration."""
    selector = ",".join(f"{key}={value}" for key, value in render.selector(gateway).items())
    return cluster.list_objects("v1", "Pod", gateway.namespace, selector=selector)


def recent_events(gateway) -> list[dict]:
    """The newest events of the gateway's controller pods, newest first, for its page: what the
    kubelet and the scheduler said (pulling, back-off, probe failures)."""
    query = [("fieldSelector", "involvedObject.kind=Pod")]
    answer = cluster.request("GET", cluster.kind_of("v1", "Event").path(gateway.namespace), query=query)
    mine = [
        event
        for event in answer.get("items", [])
        if (event.get("involvedObject") or {}).get("name", "").startswith(f"{render.NAME}-")
    ]
    mine.sort(key=event_time, reverse=True)
    return [
        {
            "time": event_time(event),
            "type": event.get("type", ""),
            "reason": event.get("reason", ""),
            "message": event.get("message", ""),
            "pod": event["involvedObject"]["name"],
            "count": event.get("count") or 1,
        }
        for event in mine[:EVENTS_SHOWN]
    ]


def event_time(event: dict) -> str:
    return event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp") or ""
