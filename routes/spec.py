"""A route as plain data: what the API, the wizard and Edit YAML produce and what the validators,
the renderers and the URL builder consume. Built from rows with `from_route`."""

from dataclasses import dataclass, field, replace

from console.validators import is_number

DEFAULT_WEIGHT = 1  # the Gateway API's and Traefik's default


@dataclass(frozen=True)
class BackendSpec:
    """A Service a path sends traffic to, with its share: weight / the sum of the path's weights."""

    service: str = ""
    port: int | str = 80
    weight: int | str = DEFAULT_WEIGHT


@dataclass(frozen=True)
class PathSpec:
    path: str = "/"
    path_type: str = "Prefix"
    service: str = ""
    port: int | str = 80
    weight: int | str = DEFAULT_WEIGHT
    # Further Services splitting the path's traffic by weight (OpenShift's alternateBackends).
    alternates: tuple[BackendSpec, ...] = ()

    @property
    def backends(self) -> tuple[BackendSpec, ...]:
        """Every Service of the path, its own first."""
        return (BackendSpec(self.service, self.port, self.weight), *self.alternates)


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
                PathSpec(
                    path=p.path,
                    path_type=p.path_type,
                    service=p.service,
                    port=p.port,
                    weight=p.weight,
                    alternates=tuple(backend_from(b) for b in p.alternate_backends),
                )
                for p in rule.paths.all()
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
                    weight=number_value(p.get("weight", DEFAULT_WEIGHT)),
                    alternates=tuple(backend_from(b) for b in listed(p.get("alternate_backends"))),
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


def backend_from(data) -> BackendSpec:
    data = data if isinstance(data, dict) else {}
    return BackendSpec(
        service=data.get("service", ""),
        port=port_value(data.get("port", "")),
        weight=number_value(data.get("weight", DEFAULT_WEIGHT)),
    )


def listed(value) -> list:
    """A list given as data; anything else counts as a list of one bad item, for the checks to refuse."""
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def number_value(value):
    """Whole numbers as int (from text too); anything else as given, for the checks to refuse."""
    if isinstance(value, str) and is_number(value.strip()):
        return int(value.strip())
    return value


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
                    {
                        "path": p.path,
                        "path_type": p.path_type,
                        "service": p.service,
                        "port": p.port,
                        "weight": p.weight,
                        "alternate_backends": [backend_data(b) for b in p.alternates],
                    }
                    for p in rule.paths
                ],
            }
            for rule in spec.rules
        ],
        "annotations": dict(spec.annotations),
        "labels": dict(spec.labels),
    }


def backend_data(backend: BackendSpec) -> dict:
    return {"service": backend.service, "port": backend.port, "weight": backend.weight}
