"""Edit YAML: the Ingress a user edited, mapped back onto a route.

Only what a route can represent is accepted; anything else is refused naming the field, so an
edit never silently loses part of what the user wrote."""

import yaml
from django.core.exceptions import ValidationError

from console.cluster import PREFIX
from routes import hosts, render
from routes import spec as route_spec
from routes.validators import TLS_PROTOCOLS

ALLOWED_TOP = {"apiVersion", "kind", "metadata", "spec", "status"}
ALLOWED_METADATA = {"name", "namespace", "labels", "annotations"}
ALLOWED_SPEC = {"ingressClassName", "rules", "tls"}
ALLOWED_RULE = {"host", "http"}
ALLOWED_PATH = {"path", "pathType", "backend"}


def refuse(field: str, why: str) -> ValidationError:
    return ValidationError({"manifest": f"{field}: {why}"})


def only(obj, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise refuse(where, "must be a mapping.")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise refuse(f"{where}.{extra[0]}", "the console cannot represent this field on a route.")


def route_data(text: str, route, gateway) -> dict:
    """The route's data (the API's shape) from an edited Ingress manifest."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError({"manifest": f"This is not valid YAML: {error}"}) from None
    only(doc, ALLOWED_TOP, "")
    if doc.get("apiVersion") != "networking.k8s.io/v1" or doc.get("kind") != "Ingress":
        raise refuse("kind", "only a networking.k8s.io/v1 Ingress can be edited here.")
    metadata = doc.get("metadata") or {}
    only(metadata, ALLOWED_METADATA, "metadata")
    if metadata.get("name") != route.name:
        raise refuse("metadata.name", f"a route's name cannot be changed (it is {route.name}).")
    if metadata.get("namespace", route.namespace) != route.namespace:
        raise refuse("metadata.namespace", f"the route lives in namespace {route.namespace}.")
    spec = doc.get("spec") or {}
    only(spec, ALLOWED_SPEC, "spec")
    if spec.get("ingressClassName", gateway.ingress_class) != gateway.ingress_class:
        raise refuse(
            "spec.ingressClassName", f"routes of this project use the gateway's class {gateway.ingress_class}."
        )
    secrets = tls_secrets(spec.get("tls") or [])
    current = route_spec.from_route(route)
    rules = [rule_data(rule, i, secrets, current, route, gateway) for i, rule in enumerate(spec.get("rules") or [])]
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if not k.startswith(f"{PREFIX}/")}
    annotations = dict(metadata.get("annotations") or {})
    data = {"name": route.name, "rules": rules, "labels": labels}
    implied = render.protocol_annotations(route_spec.from_data(data, route.namespace), gateway.flavor)
    data["annotations"] = {k: v for k, v in annotations.items() if implied.get(k) != v}
    return data


def tls_secrets(tls: list) -> dict[str, str]:
    by_host = {}
    for i, entry in enumerate(tls):
        only(entry, {"hosts", "secretName"}, f"spec.tls[{i}]")
        for host in entry.get("hosts") or []:
            by_host[host] = entry.get("secretName", "")
    return by_host


def rule_data(rule, i: int, secrets: dict, current, route, gateway) -> dict:
    where = f"spec.rules[{i}]"
    only(rule, ALLOWED_RULE, where)
    host = rule.get("host", "")
    paths = []
    for j, path in enumerate((rule.get("http") or {}).get("paths") or []):
        at = f"{where}.http.paths[{j}]"
        only(path, ALLOWED_PATH, at)
        backend = path.get("backend") or {}
        only(backend, {"service"}, f"{at}.backend")
        service = backend.get("service") or {}
        port = service.get("port") or {}
        paths.append(
            {
                "path": path.get("path", "/"),
                "path_type": path.get("pathType", "Prefix"),
                "service": service.get("name", ""),
                "port": port.get("number", port.get("name", "")),
            }
        )
    if not paths:
        raise refuse(f"{where}.http.paths", "a rule needs at least one path.")
    previous = current.rules[i] if i < len(current.rules) else None
    protocol = previous.protocol if previous else "http"
    secure = host in secrets
    if secure and protocol not in TLS_PROTOCOLS:
        protocol = "https"
    elif not secure and protocol in TLS_PROTOCOLS:
        protocol = "ws" if protocol == "wss" else "http"
    generated = hosts.auto_host(paths[0]["service"], route.project.name, gateway)
    auto = previous is not None and previous.host_mode == "auto" and host == generated
    return {
        "host_mode": "auto" if auto else "custom",
        "host": "" if auto else host,
        "protocol": protocol,
        "tls_secret": secrets.get(host, ""),
        "paths": paths,
    }


def manifest_yaml(route, gateway) -> str:
    """The Ingress as the console will apply it, for the Edit YAML dialog."""
    spec = route_spec.from_route(route)
    spec = spec.with_hosts(hosts.resolved_hosts(spec, route.project.name, gateway))
    return yaml.safe_dump(render.ingress(spec, gateway, route.owner), sort_keys=False)
