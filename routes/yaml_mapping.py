"""Edit YAML: what the worker applies for a route (one Ingress, a Traefik gateway's IngressRoutes, or
the HTTPRoutes and GRPCRoutes of a gateway that serves the Gateway API), as text, and an edited copy
mapped back onto the route.

Only what a route can represent is accepted; anything else is refused naming the field, so an edit
never silently loses part of what the user wrote. Rules are matched to the route's current rules by
host, so their protocols (which an Ingress does not spell out) follow them wherever they move."""

import re

import yaml
from django.core.exceptions import ValidationError

from console import documents
from console.cluster import PREFIX, ClusterError
from gateways import flavors, policy
from gateways.models import AnnotationAllowance, Gateway
from gateways.render import GATEWAY_API, GATEWAY_GROUP, HTTP_LISTENER, NAME, https_listener
from routes import hosts, live, render
from routes import spec as route_spec
from routes.validators import MOST_BACKENDS, PROTOCOLS, TLS_PROTOCOLS

ALLOWED_TOP = {"apiVersion", "kind", "metadata", "spec", "status"}
ALLOWED_METADATA = {"name", "namespace", "labels", "annotations"}
ALLOWED_SPEC = {"ingressClassName", "rules", "tls"}
ALLOWED_RULE = {"host", "http"}
ALLOWED_PATH = {"path", "pathType", "backend"}
INGRESS_ROUTE_SPEC = {"entryPoints", "routes", "tls"}
INGRESS_ROUTE_RULE = {"kind", "match", "priority", "services"}
INGRESS_ROUTE_SERVICE = {"name", "port", "scheme", "sticky", "weight"}
TRAEFIK_MATCH = re.compile(r"Host\(`([^`]*)`\) && (Path|PathPrefix)\(`([^`]*)`\)")
CLASS_ANNOTATION = "kubernetes.io/ingress.class"
ALL_PROTOCOLS = frozenset(PROTOCOLS)
GATEWAY_API_SPEC = {"parentRefs", "hostnames", "rules"}
GATEWAY_API_RULE = {"matches", "backendRefs"}
PARENT_REF = {"group", "kind", "name", "sectionName"}
BACKEND_REF = {"group", "kind", "name", "port", "weight"}
GATEWAY_API_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")

# The forms Edit YAML shows a route in: what its gateway's controller reads.
INGRESS, INGRESS_ROUTES, GATEWAY_API_ROUTES = "ingress", "ingress-routes", "gateway-api"


def edited_form(gateway) -> str:
    if gateway.serves_gateway_api:
        return GATEWAY_API_ROUTES
    return INGRESS_ROUTES if live.renders_ingress_routes(gateway) else INGRESS


def refuse(field: str, why: str) -> ValidationError:
    return ValidationError({"manifest": f"{field}: {why}"})


