"""Pure renderers: route spec + gateway -> the Ingress (or Traefik IngressRoutes) to apply.

The protocol table below is the one place that says which annotations each protocol needs on
each controller flavor; the wizard pre-fills the same annotations. Route annotations win.
"""

from console.cluster import label_key, ownership_labels
from console.validators import is_number
from gateways import flavors
from gateways.policy import TRAEFIK_PREFIX
from gateways.render import GATEWAY_API, GATEWAY_GROUP, HTTP_LISTENER, NAME, https_listener
from routes.spec import RouteSpec
from routes.validators import TLS_PROTOCOLS

WEBSOCKETS = {"ws", "wss"}
LONG_TIMEOUT = "3600"
INGRESS_KINDS = [("networking.k8s.io/v1", "Ingress")]
INGRESS_ROUTE_KINDS = [("traefik.io/v1alpha1", "IngressRoute")]
GATEWAY_API_KINDS = [(GATEWAY_API, "HTTPRoute"), (GATEWAY_API, "GRPCRoute")]
MOST_RULES = 16  # an HTTPRoute's or GRPCRoute's limit


def services_with(spec: RouteSpec, protocols: set[str]) -> str:
    names = []
    for rule in spec.rules:
        if rule.protocol in protocols:
            names += [path.service for path in rule.paths if path.service not in names]
    return ",".join(names)


def protocol_annotations(spec: RouteSpec, flavor: str) -> dict[str, str]:
    """The annotations the route's protocols need on a gateway of `flavor`."""
    protocols = {rule.protocol for rule in spec.rules}
    annotations = {}
    if flavor == flavors.NGINX_INC:
        if protocols & WEBSOCKETS:
            annotations["nginx.org/websocket-services"] = services_with(spec, WEBSOCKETS)
        if "grpc" in protocols:
            annotations["nginx.org/grpc-services"] = services_with(spec, {"grpc"})
    elif flavor == flavors.INGRESS_NGINX:
        if protocols & WEBSOCKETS:
            annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] = LONG_TIMEOUT
            annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] = LONG_TIMEOUT
        if "grpc" in protocols:
            annotations["nginx.ingress.kubernetes.io/backend-protocol"] = "GRPC"
    # Traefik proxies websockets natively; gRPC gets the h2c scheme in its IngressRoute.
    return annotations


def merged_annotations(spec: RouteSpec, flavor: str) -> dict[str, str]:
    return {**protocol_annotations(spec, flavor), **spec.annotations}


def derived_name(route_name: str, index: int) -> str:
    """The name of a route's `index`th object: the route's own, then <route>.<index>. A route's name
    is a DNS label, which holds no '.', so no other route's objects can take these names (with '-',
    route a's second object and route a-1's first would be one object)."""
    return route_name if index == 0 else f"{route_name}.{index}"


def metadata(spec: RouteSpec, owner: str, name: str, annotations: dict) -> dict:
    labels = {**spec.labels, **ownership_labels(owner), label_key("route"): spec.name}
    return {"name": name, "namespace": spec.namespace, "labels": labels, "annotations": annotations}


def backend_port(port) -> dict:
    return {"number": int(port)} if isinstance(port, int) or is_number(str(port)) else {"name": port}


def ingress(spec: RouteSpec, gateway, owner: str) -> dict:
    """The Ingress of a route whose hosts are all known."""
    tls = {}
    for rule in spec.rules:
        if rule.protocol in TLS_PROTOCOLS:
            hosts = tls.setdefault(rule.tls_secret, [])
            if rule.host not in hosts:
                hosts.append(rule.host)
    body = {
        "ingressClassName": gateway.ingress_class,
        "rules": [
            {
                "host": rule.host,
                "http": {
                    "paths": [
                        {
                            "path": path.path,
                            "pathType": path.path_type,
                            "backend": {"service": {"name": path.service, "port": backend_port(path.port)}},
                        }
                        for path in rule.paths
                    ]
                },
            }
            for rule in spec.rules
        ],
    }
    if tls:
        body["tls"] = [{"hosts": hosts, "secretName": secret} for secret, hosts in tls.items()]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(spec, owner, spec.name, merged_annotations(spec, gateway.flavor)),
        "spec": body,
    }


