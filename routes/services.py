"""Route operations, each in one transaction; the API, the wizard and Edit YAML call these.

Bad input raises ValidationError keyed by the field it concerns, as a dotted path into the
route ("rules.0.paths.1.path"), before anything is written."""

import functools
import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404

from console import quotas
from console.cluster import ClusterError
from console.models import stale_edit
from console.reconcile import changed, enqueue
from console.validators import validate_annotations_size
from gateways import flavors, policy
from gateways.models import AnnotationAllowance, Gateway
from gateways.services import enabled_gateway
from routes import hosts, live
from routes import spec as route_spec
from routes.claims import claim_new, default_domains, sync_claims
from routes.models import Route, RoutePath, RouteRule
from routes.reconcile import reconcile_route, reconcile_routes
from routes.validators import (
    HOST_MODES,
    MAX_BATCH,
    MOST_BACKENDS,
    PROTOCOLS,
    TLS_PROTOCOLS,
    validate_host,
    validate_labels,
    validate_path,
    validate_port,
    validate_route_name,
    validate_secret_name,
    validate_weight,
)
from tenants import audit
from tenants import permissions as perms
from tenants.models import AuditEntry, Project
from tenants.validators import validate_dns1123_label


class Errors:
    """Collects messages by dotted field path, then raises them together."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def check(self, field: str, check, *args) -> bool:
        try:
            check(*args)
        except ValidationError as error:
            self.add(field, *error.messages)
            return False
        return True

    def add(self, field: str, *messages: str) -> None:
        self.by_field.setdefault(field, []).extend(messages)

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def validate_spec(
    spec: route_spec.RouteSpec,
    gateway: Gateway,
    check_cluster: bool = True,
    allowances: dict | None = None,
    external_names: Callable[[], set[str]] | None = None,
    domains: dict[str, str] | None = None,
) -> None:
    """Every check of DESIGN.md section 3 on a route; raises ValidationError with all problems.
    `allowances` are the platform's annotation allowances, `external_names` reads the project's
    ExternalName Services and `domains` the gateways' default domains, when the caller has read
    them already."""
    errors = Errors()
    errors.check("name", validate_route_name, spec.name)
    if not spec.rules:
        errors.add("rules", "Add at least one rule.")
    elif quotas.over(quotas.RULES_PER_ROUTE, len(spec.rules), 0):
        most = quotas.limit(quotas.RULES_PER_ROUTE)
        errors.add(
            "rules", f"A route has at most {most} rules (a limit the platform sets); this one has {len(spec.rules)}."
        )
    seen = set()
    for i, rule in enumerate(spec.rules):
        at = f"rules.{i}"
        if not all_text(errors, at, rule, "host_mode", "host", "protocol", "tls_secret"):
            continue  # Edit YAML hands over what the document held, a list where a host should be
        if rule.host_mode not in HOST_MODES:
            errors.add(f"{at}.host_mode", f"Choose auto or custom, not '{rule.host_mode}'.")
        elif rule.host_mode == "custom" and errors.check(f"{at}.host", validate_host, rule.host):
            domains = default_domains() if domains is None else domains
            platform = settings.CONSOLE_DEFAULT_DOMAIN
            if problem := hosts.foreign_space_problem(rule.host, spec.namespace, domains, platform):
                errors.add(f"{at}.host", problem)
        if rule.protocol not in PROTOCOLS:
            errors.add(f"{at}.protocol", f"Choose one of {', '.join(PROTOCOLS)}, not '{rule.protocol}'.")
        elif rule.protocol in TLS_PROTOCOLS:
            if not rule.tls_secret:
                errors.add(f"{at}.tls_secret", f"{rule.protocol} needs a TLS secret.")
            elif errors.check(f"{at}.tls_secret", validate_secret_name, rule.tls_secret) and check_cluster:
                problem = live.secret_problem(spec.namespace, rule.tls_secret)
                if problem:
                    errors.add(f"{at}.tls_secret", problem)
        elif rule.tls_secret:
            errors.add(f"{at}.tls_secret", f"Only https, wss and grpc use a TLS secret; this rule is {rule.protocol}.")
        if not rule.paths:
            errors.add(f"{at}.paths", "Add at least one path.")
        for j, path in enumerate(rule.paths):
            where = f"{at}.paths.{j}"
            alternates_typed = all(
                [typed_backend(errors, f"{where}.alternate_backends.{k}", b) for k, b in enumerate(path.alternates)]
            )
            if not (all_text(errors, where, path, "path", "path_type") and typed_backend(errors, where, path)):
                continue
            errors.check(f"{where}.path", validate_path, path.path, path.path_type)
            errors.check(f"{where}.service", validate_dns1123_label, path.service)
            errors.check(f"{where}.port", validate_port, path.port)
            if alternates_typed:
                check_backends(errors, where, path, gateway)
            key = (rule.host_mode, rule.host if rule.host_mode == "custom" else path.service, path.path)
            if key in seen:
                errors.add(f"{where}.path", f"{path.path} is given twice for the same host.")
            seen.add(key)
    if gateway.flavor == flavors.INGRESS_NGINX:
        protocols = {rule.protocol for rule in spec.rules}
        if "grpc" in protocols and protocols != {"grpc"}:
            errors.add(
                "rules",
                "ingress-nginx sets the backend protocol for a whole route: put gRPC rules in a route of their own.",
            )
    allowances = AnnotationAllowance.as_policy() if allowances is None else allowances
    problems = policy.check_annotations(
        spec.annotations, gateway.flavor, allowances, renders=lambda: rendered_as(gateway)
    )
    if problems:
        errors.add("annotations", *problems)
    errors.check("annotations", validate_annotations_size, spec.annotations)
    errors.check("labels", validate_labels, spec.labels)
    if check_cluster and not errors.by_field:  # the cluster is asked only about an otherwise good route
        refuse_external_names(errors, spec, external_names)
    errors.raise_any()


def refuse_external_names(errors: Errors, spec: route_spec.RouteSpec, read: Callable[[], set[str]] | None) -> None:
    """Says so on every backend that is an ExternalName Service (`read`, or one LIST of the
    project's Services)."""
    backends = [
        (f"rules.{i}.paths.{j}" + (f".alternate_backends.{k - 1}" if k else ""), backend.service)
        for i, rule in enumerate(spec.rules)
        for j, path in enumerate(rule.paths)
        for k, backend in enumerate(path.backends)
        if isinstance(backend.service, str) and backend.service
    ]
    if not backends:
        return
    try:
        external = read() if read is not None else live.external_name_services(spec.namespace)
    except ClusterError:
        return  # the cluster cannot say now: the worker checks again before it applies the route
    for at, service in backends:
        if service in external:
            errors.add(
                f"{at}.service",
                f"Service {service} is of type ExternalName, which no gateway here proxies to: it could reach "
                "addresses outside this project. Pick a Service with pods behind it.",
            )


def all_text(errors: Errors, at: str, item, *fields: str) -> bool:
    """Whether each of the fields is text; says so on each one that is not."""
    wrong = [name for name in fields if not isinstance(getattr(item, name), str)]
    for name in wrong:
        errors.add(f"{at}.{name}", "Must be text.")
    return not wrong


def typed_backend(errors: Errors, at: str, backend) -> bool:
    """Whether a backend's service is text and its port a number or text, as the checks compare them."""
    if isinstance(backend.port, int | str):
        return all_text(errors, at, backend, "service")
    errors.check(f"{at}.port", validate_port, backend.port)
    all_text(errors, at, backend, "service")
    return False


def check_backends(errors: Errors, where: str, path: route_spec.PathSpec, gateway: Gateway) -> None:
    """A path's weights and alternate backends: at most MOST_BACKENDS Services, each once, weights
    0-256 and not all 0, and only on a gateway that can split traffic."""
    errors.check(f"{where}.weight", validate_weight, path.weight)
    if not path.alternates:
        if path.weight == 0:
            errors.add(f"{where}.weight", "With weight 0 this path's only Service would get no requests at all.")
        return
    if len(path.backends) > MOST_BACKENDS:
        errors.add(
            f"{where}.alternate_backends",
            f"A path splits its traffic between at most {MOST_BACKENDS} Services "
            f"(its own and {MOST_BACKENDS - 1} alternates), not {len(path.backends)}.",
        )
    if problem := split_problem(gateway):
        errors.add(f"{where}.alternate_backends", problem)
    seen = {(path.service, path.port)}
    for k, backend in enumerate(path.alternates):
        at = f"{where}.alternate_backends.{k}"
        errors.check(f"{at}.service", validate_dns1123_label, backend.service)
        errors.check(f"{at}.port", validate_port, backend.port)
        errors.check(f"{at}.weight", validate_weight, backend.weight)
        if (backend.service, backend.port) in seen:
            errors.add(f"{at}.service", f"{backend.service}:{backend.port} is already a backend of this path.")
        seen.add((backend.service, backend.port))
    weights = [backend.weight for backend in path.backends]
    if all(weight == 0 for weight in weights):
        errors.add(
            f"{where}.weight", "Every Service of this path has weight 0: give one a weight, or no request is served."
        )


def split_problem(gateway: Gateway) -> str | None:
    """Why the gateway's routes cannot split a path's traffic by weight, or None: Gateway API
    routes and Traefik IngressRoutes can; an Ingress sends a path to one Service."""
    try:
        if gateway.serves_gateway_api or live.renders_ingress_routes(gateway):
            return None
    except ClusterError as error:
        return f"The cluster could not say whether it serves Traefik's IngressRoute CRD: {error.message}"
    if gateway.flavor == flavors.TRAEFIK:
        return "This cluster does not serve Traefik's IngressRoute CRD, and an Ingress sends a path to one Service."
    return (
        f"{gateway.flavor_info.label} routes are Ingresses, which send a path to one Service: "
        "splitting traffic by weight needs a Traefik gateway."
    )


def rendered_as(gateway: Gateway) -> str:
    """What the gateway's routes become in the cluster, for the policy's Traefik checks."""
    return policy.INGRESS_ROUTE if live.renders_ingress_routes(gateway) else policy.INGRESS


def route_in_reach(user, project_name: str, route_name: str, action: str) -> Route:
    """The route, if `user` can read its project's routes (404 otherwise) and may do `action` (403)."""
    project = perms.in_reach(user, Project, "view_routes", name=project_name)
    route = get_object_or_404(
        Route.objects.with_rules().select_related("gateway__project"), project=project, name=route_name
    )
    route.project = project  # the look-up's instance, which knows the user's roles
    perms.require(user, action, project)
    return route


def serving_gateway(project) -> Gateway:
    """The enabled gateway new routes of the project bind to; refuses when there is none."""
    gateway = enabled_gateway(project)
    if gateway is None:
        raise ValidationError({"gateway": "Enable the project's gateway before creating routes."})
    return gateway


def save_rules(
    pairs: list[tuple[Route, route_spec.RouteSpec]], gateway: Gateway, new: bool = False
) -> list[route_spec.RouteSpec]:
    """Replaces the rules and paths of each (route, spec) with the spec's (`new` routes have none
    yet), and its host claims with theirs, in a handful of statements however many routes there
    are. Returns the specs as saved, generated hosts filled in."""
    routes = [route for route, _ in pairs]
    if not new:
        RouteRule.objects.filter(route__in=routes).delete()
    saved = [spec.with_hosts(hosts.resolved_hosts(spec, route.project.name, gateway)) for route, spec in pairs]
    rules = RouteRule.objects.bulk_create(
        RouteRule(
            route=route,
            position=i,
            host_mode=rule.host_mode,
            host=rule.host,
            protocol=rule.protocol,
            tls_secret=rule.tls_secret,
        )
        for route, spec in zip(routes, saved, strict=True)
        for i, rule in enumerate(spec.rules)
    )
    rule_specs = [rule for spec in saved for rule in spec.rules]
    RoutePath.objects.bulk_create(
        RoutePath(
            rule=row,
            position=j,
            path=path.path,
            path_type=path.path_type,
            service=path.service,
            port_number=path.port if isinstance(path.port, int) else None,
            port_name=path.port if isinstance(path.port, str) else "",
            weight=path.weight,
            alternate_backends=[route_spec.backend_data(backend) for backend in path.alternates],
        )
        for row, rule in zip(rules, rule_specs, strict=True)
        for j, path in enumerate(rule.paths)
    )
    ingress_class = gateway.ingress_class if gateway else ""
    if new:
        claim_new(list(zip(routes, saved, strict=True)), ingress_class)
    else:
        for route, spec in zip(routes, saved, strict=True):
            sync_claims(route, spec, ingress_class)
    return saved


@transaction.atomic
def create_route(project, data: dict, alias: str = "", description: str = "", *, by=None) -> Route:
    gateway = serving_gateway(project)
    spec = route_spec.from_data(data, project.namespace)
    validate_spec(spec, gateway)
    if problem := route_quota_problem(project, 1):
        raise ValidationError({"name": problem})
    if Route.objects.filter(project=project, name=spec.name).exists():
        raise ValidationError(
            {"name": ValidationError(f"A route named {spec.name} already exists in this project.", code="unique")}
        )
    route = Route.objects.create(**new_row(project, gateway, spec, alias, description))
    finish_new_routes([(route, spec)], gateway, by)
    enqueue(reconcile_route, route.pk)
    return route


@transaction.atomic
def create_routes(project, items: list[dict], *, by=None) -> list[tuple[Route, route_spec.RouteSpec]]:
    """Creates several routes of a project together, or none of them (as `kubectl apply -f` of
    many manifests, with every check create_route makes). `items` hold what create_route takes as
    `data`, plus `alias` and `description`. Problems are keyed routes.<index>.<field>. Returns each
    route with its spec as saved (generated hosts filled in), so that the answer needs no reads."""
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError({"routes": f"Give between 1 and {MAX_BATCH} routes."})
    gateway = serving_gateway(project)
    allowances = AnnotationAllowance.as_policy()
    external_names = functools.cache(lambda: live.external_name_services(project.namespace))  # once, if asked
    domains = default_domains()
    errors = Errors()
    specs = [route_spec.from_data(data, project.namespace) for data in items]
    for i, spec in enumerate(specs):
        try:
            validate_spec(spec, gateway, allowances=allowances, external_names=external_names, domains=domains)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.add(f"routes.{i}.{field}", *messages)
    if problem := route_quota_problem(project, len(specs)):
        errors.add("routes", problem)
    taken = set(Route.objects.filter(project=project, name__in=[s.name for s in specs]).values_list("name", flat=True))
    seen = set()
    for i, spec in enumerate(specs):
        if spec.name in taken:
            errors.add(f"routes.{i}.name", f"A route named {spec.name} already exists in this project.")
        elif spec.name in seen:
            errors.add(f"routes.{i}.name", f"{spec.name} is given twice in this batch.")
        seen.add(spec.name)
    errors.raise_any()
    rows = [
        Route(**new_row(project, gateway, spec, data.get("alias", ""), data.get("description", "")))
        for spec, data in zip(specs, items, strict=True)
    ]
    routes = Route.objects.bulk_create(rows)
    saved = finish_new_routes(list(zip(routes, specs, strict=True)), gateway, by)
    enqueue(reconcile_routes, [route.pk for route in routes])
    return list(zip(routes, saved, strict=True))


def route_quota_problem(project, adding: int) -> str | None:
    """Why `adding` more routes do not fit the project's limit, or None. The project's row is locked
    first, so that two requests at once cannot both take the last place."""
    Project.objects.select_for_update().filter(pk=project.pk).first()
    used = Route.objects.filter(project=project, deletion_requested=False).count()
    if not quotas.over(quotas.ROUTES_PER_PROJECT, used, adding):
        return None
    most = quotas.limit(quotas.ROUTES_PER_PROJECT)
    routes = "this one does" if adding == 1 else f"these {adding} do"
    return (
        f"This project has {used} routes and may have at most {most} (a limit the platform sets): "
        f"{routes} not fit. Delete routes first."
    )


def new_row(project, gateway: Gateway, spec: route_spec.RouteSpec, alias: str, description: str) -> dict:
    return {
        "project": project,
        "gateway": gateway,
        "name": spec.name,
        "alias": alias,
        "description": description,
        "annotations": spec.annotations,
        "labels": spec.labels,
    }


def finish_new_routes(
    pairs: list[tuple[Route, route_spec.RouteSpec]], gateway: Gateway, by
) -> list[route_spec.RouteSpec]:
    """What follows new routes' rows: their rules, paths and claims and their audit entries, a
    handful of statements for any number of routes. Returns the specs as saved; the caller queues
    the routes' reconcile."""
    saved = save_rules(pairs, gateway, new=True)
    AuditEntry.objects.bulk_create(
        _audit_entry(by, route, AuditEntry.ADDED, None, snapshot(route, spec))
        for (route, _), spec in zip(pairs, saved, strict=True)
    )
    return saved


def locked(route: Route, expected_generation: int | None) -> Route:
    """The route's row, locked for this transaction; refuses an edit made from a stale copy."""
    route = Route.objects.select_for_update(of=("self",)).select_related("project", "gateway").get(pk=route.pk)
    if expected_generation is not None and expected_generation != route.generation:
        raise stale_edit("route", route.generation, expected_generation)
    return route


@transaction.atomic
def update_route(
    route: Route,
    data: dict,
    alias: str | None = None,
    description: str | None = None,
    *,
    expected_generation: int | None = None,
    by=None,
) -> Route:
    """Replaces the route's rules, annotations and labels (the name never changes)."""
    route = locked(route, expected_generation)
    before = snapshot(route)
    spec = route_spec.from_data({**data, "name": data.get("name", route.name)}, route.namespace)
    if spec.name != route.name:
        raise ValidationError({"name": "A route's name cannot be changed; create a new route instead."})
    gateway = route.gateway or serving_gateway(route.project)
    validate_spec(spec, gateway)
    route.annotations, route.labels = spec.annotations, spec.labels
    if alias is not None:
        route.alias = alias
    if description is not None:
        route.description = description
    route.save(update_fields=["annotations", "labels", "alias", "description"])
    [saved] = save_rules([(route, spec)], gateway)
    _audit(by, route, AuditEntry.CHANGED, before, snapshot(route, saved))
    changed(route)
    return route


def snapshot(route: Route, spec: route_spec.RouteSpec | None = None) -> dict:
    """The route as the audit log keeps it: what a tenant set, not what the cluster reported. `spec`
    is the route's spec when the caller has it, saving a read."""
    spec = spec or route_spec.from_route(route)
    return {"alias": route.alias, "description": route.description, **route_spec.to_data(spec)}


def _audit(by, route: Route, action: str, before: dict | None, after: dict | None) -> None:
    _audit_entry(by, route, action, before, after).save()


def _audit_entry(by, route: Route, action: str, before: dict | None, after: dict | None) -> AuditEntry:
    return audit.entry_for(by, AuditEntry.ROUTE, action, route.name, before=before, after=after, project=route.project)


def comparable(spec: route_spec.RouteSpec) -> dict:
    """A route's data with generated hosts left out and its rules in a fixed order (their order means
    nothing to a controller, and IngressRoutes group them by TLS secret), to tell whether an edit
    changes anything."""
    data = route_spec.to_data(spec)
    for rule in data["rules"]:
        if rule["host_mode"] == "auto":
            rule["host"] = ""
    data["rules"].sort(key=lambda rule: json.dumps(rule, sort_keys=True))
    return data


def same_route(route: Route, data: dict) -> bool:
    return comparable(route_spec.from_route(route)) == comparable(route_spec.from_data(data, route.namespace))


@transaction.atomic
def update_info(
    route: Route, *, alias: str, description: str, expected_generation: int | None = None, by=None
) -> Route:
    route = locked(route, expected_generation)
    before = snapshot(route)
    route.alias, route.description = alias, description
    route.full_clean(exclude=["project", "gateway", "name"])
    route.save(update_fields=["alias", "description"])
    _audit(by, route, AuditEntry.CHANGED, before, snapshot(route))
    return route


@transaction.atomic
def delete_route(route: Route, *, by=None) -> None:
    """Marks the route for deletion; the worker removes its cluster objects, then the row."""
    _audit(by, route, AuditEntry.REMOVED, snapshot(route), None)
    route.deletion_requested = True
    route.save(update_fields=["deletion_requested"])
    changed(route)
