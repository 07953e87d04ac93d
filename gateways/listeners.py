"""What a Gateway API controller says of the gateway's Gateway, listener by listener: how many
routes it attached and its conditions (Accepted, Programmed, ResolvedRefs, Conflicted). Pure
functions: the worker feeds `reported` the Gateway it read and stores the result on the row; the
gateway page and the API show it through `rows`."""

from gateways.render import HTTP_LISTENER, https_listener

CONDITION_FIELDS = ("type", "status", "reason", "message")
# A listener's trouble by the controller's reason, in a tenant's words.
TROUBLE_WORDS = {
    "InvalidCertificateRef": "its TLS secret cannot be used",
    "RefNotPermitted": "its TLS secret is in another namespace",
    "HostnameConflict": "another listener takes the same host",
    "ProtocolConflict": "another listener takes the same port with another protocol",
    "PortUnavailable": "its port is not available",
    "UnsupportedProtocol": "the controller does not serve its protocol",
    "InvalidRouteKinds": "it does not take these kinds of route",
    "Pending": "the controller has not set it up yet",
}


def reported(gateway_object: dict | None) -> list[dict]:
    """The listeners in the Gateway's status as the row keeps them: name, attached routes, and
    the conditions the controller wrote for the Gateway's current generation."""
    if not gateway_object:
        return []
    generation = (gateway_object.get("metadata") or {}).get("generation", 0)
    return [
        {
            "name": listener.get("name", ""),
            "attached_routes": listener.get("attachedRoutes", 0),
            "conditions": [
                {field: item.get(field, "") for field in CONDITION_FIELDS}
                for item in listener.get("conditions") or []
                if item.get("observedGeneration", 0) >= generation
            ],
        }
        for listener in (gateway_object.get("status") or {}).get("listeners") or []
    ]


def rows(listeners: list[dict], tls_hosts: dict[str, str]) -> list[dict]:
    """The stored listeners with what a tenant reads them by: the protocol, and the host and TLS
    secret of an HTTPS listener (its name is a hash of the host)."""
    by_name = {https_listener(host): (host, secret) for host, secret in tls_hosts.items()}
    shown = []
    for listener in listeners:
        host, secret = by_name.get(listener["name"], ("", ""))
        plain = listener["name"] == HTTP_LISTENER
        shown.append(
            {
                **listener,
                "protocol": "HTTP" if plain else "HTTPS",
                "host": "every host" if plain else host or "(a host no route names any more)",
                "tls_secret": secret,
                "checks": [{**item, "fine": fine(item)} for item in listener["conditions"]],
                "summary": summary(listener),
            }
        )
    return shown


def summary(listener: dict) -> str:
    """One sentence on the listener: what is wrong with it, or how many routes it serves."""
    trouble = next((item for item in listener["conditions"] if not fine(item)), None)
    if trouble:
        words = TROUBLE_WORDS.get(trouble["reason"], "the controller reports a problem")
        return f"Not serving: {words}. The controller says: {trouble['message'] or trouble['reason']}"
    if not listener["conditions"]:
        return "Waiting for the gateway's controller to report."
    count = listener["attached_routes"]
    return f"Serving {count} route{'' if count == 1 else 's'}."


def fine(item: dict) -> bool:
    """Whether a listener condition says all is well: Conflicted is the one that should be False."""
    return item["status"] == ("False" if item["type"] == "Conflicted" else "True")