def traefik_match(host: str, path) -> str:
    matcher = "Path" if path.path_type == "Exact" else "PathPrefix"
    return f"Host(`{host}`) && {matcher}(`{path.path}`)"


def traefik_settings(annotations: dict) -> dict[str, str]:
    """The route's Traefik keys without their prefix. IngressRoutes do not read annotations, so the
    renderer turns each allowed key into the field it stands for (gateways/policy.py lists them)."""
    return {
        key.removeprefix(TRAEFIK_PREFIX): value for key, value in annotations.items() if key.startswith(TRAEFIK_PREFIX)
    }


def traefik_service(rule, backend, settings: dict[str, str]) -> dict:
    service = {"name": backend.service, "port": int(backend.port) if is_number(str(backend.port)) else backend.port}
    scheme = settings.get("service.serversscheme") or ("h2c" if rule.protocol == "grpc" else "")
    if scheme:
        service["scheme"] = scheme
    if settings.get("service.sticky.cookie") == "true":
        cookie = {"name": settings["service.sticky.cookie.name"]} if settings.get("service.sticky.cookie.name") else {}
        service["sticky"] = {"cookie": cookie}
    return service


def traefik_route(rule, path, settings: dict[str, str]) -> dict:
    route = {"kind": "Rule", "match": traefik_match(rule.host, path)}
    if settings.get("router.priority"):
        route["priority"] = int(settings["router.priority"])
    if path.alternates:  # Traefik splits a route's traffic between its services by weight
        route["services"] = [
            {**traefik_service(rule, backend, settings), "weight": backend.weight} for backend in path.backends
        ]
    else:
        route["services"] = [traefik_service(rule, path, settings)]
    return route


def ingress_routes(spec: RouteSpec, gateway, owner: str) -> list[dict]:
    """Traefik IngressRoutes of a route: one for plain rules, one per TLS secret for secure rules.
    The route's Traefik keys take effect as fields; its annotations are kept as they are."""
    groups: dict[str, list] = {}
    for rule in spec.rules:
        groups.setdefault(rule.tls_secret if rule.protocol in TLS_PROTOCOLS else "", []).append(rule)
    settings = traefik_settings(spec.annotations)
    entry_points = [item.strip() for item in settings.get("router.entrypoints", "").split(",") if item.strip()]
    annotations = {**spec.annotations, "kubernetes.io/ingress.class": gateway.ingress_class}
    manifests = []
    for index, (secret, rules) in enumerate(groups.items()):
        body = {
            "entryPoints": entry_points or ["websecure" if secret else "web"],
            "routes": [traefik_route(rule, path, settings) for rule in rules for path in rule.paths],
        }
        if secret:
            body["tls"] = {"secretName": secret}
        elif settings.get("router.tls") == "true":
            body["tls"] = {}
        name = derived_name(spec.name, index)
        manifests.append(
            {
                "apiVersion": "traefik.io/v1alpha1",
                "kind": "IngressRoute",
                "metadata": metadata(spec, owner, name, annotations),
                "spec": body,
            }
        )
    return manifests


def manifests(
    spec: RouteSpec, gateway, owner: str, ingress_routes_served: bool = False, port_numbers: dict | None = None
) -> list[dict]:
    """What to apply for a route: HTTPRoutes and GRPCRoutes when its gateway serves the Gateway API
    (`port_numbers`: the numbers of the ports it names, live.port_numbers), Traefik IngressRoutes
    when the gateway runs Traefik and the cluster serves their CRD, otherwise one Ingress."""
    if gateway.serves_gateway_api:
        return gateway_api_routes(spec, gateway, owner, port_numbers or {})
    return ingress_manifests(spec, gateway, owner, ingress_routes_served)


