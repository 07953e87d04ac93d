"""Pure: generated hosts and the Click-to-visit addresses of a route."""

from console.validators import is_ip_address
from gateways import flavors
from routes.spec import RouteSpec
from routes.validators import TLS_PROTOCOLS


def auto_host(service: str, project: str, gateway) -> str:
    """The host an Auto Generate rule gets: <service>-<project>.<default domain> when the gateway
    has a default domain, else <service>.<project>.<gateway IP>.nip.io; "" while unknown."""
    if not service or gateway is None:
        return ""
    if gateway.default_domain:
        return f"{service}-{project}.{gateway.default_domain}"
    address = next((a for a in gateway.addresses if is_ip_address(a) and ":" not in a), None)
    return f"{service}.{project}.{address}.nip.io" if address else ""


def resolved_hosts(spec: RouteSpec, project: str, gateway) -> list[str]:
    return [
        auto_host(rule.first_service, project, gateway) if rule.host_mode == "auto" else rule.host
        for rule in spec.rules
    ]


def visit_addresses(spec: RouteSpec, gateway) -> list[dict]:
    """One entry per rule path: {host, path, protocol, url}. `url` is a link for http(s) and
    websockets, host:port to dial for gRPC, and "" when no address can be given (a wildcard host,
    a host not yet generated, a node port not yet allocated)."""
    entries = []
    for rule in spec.rules:
        secure = rule.protocol in TLS_PROTOCOLS
        for path in rule.paths:
            entries.append(
                {
                    "host": rule.host,
                    "path": path.path,
                    "protocol": rule.protocol,
                    "url": address(rule, path, gateway, secure),
                }
            )
    return entries


def address(rule, path, gateway, secure: bool) -> str:
    if not rule.host or rule.host.startswith("*."):
        return ""
    port_name = "https" if secure else "http"
    if gateway.access_mode == flavors.NODE_PORT:
        node_port = gateway.node_ports.get(port_name)
        if not node_port:
            return ""
        authority = f"{rule.host}:{node_port}"
    else:
        authority = rule.host if rule.protocol != "grpc" else f"{rule.host}:443"
    if rule.protocol == "grpc":
        return authority
    scheme = "https" if secure else "http"
    return f"{scheme}://{authority}{path.path}"
