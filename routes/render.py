"""Pure renderers: route spec + gateway -> the Ingress (or Traefik IngressRoutes) to apply.

The protocol table below is the one place that says which annotations each protocol needs on
each controller flavor; the wizard pre-fills the same annotations. Route annotations win.
"""

from console.cluster import label_key, ownership_labels
from console.validators import is_number
from gateways import flavors
from gateways.policy import TRAEFIK_PREFIX
from routes.spec import RouteSpec
from routes.validators import TLS_PROTOCOLS

WEBSOCKETS = {"ws", "wss"}
LONG_TIMEOUT = "3600"
INGRESS_KINDS = [("networking.k8s.io/v1", "Ingress")]
INGRESS_ROUTE_KINDS = [("traefik.io/v1alpha1", "IngressRoute")]


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


def traefik_service(rule, path, settings: dict[str, str]) -> dict:
    service = {"name": path.service, "port": int(path.port) if is_number(str(path.port)) else path.port}
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
        name = spec.name if index == 0 else f"{spec.name}-{index}"
        manifests.append(
            {
                "apiVersion": "traefik.io/v1alpha1",
                "kind": "IngressRoute",
                "metadata": metadata(spec, owner, name, annotations),
                "spec": body,
            }
        )
    return manifests


def manifests(spec: RouteSpec, gateway, owner: str, ingress_routes_served: bool = False) -> list[dict]:
    """What to apply for a route: Traefik IngressRoutes when the gateway runs Traefik and the
    cluster serves their CRD, otherwise one Ingress."""
    if gateway.flavor == flavors.TRAEFIK and ingress_routes_served:
        return ingress_routes(spec, gateway, owner)
    return [ingress(spec, gateway, owner)]