def ingress_manifests(spec: RouteSpec, gateway, owner: str, ingress_routes_served: bool = False) -> list[dict]:
    """The route as Ingress-style objects: a Traefik gateway's IngressRoutes when the cluster serves
    their CRD, otherwise one Ingress. Edit YAML shows a route in this form whatever its gateway serves."""
    if gateway.flavor == flavors.TRAEFIK and ingress_routes_served:
        return ingress_routes(spec, gateway, owner)
    return [ingress(spec, gateway, owner)]


# The Gateway API


def tls_hosts(spec: RouteSpec) -> dict[str, str]:
    """The route's TLS hosts with their secrets: the HTTPS listeners its gateway's Gateway needs."""
    return {rule.host: rule.tls_secret for rule in spec.rules if rule.protocol in TLS_PROTOCOLS}


# Written out as the API server defaults them, so that what the console applies is what it reads
# back: an apply that owns its spec outright then finds nothing to take back.
def backend_refs(path, port_numbers) -> list[dict]:
    """The path's Services, each with its weight (its share of the requests)."""
    return [
        {
            "group": "",
            "kind": "Service",
            "name": backend.service,
            "port": backend.port
            if isinstance(backend.port, int)
            else port_numbers.get((backend.service, backend.port), backend.port),
            "weight": backend.weight,
        }
        for backend in path.backends
    ]


def http_route_rule(path, port_numbers) -> dict:
    kind = "Exact" if path.path_type == "Exact" else "PathPrefix"
    return {"matches": [{"path": {"type": kind, "value": path.path}}], "backendRefs": backend_refs(path, port_numbers)}


def grpc_route_rule(path, port_numbers) -> dict:
    """A gRPC path is /, /<service>/ or /<service>/<method>: every call, a service's, or one method."""
    rule = {"backendRefs": backend_refs(path, port_numbers)}
    service, _, method = path.path.strip("/").partition("/")
    if service:
        rule["matches"] = [{"method": {"type": "Exact", "service": service, **({"method": method} if method else {})}}]
    return rule


def gateway_api_routes(spec: RouteSpec, gateway, owner: str, port_numbers: dict) -> list[dict]:
    """The route as Gateway API objects: per host, an HTTPRoute for its http, https, ws and wss
    rules and a GRPCRoute for its grpc rules (16 paths each at most), attached to its gateway's
    Gateway on the listener the protocol needs: plain HTTP, or the HTTPS listener of the host.
    `port_numbers` ({(service, port name): number}) gives a named port the number a backendRef
    needs; a port it lacks stays a name (the preview shows it; the worker waits for the number).
    The route's annotations are left off: a controller would read them as its configuration."""
    groups: dict[tuple, list] = {}
    for rule in spec.rules:
        kind = "GRPCRoute" if rule.protocol == "grpc" else "HTTPRoute"
        listener = https_listener(rule.host) if rule.protocol in TLS_PROTOCOLS else HTTP_LISTENER
        make = grpc_route_rule if kind == "GRPCRoute" else http_route_rule
        groups.setdefault((kind, rule.host, listener), []).extend(make(path, port_numbers) for path in rule.paths)
    objects = []
    for (kind, host, listener), rules in groups.items():
        for start in range(0, len(rules), MOST_RULES):
            name = derived_name(spec.name, len(objects))
            objects.append(
                {
                    "apiVersion": GATEWAY_API,
                    "kind": kind,
                    "metadata": metadata(spec, owner, name, {}),
                    "spec": {
                        "parentRefs": [
                            {"group": GATEWAY_GROUP, "kind": "Gateway", "name": NAME, "sectionName": listener}
                        ],
                        "hostnames": [host],
                        "rules": rules[start : start + MOST_RULES],
                    },
                }
            )
    return objects
