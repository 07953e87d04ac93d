"""Pure: generated hosts and the Click-to-visit addresses of a route."""

from console import hostnames
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


NIP_IO = "nip.io"


def generated_space_owner(host: str, domains: dict[str, str], platform: str = "") -> str | None:
    """The project whose generated host names take in `host`, or None: <x>.<project>.<IPv4>.nip.io
    belongs to <project>, any name under a gateway's default domain to that gateway's project
    (`domains`: {default domain: project name}), and with a platform domain (CONSOLE_DEFAULT_DOMAIN)
    any name under <project>.<platform domain> to <project>. Nobody else may claim these, whatever
    its age."""
    name = hostnames.name_of(host)
    labels = name.split(".")
    if len(labels) >= 7 and labels[-2:] == ["nip", "io"] and is_ip_address(".".join(labels[-6:-2])):
        return labels[-7]
    owner = next((domains[domain] for domain in hostnames.suffixes(name) if domain in domains), None)
    if owner is None and platform and name != platform and hostnames.is_under(name, platform):
        return name[: -len(platform) - 1].rpartition(".")[2]
    return owner


def covers_generated_spaces(host: str, project: str, domains: dict[str, str], platform: str = "") -> bool:
    """Whether a wildcard `host` would take in host names generated for projects other than
    `project`: *.nip.io, *.<IPv4>.nip.io and the like take in every project's, a wildcard above
    another project's default domain that project's, one at or above the platform domain every
    project's."""
    if not host.startswith("*."):
        return False
    name = hostnames.name_of(host)
    if hostnames.is_under(NIP_IO, name) or (hostnames.is_under(name, NIP_IO) and len(name.split(".")) < 7):
        return True
    if platform and hostnames.is_under(platform, name):
        return True
    return any(owner != project and hostnames.is_under(domain, name) for domain, owner in domains.items())


def foreign_space_problem(host: str, project: str, domains: dict[str, str], platform: str = "") -> str | None:
    """Why `project` may not claim `host`, a custom host, or None: it lies in (or, a wildcard, takes
    in) the host names the console generates for another project. Says that they are taken, never
    whose they are."""
    owner = generated_space_owner(host, domains, platform)
    if owner is not None and owner != project:
        return (
            "This host is among the names the console generates for another project's routes "
            "(<service>.<project>.<address>.nip.io, or under another gateway's default domain); choose another."
        )
    if covers_generated_spaces(host, project, domains, platform):
        return "This wildcard takes in host names the console generates for other projects; choose a narrower one."
    return None


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
