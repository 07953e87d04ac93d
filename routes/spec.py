"""A route as plain data: what the API, the wizard and Edit YAML produce and what the validators,
the renderers and the URL builder consume. Built from rows with `from_route`."""

from dataclasses import dataclass, field, replace

from console.validators import is_number


@dataclass(frozen=True)
class PathSpec:
    path: str = "/"
    path_type: str = "Prefix"
    service: str = ""
    port: int | str = 80


@dataclass(frozen=True)
class RuleSpec:
    host_mode: str = "custom"
    host: str = ""
    protocol: str = "http"
    tls_secret: str = ""
    paths: tuple[PathSpec, ...] = ()

    @property
    def first_service(self) -> str:
        return self.paths[0].service if self.paths else ""


@dataclass(frozen=True)
class RouteSpec:
    name: str
    namespace: str
    rules: tuple[RuleSpec, ...] = ()
    annotations: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)

    def with_hosts(self, hosts: list[str]) -> "RouteSpec":
        """The same route with each rule's host replaced (generated hosts filled in)."""
        return replace(
            self, rules=tuple(replace(rule, host=host) for rule, host in zip(self.rules, hosts, strict=True))
        )


def from_route(route) -> RouteSpec:
    """The spec of a stored route (rules and paths prefetched or not)."""
    rules = tuple(
        RuleSpec(
            host_mode=rule.host_mode,
            host=rule.host,
            protocol=rule.protocol,
            tls_secret=rule.tls_secret,
            paths=tuple(
                PathSpec(path=p.path, path_type=p.path_type, service=p.service, port=p.port) for p in rule.paths.all()
            ),
        )
        for rule in route.rules.all()
    )
    return RouteSpec(
        name=route.name,
        namespace=route.namespace,
        rules=rules,
        annotations=dict(route.annotations),
        labels=dict(route.labels),
    )


def from_data(data: dict, namespace: str) -> RouteSpec:
    """The spec of a route given as JSON-like data (the API's shape)."""
    rules = tuple(
        RuleSpec(
            host_mode=rule.get("host_mode", "custom"),
            host=rule.get("host", "") or "",
            protocol=rule.get("protocol", "http"),
            tls_secret=rule.get("tls_secret", "") or "",
            paths=tuple(
                PathSpec(
                    path=p.get("path", "/"),
                    path_type=p.get("path_type", "Prefix"),
                    service=p.get("service", ""),
                    port=port_value(p.get("port", "")),
                )
                for p in rule.get("paths", [])
            ),
        )
        for rule in data.get("rules", [])
    )
    return RouteSpec(
        name=data.get("name", ""),
        namespace=namespace,
        rules=rules,
        annotations=dict(data.get("annotations") or {}),
        labels=dict(data.get("labels") or {}),
    )


def port_value(port):
    """Port numbers as int, port names as text."""
    if isinstance(port, str) and is_number(port.strip()):
        return int(port.strip())
    return port


def to_data(spec: RouteSpec) -> dict:
    return {
        "name": spec.name,
        "rules": [
            {
                "host_mode": rule.host_mode,
                "host": rule.host,
                "protocol": rule.protocol,
                "tls_secret": rule.tls_secret,
                "paths": [
                    {"path": p.path, "path_type": p.path_type, "service": p.service, "port": p.port} for p in rule.paths
                ],
            }
            for rule in spec.rules
        ],
        "annotations": dict(spec.annotations),
        "labels": dict(spec.labels),
    }
