"""What a Gateway API controller says of a route: the Accepted and ResolvedRefs conditions it
writes on the route's HTTPRoutes and GRPCRoutes for the gateway's Gateway, turned into the route's
own Attached and ResolvedRefs conditions, in a tenant's words. Pure functions: the periodic pass
and a route's follow-up looks feed them what they read."""

from console.conditions import condition
from gateways.render import NAME

GATEWAY_API_KINDS = {"HTTPRoute", "GRPCRoute"}
# The controller's condition type -> the route's.
ROUTE_TYPES = {"Accepted": "Attached", "ResolvedRefs": "ResolvedRefs"}
SERVED_WORDS = {
    "Attached": "The gateway's controller attached the route to the gateway.",
    "ResolvedRefs": "The gateway's controller found every backend Service.",
}
REFUSAL_WORDS = {
    "NoMatchingListenerHostname": "no listener of the gateway takes this host (yet)",
    "NoMatchingParent": "the gateway has no listener for this route (yet)",
    "NotAllowedByListeners": "the gateway's listener does not allow this route",
    "UnsupportedValue": "the controller does not support a value of the route",
    "BackendNotFound": "a backend Service does not exist",
    "RefNotPermitted": "a backend in another namespace is not permitted",
    "InvalidKind": "a backend is not a Service",
    "UnsupportedProtocol": "a backend port's protocol cannot be forwarded to",
}


def parent_answer(obj: dict) -> dict[str, dict] | None:
    """The controller's conditions on one HTTPRoute or GRPCRoute for the gateway's Gateway, by
    type, as far as they concern the object's current generation; None while it has said nothing."""
    generation = (obj.get("metadata") or {}).get("generation", 0)
    for parent in (obj.get("status") or {}).get("parents") or []:
        if (parent.get("parentRef") or {}).get("name") == NAME:
            said = parent.get("conditions") or []
            return {item["type"]: item for item in said if item.get("observedGeneration", 0) >= generation}
    return None


def route_conditions(answers: list[dict | None]) -> list[dict]:
    """The route's Attached and ResolvedRefs conditions from its objects' answers: False as soon as
    one object is refused (with the controller's reason and message), True once every object is
    served, Unknown while the controller has not answered for all of them."""
    conditions = []
    for theirs, ours in ROUTE_TYPES.items():
        said = [answer.get(theirs) if answer is not None else None for answer in answers]
        refused = next((item for item in said if item and item.get("status") == "False"), None)
        if refused:
            reason = refused.get("reason") or "Refused"
            words = REFUSAL_WORDS.get(reason, "the controller refused it")
            message = f"Not served: {words}. The controller says: {refused.get('message') or reason}"
            conditions.append(condition(ours, False, reason, message))
        elif said and all(item and item.get("status") == "True" for item in said):
            conditions.append(condition(ours, True, theirs, SERVED_WORDS[ours]))
        else:
            conditions.append(condition(ours, "Unknown", "Waiting", "Waiting for the gateway's controller to answer."))
    return conditions


def differs(stored: list[dict], observed: list[dict]) -> bool:
    """Whether the observed conditions say something the stored ones do not."""
    by_type = {item.get("type"): item for item in stored}
    keys = ("status", "reason", "message")
    return any(
        tuple((by_type.get(item["type"]) or {}).get(key) for key in keys) != tuple(item[key] for key in keys)
        for item in observed
    )
