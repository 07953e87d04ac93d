"""What the route pages show beside the data: the rules editor's rows with their pickers, shares
and certificate warnings, and the detail page's rows with their Click-to-visit address or why
there is none."""

from routes import facts as route_facts
from routes import hosts, live
from routes import spec as route_spec
from routes.facts import Facts
from routes.models import Route
from routes.validators import HOST_MODES, MOST_BACKENDS, PATH_TYPES, PROTOCOLS, TLS_PROTOCOLS


def rule_views(project, gateway, rules: list[dict], errors: dict, facts: Facts) -> list[dict]:
    """What the editor shows for each rule: its values, pickers, generated host and warnings."""
    ports_of = {s["name"]: s["ports"] for s in facts.services or ()}
    views = []
    for i, rule in enumerate(rules):
        first_service = rule["paths"][0]["service"] if rule["paths"] else ""
        generated = hosts.auto_host(first_service, project.name, gateway) if rule["host_mode"] == "auto" else ""
        views.append(
            {
                "index": i,
                "values": rule,
                "prefix": f"rule-{i}",
                "generated_host": generated,
                "needs_secret": rule["protocol"] in TLS_PROTOCOLS,
                "warnings": certificate_warnings(rule, generated or rule["host"], facts),
                "errors": {
                    key: errors.get(f"rule-{i}-{key}", [])
                    for key in ("host_mode", "host", "protocol", "tls_secret", "paths")
                },
                "paths": [
                    path_view(f"rule-{i}-path-{j}", j, path, errors, ports_of) for j, path in enumerate(rule["paths"])
                ],
            }
        )
    return views


def certificate_warnings(rule: dict, host: str, facts: Facts) -> list[str]:
    """What is wrong with the certificate a TLS rule picked: a host it does not cover, an expiry past."""
    secret = facts.secret(rule["tls_secret"])
    if rule["protocol"] not in TLS_PROTOCOLS or not secret:
        return []
    warnings = []
    if host and not live.covers(secret["dns_names"], host):
        warnings.append(f"The certificate of {secret['name']} does not cover {host}.")
    if live.expired(secret["not_after"]):
        warnings.append(f"The certificate of {secret['name']} expired on {secret['not_after'][:10]}.")
    return warnings


def path_view(prefix: str, index: int, path: dict, errors: dict, ports_of: dict) -> dict:
    """A path of the editor: its values, its Service's ports, its alternate backends and errors."""
    alternates = path.get("alternate_backends", [])
    share = shares([path.get("weight"), *(backend.get("weight") for backend in alternates)])
    return {
        "index": index,
        "values": path,
        "prefix": prefix,
        "ports": ports_of.get(path["service"], []),
        "errors": {
            key: errors.get(f"{prefix}-{key}", [])
            for key in ("path", "path_type", "service", "port", "weight", "alternate_backends")
        },
        "alternates": [
            {
                "index": k,
                "values": backend,
                "prefix": f"{prefix}-backend-{k}",
                "ports": ports_of.get(backend.get("service"), []),
                "errors": {key: errors.get(f"{prefix}-backend-{k}-{key}", []) for key in ("service", "port", "weight")},
                "share": share[k + 1],
            }
            for k, backend in enumerate(alternates)
        ],
        "can_add_backend": len(alternates) < MOST_BACKENDS - 1,
        "share": share[0],
    }


def shares(weights: list) -> list[str]:
    """Each weight's share of the requests, as the editor shows it beside the weights ("80%")."""
    numbers = [route_spec.number_value(weight) for weight in weights]
    if not all(isinstance(n, int) for n in numbers) or not sum(numbers):
        return ["" for _ in weights]
    return [f"{round(100 * n / sum(numbers))}%" for n in numbers]


def rule_rows(route: Route) -> list[dict]:
    """A row per rule path, with its Click-to-visit address or why there is none."""
    urls = list(route.urls)
    reason = unavailable_reason(route)
    rows, index = [], 0
    for rule in route.rules.all():
        for path in rule.paths.all():
            entry = urls[index] if index < len(urls) else {}
            index += 1
            url = entry.get("url", "") if not reason else ""
            why = reason or ("" if url else no_url_reason(rule))
            rows.append({"rule": rule, "path": path, "url": url, "dial": rule.protocol == "grpc", "why": why})
    return rows


def unavailable_reason(route: Route) -> str:
    if route.deletion_requested:
        return "The route is being deleted."
    if route.gateway is None or not route.gateway.enabled:
        return "The project's gateway is disabled."
    admitted = route.condition("Admitted")
    if admitted and admitted["status"] == "False":
        return f"Not admitted: {admitted['message']}"
    if not route.in_sync:
        return "Waiting for the cluster to apply the latest change."
    return ""


def no_url_reason(rule) -> str:
    if rule.served_host.startswith("*."):
        return "A wildcard host cannot be visited; use one of the names it covers."
    if not rule.served_host:
        return "The host is generated once the gateway has an address."
    return "The gateway has no address or port for this protocol yet."


def editor_context(project, gateway, rules, errors, facts: Facts) -> dict:
    """What the rules editor (the wizard's Rules step, the Edit Rules dialog) shows."""
    return {
        "rules": rule_views(project, gateway, rules, errors, facts),
        "can_split": route_facts.split_problem(gateway, facts) is None,
        "services_live": list(facts.services or ()),
        "secrets_live": list(facts.tls_secrets or ()),
        "live_trouble": facts.trouble,
        "rule_errors": errors.get("rules", []),
        "host_modes": HOST_MODES,
        "protocols": PROTOCOLS,
        "path_types": PATH_TYPES,
    }