def only(obj, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise refuse(where or "the document", "must be a mapping.")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise refuse(
            f"{where}.{extra[0]}" if where else extra[0], "the console cannot represent this field on a route."
        )


def mapping(obj, where: str) -> dict:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise refuse(where, "must be a mapping.")
    return obj


def text(value, where: str) -> str:
    """A value the route holds as text; YAML reads some unquoted ones as numbers, which are taken as written."""
    if value is None or isinstance(value, dict | list):
        raise refuse(where, "must be text.")
    return str(value)


def scalar(value, where: str):
    """A port or weight as written (a number or text, for the route checks to judge), never a
    mapping or list, which nothing past this point walks."""
    if isinstance(value, dict | list):
        raise refuse(where, "must be a number or a name, not a mapping or list.")
    return value


def listing(obj, where: str) -> list:
    if obj is None:
        return []
    if not isinstance(obj, list):
        raise refuse(where, "must be a list.")
    return obj


def resolved_spec(route, gateway) -> route_spec.RouteSpec:
    spec = route_spec.from_route(route)
    return spec.with_hosts(hosts.resolved_hosts(spec, route.project.name, gateway))


def manifests_of(route, gateway, form: str) -> list[dict]:
    """The route in the form Edit YAML edits (edited_form): as the worker applies it."""
    spec = resolved_spec(route, gateway)
    if form == GATEWAY_API_ROUTES:
        numbers, _ = known_port_numbers(spec)
        return render.gateway_api_routes(spec, gateway, route.owner, numbers)
    return render.ingress_manifests(spec, gateway, route.owner, form == INGRESS_ROUTES)


def known_port_numbers(spec) -> tuple[dict, list[str]]:
    """The numbers of the ports the route names, as far as the project's Services know them, with
    notes on what is missing: a backendRef needs a port's number where the route names it."""
    try:
        numbers, unknown = live.port_numbers(spec)
    except ClusterError as error:
        return {}, [f"The Services' port numbers could not be read, so named ports are shown: {error.message}"]
    return numbers, [
        f"Service {service} has no port named {port}: a backendRef needs the port's number."
        for service, port in unknown
    ]


def gateway_api_preview(route) -> tuple[list[dict], list[str]]:
    """The route as Gateway API objects (what serving it through the Gateway API would apply), with
    notes on what the preview could not settle."""
    gateway = route.gateway or Gateway(project=route.project, enabled=False)
    spec = resolved_spec(route, gateway)
    numbers, notes = known_port_numbers(spec)
    return render.gateway_api_routes(spec, gateway, route.owner, numbers), notes


def manifest_yaml(route, gateway, form: str = INGRESS) -> str:
    """What the worker will apply for the route, for the Edit YAML dialog."""
    return yaml.safe_dump_all(manifests_of(route, gateway, form), sort_keys=False)


def route_data(text: str, route, gateway, form: str = INGRESS) -> dict:
    """The route's data (the API's shape) from the edited text of manifest_yaml."""
    try:
        docs = documents.load_yaml(text)
    except documents.DocumentError as error:
        raise ValidationError({"manifest": error.message}) from None
    except yaml.YAMLError as error:
        raise ValidationError({"manifest": f"This is not valid YAML: {error}"}) from None
    mapper = RuleMapper(route, gateway)
    if form == GATEWAY_API_ROUTES:
        return from_gateway_api_routes(docs, route, gateway, mapper)
    if form == INGRESS_ROUTES:
        return from_ingress_routes(docs, route, gateway, mapper)
    if len(docs) != 1:
        raise refuse("the document", f"give exactly one Ingress (this text holds {len(docs)} documents).")
    return from_ingress(docs[0], route, gateway, mapper)


def check_metadata(doc: dict, name: str, route, where: str = "") -> dict:
    metadata = mapping(doc.get("metadata"), f"{where}metadata")
    only(metadata, ALLOWED_METADATA, f"{where}metadata")
    if metadata.get("name") != name:
        raise refuse(f"{where}metadata.name", f"must stay {name}: a route's names cannot be changed.")
    if metadata.get("namespace", route.namespace) != route.namespace:
        raise refuse(f"{where}metadata.namespace", f"the route lives in namespace {route.namespace}.")
    return metadata


def user_labels(metadata: dict, where: str) -> dict:
    labels = mapping(metadata.get("labels"), f"{where}metadata.labels")
    return {k: v for k, v in labels.items() if not str(k).startswith(f"{PREFIX}/")}


def finish(data: dict, annotations: dict, route, gateway) -> dict:
    """The route's own annotations: what was given, minus what its protocols imply anyway (those
    follow the rules, so they are not stored)."""
    implied = render.protocol_annotations(route_spec.from_data(data, route.namespace), gateway.flavor)
    return {**data, "annotations": {k: v for k, v in annotations.items() if implied.get(k) != v}}


# An Ingress


def from_ingress(doc, route, gateway, mapper: "RuleMapper") -> dict:
    only(doc, ALLOWED_TOP, "")
    if doc.get("apiVersion") != "networking.k8s.io/v1" or doc.get("kind") != "Ingress":
        raise refuse("kind", "only a networking.k8s.io/v1 Ingress can be edited here.")
    metadata = check_metadata(doc, route.name, route)
    spec = mapping(doc.get("spec"), "spec")
    only(spec, ALLOWED_SPEC, "spec")
    if spec.get("ingressClassName", gateway.ingress_class) != gateway.ingress_class:
        raise refuse(
            "spec.ingressClassName", f"routes of this project use the gateway's class {gateway.ingress_class}."
        )
    secrets = tls_secrets(listing(spec.get("tls"), "spec.tls"))
    annotations = dict(mapping(metadata.get("annotations"), "metadata.annotations"))
    mapper.hints = protocol_hints(annotations, gateway.flavor)
    rules = []
    for i, rule in enumerate(listing(spec.get("rules"), "spec.rules")):
        where = f"spec.rules[{i}]"
        only(rule, ALLOWED_RULE, where)
        host = text(rule.get("host", ""), f"{where}.host")
        paths = [ingress_path(path, f"{where}.http.paths[{j}]") for j, path in enumerate(rule_paths(rule, where))]
        rules.append(mapper.rule(where, host, paths, secrets.get(host, "")))
    data = {"name": route.name, "rules": rules, "labels": user_labels(metadata, "")}
    return finish(data, annotations, route, gateway)


def rule_paths(rule: dict, where: str) -> list:
    paths = listing(mapping(rule.get("http"), f"{where}.http").get("paths"), f"{where}.http.paths")
    if not paths:
        raise refuse(f"{where}.http.paths", "a rule needs at least one path.")
    return paths


def ingress_path(path, at: str) -> dict:
    only(path, ALLOWED_PATH, at)
    backend = mapping(path.get("backend"), f"{at}.backend")
    only(backend, {"service"}, f"{at}.backend")
    service = mapping(backend.get("service"), f"{at}.backend.service")
    port = mapping(service.get("port"), f"{at}.backend.service.port")
    return {
        "path": text(path.get("path", "/"), f"{at}.path"),
        "path_type": text(path.get("pathType", "Prefix"), f"{at}.pathType"),
        "service": text(service.get("name", ""), f"{at}.backend.service.name"),
        "port": scalar(port.get("number", port.get("name", "")), f"{at}.backend.service.port"),
    }


def tls_secrets(tls: list) -> dict[str, str]:
    by_host = {}
    for i, entry in enumerate(tls):
        only(entry, {"hosts", "secretName"}, f"spec.tls[{i}]")
        secret = text(entry.get("secretName", ""), f"spec.tls[{i}].secretName")
        for k, host in enumerate(listing(entry.get("hosts"), f"spec.tls[{i}].hosts")):
            by_host[text(host, f"spec.tls[{i}].hosts[{k}]")] = secret
    return by_host


def protocol_hints(annotations: dict, flavor: str) -> dict[str, set[str]]:
    """Services that an Ingress's own annotations mark as gRPC or WebSocket backends, for rules whose
    host the route did not have before (so their protocol cannot follow them)."""

    def services(key: str) -> set[str]:
        return {name.strip() for name in str(annotations.get(key, "")).split(",") if name.strip()}

    if flavor == flavors.NGINX_INC:
        return {"grpc": services("nginx.org/grpc-services"), "ws": services("nginx.org/websocket-services")}
    if flavor == flavors.INGRESS_NGINX and annotations.get("nginx.ingress.kubernetes.io/backend-protocol") == "GRPC":
        return {"grpc": {"*"}, "ws": set()}
    return {"grpc": set(), "ws": set()}


# Traefik IngressRoutes


def from_ingress_routes(docs: list, route, gateway, mapper: "RuleMapper") -> dict:
    """IngressRoutes back onto the route: each rule's host, paths and backends come from the match and
    services, its TLS secret from its document. What the console derives (entry points, priorities,
    schemes, sticky cookies) must be what the route's rules and annotations render, or it is refused
    with where to change it."""
    if not docs:
        raise refuse("the document", "give the route's IngressRoutes.")
    grouped: dict[tuple[str, str], dict] = {}
    grpc_services = set()
    for i, doc in enumerate(docs):
        where = f"document {i + 1}: "
        only(doc, ALLOWED_TOP, "")
        if doc.get("apiVersion") != "traefik.io/v1alpha1" or doc.get("kind") != "IngressRoute":
            raise refuse(f"{where}kind", "this gateway's routes are traefik.io/v1alpha1 IngressRoutes.")
        check_metadata(doc, render.derived_name(route.name, i), route, where)
        spec = mapping(doc.get("spec"), f"{where}spec")
        only(spec, INGRESS_ROUTE_SPEC, f"{where}spec")
        secret = text(mapping(spec.get("tls"), f"{where}spec.tls").get("secretName", ""), f"{where}spec.tls.secretName")
        for j, entry in enumerate(listing(spec.get("routes"), f"{where}spec.routes")):
            at = f"{where}spec.routes[{j}]"
            host, path, h2c = ingress_route_path(entry, at)
            if h2c:
                grpc_services.add(path["service"])
            grouped.setdefault((host, secret), {"where": at, "paths": []})["paths"].append(path)
    metadata = mapping(docs[0].get("metadata"), "metadata")
    annotations = dict(mapping(metadata.get("annotations"), "metadata.annotations"))
    if annotations.pop(CLASS_ANNOTATION, gateway.ingress_class) != gateway.ingress_class:
        raise refuse(
            f"metadata.annotations.{CLASS_ANNOTATION}",
            f"reserved: the console sets it to the gateway's class, {gateway.ingress_class}.",
        )
    mapper.hints = {"grpc": grpc_services, "ws": set()}
    rules = [mapper.rule(group["where"], host, group["paths"], secret) for (host, secret), group in grouped.items()]
    data = finish(
        {"name": route.name, "rules": rules, "labels": user_labels(metadata, "")}, annotations, route, gateway
    )
    # The fields derived from annotations are compared only once the annotations themselves may stand,
    # so that a refused key gets the policy's own message.
    allowances = AnnotationAllowance.as_policy()
    problems = policy.check_annotations(data["annotations"], gateway.flavor, allowances, renders=policy.INGRESS_ROUTE)
    if problems:
        raise ValidationError({"annotations": problems})
    check_derived_fields(docs, data, route, gateway)
    return data


def ingress_route_path(entry, at: str) -> tuple[str, dict, bool]:
    """(host, the path in the route's shape, whether its backend speaks h2c) of one IngressRoute rule."""
    only(entry, INGRESS_ROUTE_RULE, at)
    match = TRAEFIK_MATCH.fullmatch(str(entry.get("match", "")))
    if not match:
        raise refuse(
            f"{at}.match", "must read Host(`host`) && PathPrefix(`/path`) (or Path), as the console writes it."
        )
    services = listing(entry.get("services"), f"{at}.services")
    if not 1 <= len(services) <= MOST_BACKENDS:
        raise refuse(f"{at}.services", f"a path of a route goes to 1 to {MOST_BACKENDS} Services (split by weight).")
    for k, service in enumerate(services):
        only(service, INGRESS_ROUTE_SERVICE, f"{at}.services[{k}]")
    backends = [
        {
            "service": text(service.get("name", ""), f"{at}.services[{k}].name"),
            "port": scalar(service.get("port", ""), f"{at}.services[{k}].port"),
            "weight": scalar(service.get("weight", 1), f"{at}.services[{k}].weight"),
        }
        for k, service in enumerate(services)
    ]
    host, matcher, path = match.groups()
    path_data = {
        "path": path,
        "path_type": "Exact" if matcher == "Path" else "Prefix",
        **backends[0],
        "alternate_backends": backends[1:],
    }
    return host, path_data, services[0].get("scheme") == "h2c"


def check_derived_fields(docs: list, data: dict, route, gateway) -> None:
    """Refuses an edit of a field the console derives: what the mapped route renders must be what was given."""
    spec = route_spec.from_data(data, route.namespace)
    spec = spec.with_hosts(hosts.resolved_hosts(spec, route.project.name, gateway))
    rendered = render.ingress_routes(spec, gateway, route.owner)
    if len(rendered) != len(docs):
        raise refuse(
            "the document", f"these rules make {len(rendered)} IngressRoutes (one for plain rules, one per TLS secret)."
        )
    for i, (wanted, given) in enumerate(zip(rendered, docs, strict=True)):
        difference = first_difference(wanted["spec"], given.get("spec"), "spec")
        if difference:
            raise refuse(
                f"document {i + 1}: {difference}",
                "the console sets this from the route's rules and annotations "
                "(traefik.ingress.kubernetes.io/router.* and service.* keys); change those instead.",
            )


def first_difference(wanted, given, where: str) -> str | None:
    if isinstance(wanted, dict) and isinstance(given, dict):
        for key in [*wanted, *(k for k in given if k not in wanted)]:
            found = first_difference(wanted.get(key), given.get(key), f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(wanted, list) and isinstance(given, list) and len(wanted) == len(given):
        for i, (a, b) in enumerate(zip(wanted, given, strict=True)):
            found = first_difference(a, b, f"{where}[{i}]")
            if found:
                return found
        return None
    return None if wanted == given else where


# HTTPRoutes and GRPCRoutes


def from_gateway_api_routes(docs: list, route, gateway, mapper: "RuleMapper") -> dict:
    """HTTPRoutes and GRPCRoutes back onto the route: each object's host, listener and rules give a
    rule of the route, its protocol following the route's rule of that host (a GRPCRoute's is gRPC).
    What the console derives (the parent Gateway and its listener) must be what the route renders.
    The route's annotations stay as they are: its Gateway API objects do not carry them."""
    if not docs:
        raise refuse("the document", "give the route's HTTPRoutes and GRPCRoutes.")
    names = port_names(resolved_spec(route, gateway))
    groups: dict[tuple[str, str, str], dict] = {}
    labels = None
    for i, doc in enumerate(docs):
        where = f"document {i + 1}: "
        only(doc, ALLOWED_TOP, "")
        kind = doc.get("kind")
        if doc.get("apiVersion") != GATEWAY_API or kind not in GATEWAY_API_ROUTE_KINDS:
            raise refuse(f"{where}kind", f"this gateway's routes are {GATEWAY_API} HTTPRoutes and GRPCRoutes.")
        metadata = check_metadata(doc, render.derived_name(route.name, i), route, where)
        if mapping(metadata.get("annotations"), f"{where}metadata.annotations"):
            raise refuse(
                f"{where}metadata.annotations",
                "Gateway API routes carry no annotations (the controller would read them as its configuration); "
                "the route's own are kept for its gateway's other kinds: change them with Edit annotations.",
            )
        given_labels = user_labels(metadata, where)
        if labels is not None and given_labels != labels:
            raise refuse(
                f"{where}metadata.labels", "every object of a route carries the route's labels: give each the same."
            )
        labels = given_labels
        spec = mapping(doc.get("spec"), f"{where}spec")
        only(spec, GATEWAY_API_SPEC, f"{where}spec")
        host = single_hostname(spec, f"{where}spec.hostnames")
        listener = listener_of(spec, host, kind, f"{where}spec.parentRefs")
        entries = listing(spec.get("rules"), f"{where}spec.rules")
        if not entries:
            raise refuse(f"{where}spec.rules", "give at least one rule.")
        group = groups.setdefault((kind, host, listener), {"where": f"{where}spec", "paths": []})
        for j, entry in enumerate(entries):
            at = f"{where}spec.rules[{j}]"
            only(entry, GATEWAY_API_RULE, at)
            path = grpc_route_path(entry, at, mapper, host) if kind == "GRPCRoute" else http_route_path(entry, at)
            group["paths"].append({**path, **backends_of(entry, at, names)})
    rules = []
    for (kind, host, listener), group in groups.items():
        secret = mapper.secret_of(host) if listener != HTTP_LISTENER else ""
        if listener != HTTP_LISTENER and not secret:
            raise refuse(
                f"{group['where']}.parentRefs[0].sectionName",
                f"host {host} has no TLS secret in this route; add its secure rule with Edit rules, where the secret "
                "is picked.",
            )
        among = {"grpc"} if kind == "GRPCRoute" else {"http", "https", "ws", "wss"}
        rules.append(mapper.rule(group["where"], host, group["paths"], secret, among))
    return {"name": route.name, "rules": rules, "labels": labels, "annotations": dict(route.annotations)}


def single_hostname(spec: dict, where: str) -> str:
    hostnames = listing(spec.get("hostnames"), where)
    if len(hostnames) != 1:
        raise refuse(where, "give exactly one host: the console renders one object per host.")
    return text(hostnames[0], f"{where}[0]")


def listener_of(spec: dict, host: str, kind: str, where: str) -> str:
    """The listener an object attaches to, which must be one of the gateway's own Gateway: plain
    HTTP, or the host's HTTPS listener (gRPC is served over TLS)."""
    refs = listing(spec.get("parentRefs"), where)
    if len(refs) != 1:
        raise refuse(where, f"a route attaches to its gateway's Gateway, {NAME}, alone.")
    ref = refs[0]
    only(ref, PARENT_REF, f"{where}[0]")
    if (ref.get("group", GATEWAY_GROUP), ref.get("kind", "Gateway"), ref.get("name")) != (
        GATEWAY_GROUP,
        "Gateway",
        NAME,
    ):
        raise refuse(f"{where}[0]", f"a route attaches to its gateway's Gateway, {NAME}.")
    secure, plain = https_listener(host), HTTP_LISTENER
    allowed = [secure] if kind == "GRPCRoute" else [plain, secure]
    listener = ref.get("sectionName")
    if listener not in allowed:
        raise refuse(
            f"{where}[0].sectionName",
            f"host {host} is served on listener {plain} (plain HTTP) or {secure} (its HTTPS listener)"
            if kind == "HTTPRoute"
            else f"gRPC is served over TLS, on host {host}'s HTTPS listener {secure}.",
        )
    return listener


def single_match(entry: dict, at: str, key: str) -> dict | None:
    matches = listing(entry.get("matches"), f"{at}.matches")
    if not matches:
        return None
    if len(matches) != 1:
        raise refuse(f"{at}.matches", "give one match a rule: each path of a route is a rule of its own.")
    only(matches[0], {key}, f"{at}.matches[0]")
    return mapping(matches[0].get(key), f"{at}.matches[0].{key}")


def http_route_path(entry: dict, at: str) -> dict:
    match = single_match(entry, at, "path") or {"type": "PathPrefix", "value": "/"}
    only(match, {"type", "value"}, f"{at}.matches[0].path")
    types = {"PathPrefix": "Prefix", "Exact": "Exact"}
    kind = text(match.get("type", "PathPrefix"), f"{at}.matches[0].path.type")
    if kind not in types:
        raise refuse(f"{at}.matches[0].path.type", "PathPrefix or Exact: the path types a route offers.")
    return {"path": text(match.get("value", "/"), f"{at}.matches[0].path.value"), "path_type": types[kind]}


def grpc_route_path(entry: dict, at: str, mapper: "RuleMapper", host: str) -> dict:
    """A method match as the route's gRPC path (/<service>/ or /<service>/<method>; every call
    without one), keeping the path the route writes for the same match."""
    match, where = single_match(entry, at, "method") or {}, f"{at}.matches[0].method"
    only(match, {"type", "service", "method"}, where)
    if match.get("type", "Exact") != "Exact":
        raise refuse(f"{where}.type", "Exact: a route matches gRPC services and methods by name.")
    service = text(match.get("service", ""), f"{where}.service")
    method = text(match.get("method", ""), f"{where}.method")
    if method and not service:
        raise refuse(f"{where}.service", "name the service whose method this is.")
    wanted = render.grpc_route_rule(route_spec.PathSpec(path=f"/{service}/{method}"), {}).get("matches")
    for rule in mapper.current:
        for path in rule.paths if rule.host == host and rule.protocol == "grpc" else ():
            if render.grpc_route_rule(path, {}).get("matches") == wanted:
                return {"path": path.path, "path_type": path.path_type}
    return {"path": f"/{service}/{method}" if service else "/", "path_type": "Prefix"}


def backends_of(entry: dict, at: str, names: dict) -> dict:
    """A rule's backendRefs as the path's Service, port and weight and its alternate backends. A port
    number the route names is written back as its name."""
    refs = listing(entry.get("backendRefs"), f"{at}.backendRefs")
    if not 1 <= len(refs) <= MOST_BACKENDS:
        raise refuse(f"{at}.backendRefs", f"a path of a route goes to 1 to {MOST_BACKENDS} Services (split by weight).")
    backends = []
    for k, ref in enumerate(refs):
        only(ref, BACKEND_REF, f"{at}.backendRefs[{k}]")
        if (ref.get("group", ""), ref.get("kind", "Service")) != ("", "Service"):
            raise refuse(f"{at}.backendRefs[{k}]", "a route sends traffic to Services of its project.")
        service = text(ref.get("name", ""), f"{at}.backendRefs[{k}].name")
        port = scalar(ref.get("port", ""), f"{at}.backendRefs[{k}].port")
        named = names.get((service, port), port) if isinstance(port, int) else port
        weight = scalar(ref.get("weight", 1), f"{at}.backendRefs[{k}].weight")
        backends.append({"service": service, "port": named, "weight": weight})
    return {**backends[0], "alternate_backends": backends[1:]}


def port_names(spec) -> dict[tuple[str, int], str]:
    """{(service, number): name} for the ports the route names, so that an unchanged number stays a name."""
    numbers, _ = known_port_numbers(spec)
    named = {(b.service, b.port) for rule in spec.rules for path in rule.paths for b in path.backends}
    return {(service, number): name for (service, name), number in numbers.items() if (service, name) in named}


# Rules, matched to the route's current ones by host


class RuleMapper:
    """Turns an edited rule back into the route's shape. A rule keeps the protocol and host mode of
    the current rule with the same host, wherever it sits in the list; a new host takes the protocol
    the manifest marks for its service (hints), else https with TLS and http without."""

    def __init__(self, route, gateway):
        self.route, self.gateway = route, gateway
        self.current = resolved_spec(route, gateway).rules
        self.hints: dict[str, set[str]] = {"grpc": set(), "ws": set()}

    def rule(self, where: str, host: str, paths: list[dict], secret: str, among: set[str] = ALL_PROTOCOLS) -> dict:
        """`among`: the protocols the rule may have (a GRPCRoute's rules are gRPC)."""
        previous = self.previous(where, host, paths, among)
        secure = bool(secret)
        protocol = previous.protocol if previous else self.hinted(paths, among)
        if secure and protocol not in TLS_PROTOCOLS:
            protocol = "wss" if protocol == "ws" else "https"
        elif not secure and protocol in TLS_PROTOCOLS:
            protocol = "ws" if protocol == "wss" else "http"
        generated = hosts.auto_host(paths[0]["service"], self.route.project.name, self.gateway) if paths else ""
        auto = previous is not None and previous.host_mode == "auto" and host == generated
        return {
            "host_mode": "auto" if auto else "custom",
            "host": "" if auto else host,
            "protocol": protocol,
            "tls_secret": secret,
            "paths": paths,
        }

    def secret_of(self, host: str) -> str:
        """The TLS secret the route's rules of `host` use (an HTTPRoute does not name it)."""
        return next((r.tls_secret for r in self.current if r.host == host and r.protocol in TLS_PROTOCOLS), "")

    def previous(self, where: str, host: str, paths: list[dict], among: set[str] = ALL_PROTOCOLS):
        """The current rule this one is, by host; refused when the host has rules of different
        protocols and the paths do not tell which."""
        same_host = [rule for rule in self.current if rule.host == host and rule.protocol in among]
        protocols = sorted({rule.protocol for rule in same_host})
        if len(protocols) <= 1:
            return same_host[0] if same_host else None
        given = sorted(str(path.get("path")) for path in paths)
        same_paths = [rule for rule in same_host if sorted(p.path for p in rule.paths) == given]
        if len({rule.protocol for rule in same_paths}) == 1:
            return same_paths[0]
        raise refuse(
            where,
            f"host {host} has rules of different protocols ({', '.join(protocols)}) in this route, and these "
            "paths do not say which one this is. Keep each rule's paths as they were, or use Edit Rules.",
        )

    def hinted(self, paths: list[dict], among: set[str] = ALL_PROTOCOLS) -> str:
        if among == {"grpc"}:
            return "grpc"
        services = {path.get("service") for path in paths}
        if services & self.hints["grpc"] or "*" in self.hints["grpc"]:
            return "grpc"
        if services & self.hints["ws"]:
            return "ws"
        return "http"
