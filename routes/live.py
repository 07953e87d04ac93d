"""Reads of the project's live Services and TLS secrets, for pickers and checks. Short reads
from the cluster are fine in a web request; no secret data ever leaves this module."""

import base64
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509.oid import NameOID

from console import cluster
from gateways import flavors
from gateways.render import GATEWAY_API

TLS_TYPE = "kubernetes.io/tls"


def services(namespace: str, cached: bool = True) -> list[dict]:
    """[{name, type, ports: [{name, port, protocol}]}] of the namespace's Services; `cached` as
    cluster.list_objects has it."""
    return [
        {
            "name": item["metadata"]["name"],
            "type": item.get("spec", {}).get("type", "ClusterIP"),
            "ports": [
                {"name": port.get("name", ""), "port": port["port"], "protocol": port.get("protocol", "TCP")}
                for port in item.get("spec", {}).get("ports", [])
            ],
        }
        for item in sorted(
            cluster.list_objects("v1", "Service", namespace, cached=cached), key=lambda s: s["metadata"]["name"]
        )
    ]


def external_name_services(namespace: str, services_of=services) -> set[str]:
    """Names of the namespace's ExternalName Services: no gateway the console runs proxies to one, as
    it would reach whatever name it holds (another namespace's Service, the API server, a metadata
    address)."""
    return {service["name"] for service in services_of(namespace) if service["type"] == "ExternalName"}


def external_name_backends(spec, services_of=services) -> list[str]:
    """The route's backends that are ExternalName Services; [] when the cluster cannot say."""
    try:
        external = external_name_services(spec.namespace, services_of)
    except cluster.ClusterError:
        return []
    named = [backend.service for rule in spec.rules for path in rule.paths for backend in path.backends]
    return sorted({service for service in named if service in external})


def certificate_facts(pem_base64: str) -> dict:
    """DNS names and expiry of a PEM certificate (base64 as a Secret holds it)."""
    certificate = x509.load_pem_x509_certificate(base64.b64decode(pem_base64))
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        names = [attr.value for attr in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return {"dns_names": list(names), "not_after": certificate.not_valid_after_utc.isoformat()}


def tls_secrets(namespace: str, cached: bool = True) -> list[dict]:
    """[{name, dns_names, not_after}] of the namespace's usable TLS secrets: type kubernetes.io/tls,
    holding tls.crt and tls.key. Never the key, never any data."""
    found = []
    for item in cluster.list_objects("v1", "Secret", namespace, cached=cached, fields=f"type={TLS_TYPE}"):
        data = item.get("data") or {}
        if item.get("type") != TLS_TYPE or not data.get("tls.crt") or not data.get("tls.key"):
            continue
        try:
            facts = certificate_facts(data["tls.crt"])
        except ValueError:
            facts = {"dns_names": [], "not_after": None}
        found.append({"name": item["metadata"]["name"], **facts})
    return sorted(found, key=lambda s: s["name"])


def covers(dns_names: list[str], host: str) -> bool:
    """Whether a certificate with these names is valid for `host` (one wildcard level)."""
    for name in dns_names:
        if name == host:
            return True
        if name.startswith("*.") and host.count(".") >= 1 and host.split(".", 1)[1] == name[2:]:
            return True
    return False


def expired(not_after: str | None) -> bool:
    return bool(not_after) and datetime.fromisoformat(not_after) < datetime.now(UTC)


def has_port(ports: list[dict], port) -> bool:
    """Whether a Service with these ports has `port`, a number or a port's name."""
    return any(p["port"] == port or (p["name"] and p["name"] == port) for p in ports)


def backends_missing(spec, services_of=services) -> list[str]:
    """The service:port pairs of a route spec that its namespace does not (yet) have; [] when the
    cluster cannot say. `services_of(namespace)` lists a namespace's Services (a run over many routes
    lists each namespace once)."""
    try:
        known = {service["name"]: service["ports"] for service in services_of(spec.namespace)}
    except cluster.ClusterError:
        return []
    missing = []
    for rule in spec.rules:
        for path in rule.paths:
            for backend in path.backends:
                ports = known.get(backend.service)
                if not has_port(ports or [], backend.port):
                    missing.append(f"{backend.service}:{backend.port}")
    return missing


def ingress_routes_served(fresh: bool = False) -> bool:
    """Whether the cluster serves Traefik's IngressRoute CRD. Routes of Traefik gateways ask
    afresh; cleaning up after other routes may use an answer up to 10 seconds old."""
    return cluster.serves("traefik.io/v1alpha1", fresh)


def gateway_api_served(fresh: bool = False) -> bool:
    """Whether the cluster serves the Gateway API (its CRDs are installed)."""
    return cluster.serves(GATEWAY_API, fresh)


def port_numbers(spec, services_of=services) -> tuple[dict[tuple[str, str], int], list[tuple[str, str]]]:
    """The numbers of the ports a route spec names, {(service, port name): number}, and the
    (service, port name) pairs its namespace's Services do not have: a Gateway API backendRef needs
    the number. No read when the route names no port; a ClusterError when the cluster cannot say."""
    named = [
        (backend.service, backend.port)
        for rule in spec.rules
        for path in rule.paths
        for backend in path.backends
        if isinstance(backend.port, str)
    ]
    if not named:
        return {}, []
    numbers = {
        (service["name"], port["name"]): port["port"]
        for service in services_of(spec.namespace)
        for port in service["ports"]
        if port["name"]
    }
    return numbers, [pair for pair in dict.fromkeys(named) if pair not in numbers]


def renders_ingress_routes(gateway, fresh: bool = False) -> bool:
    """Whether a gateway's routes become Traefik IngressRoutes rather than an Ingress: a Traefik
    gateway on a cluster that serves the IngressRoute CRD."""
    return gateway.flavor == flavors.TRAEFIK and ingress_routes_served(fresh)


def route_events(route) -> tuple[list[dict], str]:
    """The latest ten events of the route's Ingress, and what kept them from being read."""
    selector = f"involvedObject.name={route.name},involvedObject.kind=Ingress"
    try:
        events = cluster.request(
            "GET", cluster.kind_of("v1", "Event").path(route.namespace), query=[("fieldSelector", selector)]
        ).get("items", [])
    except cluster.ClusterError as error:
        return [], f"Events could not be read: {error.message}"
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    return events[:10], ""
