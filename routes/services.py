"""Route operations, each in one transaction; the API, the wizard and Edit YAML call these.

Bad input raises ValidationError keyed by the field it concerns, as a dotted path into the
route ("rules.0.paths.1.path"), before anything is written."""

import json
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from console import quotas
from console.models import stale_edit
from console.reconcile import changed, enqueue
from console.validators import validate_annotations_size
from gateways import flavors, policy
from gateways.models import AnnotationAllowance, Gateway
from gateways.services import enabled_gateway
from routes import facts as route_facts
from routes import hosts, live
from routes import render as route_render
from routes import spec as route_spec
from routes.claims import default_domains
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

    def add(self, field: str, *messages: str | ValidationError) -> None:
        self.by_field.setdefault(field, []).extend(messages)

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


@dataclass(frozen=True)
class Context:
    """Everything deciding a submitted route depends on besides the route itself, read before any
    transaction opens (`context`): the checks given it are pure."""

    project: Project
    gateway: Gateway
    facts: route_facts.Facts
    allowances: dict = field(default_factory=dict)  # the platform's annotation allowances
    domains: dict = field(default_factory=dict)  # the gateways' default domains, {domain: namespace}
    taken: frozenset[str] = frozenset()  # names of the project's routes


def context(
    project, gateway: Gateway | None = None, facts: route_facts.Facts | None = None, names=(), items=None
) -> Context:
    """What deciding a route of the project needs: one read of each cluster fact (unless the door
    read them already, for its pickers) and of the database's. `names` are those of new routes,
    to be told whether they are taken; `items`, the submitted routes when known: the TLS secrets
    are read only when one of them names TLS."""
    gateway = gateway or serving_gateway(project)
    secrets = items is None or route_facts.names_tls(items)
    return Context(
        project=project,
        gateway=gateway,
        facts=facts if facts is not None else route_facts.read(project.namespace, gateway, secrets),
        allowances=AnnotationAllowance.as_policy(),
        domains=default_domains(),
        taken=frozenset(Route.objects.filter(project=project, name__in=list(names)).values_list("name", flat=True)),
    )


def decide(ctx: Context, data: dict, current: Route | None = None) -> route_spec.RouteSpec:
    """What a submitted route means: the spec to store, normalised (annotations the protocols imply
    with the same value are not stored, so that they follow later rule changes) and checked against
    DESIGN.md section 3, its name and the facts; or a ValidationError keyed by dotted field paths
    ("rules.0.paths.1.service"). `current` is the route an edit replaces. Every door calls this."""
    name = data.get("name", current.name if current else "")
    spec = normalised(route_spec.from_data({**data, "name": name}, ctx.project.namespace), ctx.gateway)
    errors = Errors()
    if current is not None:
        if spec.name != current.name:
            errors.add("name", "A route's name cannot be changed; create a new route instead.")
    elif errors.check("name", validate_route_name, spec.name) and spec.name in ctx.taken:
        errors.add("name", ValidationError(taken_message(spec.name), code="unique"))
    check_spec(errors, spec, ctx)
    errors.raise_any()
    return spec


def taken_message(name: str) -> str:
    return f"A route named {name} already exists in this project."


def normalised(spec: route_spec.RouteSpec, gateway: Gateway) -> route_spec.RouteSpec:
    """The spec without what is not the user's to set: an auto rule's host (the worker derives it)
    and the annotations its protocols imply with the same value."""
    spec = replace(spec, rules=tuple(replace(r, host="") if r.host_mode == "auto" else r for r in spec.rules))
    if not isinstance(spec.annotations, dict):
        return spec
    implied = route_render.protocol_annotations(spec, gateway.flavor) if all_protocols_text(spec) else {}
    kept = {key: value for key, value in spec.annotations.items() if implied.get(key) != value}
    return replace(spec, annotations=kept)


def all_protocols_text(spec: route_spec.RouteSpec) -> bool:
    return all(
        isinstance(rule.protocol, str) and all(isinstance(p.service, str) for p in rule.paths) for rule in spec.rules
    )


def check_spec(errors: Errors, spec: route_spec.RouteSpec, ctx: Context) -> None:
    """Every check of DESIGN.md section 3 on a route's rules, annotations and labels, given the
    facts: a pure function, adding each problem to `errors`."""
    if not spec.rules:
        errors.add("rules", "Add at least one rule.")
    elif quotas.over(quotas.RULES_PER_ROUTE, len(spec.rules), 0):
        most = quotas.limit(quotas.RULES_PER_ROUTE)
        errors.add(
            "rules", f"A route has at most {most} rules (a limit the platform sets); this one has {len(spec.rules)}."
        )
    seen: set = set()
    for i, rule in enumerate(spec.rules):
        check_rule(errors, f"rules.{i}", rule, spec, ctx, seen)
    if ctx.gateway.flavor == flavors.INGRESS_NGINX:
        protocols = {rule.protocol for rule in spec.rules}
        if "grpc" in protocols and protocols != {"grpc"}:
            errors.add(
                "rules",
                "ingress-nginx sets the backend protocol for a whole route: put gRPC rules in a route of their own.",
            )
    renders = policy.INGRESS_ROUTE if ctx.facts.ingress_routes else policy.INGRESS
    if problems := policy.check_annotations(
        spec.annotations, ctx.gateway.flavor, ctx.allowances, renders=lambda: renders
    ):
        errors.add("annotations", *problems)
    errors.check("annotations", validate_annotations_size, spec.annotations)
    errors.check("labels", validate_labels, spec.labels)


def check_rule(errors: Errors, at: str, rule: route_spec.RuleSpec, spec, ctx: Context, seen: set) -> None:
    if not all_text(errors, at, rule, "host_mode", "host", "protocol", "tls_secret"):
        return  # Edit YAML hands over what the document held, a list where a host should be
    if rule.host_mode not in HOST_MODES:
        errors.add(f"{at}.host_mode", f"Choose auto or custom, not '{rule.host_mode}'.")
    elif rule.host_mode == "custom" and errors.check(f"{at}.host", validate_host, rule.host):
        platform = settings.CONSOLE_DEFAULT_DOMAIN
        if problem := hosts.foreign_space_problem(rule.host, spec.namespace, ctx.domains, platform):
            errors.add(f"{at}.host", problem)
    check_protocol(errors, at, rule, ctx.facts)
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
        named = errors.check(f"{where}.service", validate_dns1123_label, path.service)
        if errors.check(f"{where}.port", validate_port, path.port) and named:
            check_in_project(errors, where, path.service, path.port, ctx.facts)
        if alternates_typed:
            check_backends(errors, where, path, ctx)
        key = (rule.host_mode, rule.host if rule.host_mode == "custom" else path.service, path.path)
        if key in seen:
            errors.add(f"{where}.path", f"{path.path} is given twice for the same host.")
        seen.add(key)


def check_protocol(errors: Errors, at: str, rule: route_spec.RuleSpec, facts: route_facts.Facts) -> None:
    if rule.protocol not in PROTOCOLS:
        errors.add(f"{at}.protocol", f"Choose one of {', '.join(PROTOCOLS)}, not '{rule.protocol}'.")
    elif rule.protocol in TLS_PROTOCOLS:
        if not rule.tls_secret:
            errors.add(f"{at}.tls_secret", f"{rule.protocol} needs a TLS secret.")
        elif errors.check(f"{at}.tls_secret", validate_secret_name, rule.tls_secret):
            if facts.tls_secrets is not None and facts.secret(rule.tls_secret) is None:
                # The same words whether the secret is missing or of another kind: they tell nothing
                # of the project's other secrets.
                errors.add(
                    f"{at}.tls_secret",
                    f"There is no usable TLS secret '{rule.tls_secret}' in this project: pick one of type "
                    f"{live.TLS_TYPE} holding a certificate (tls.crt) and its key (tls.key).",
                )
    elif rule.tls_secret:
        errors.add(f"{at}.tls_secret", f"Only https, wss and grpc use a TLS secret; this rule is {rule.protocol}.")


def check_in_project(errors: Errors, at: str, service: str, port, facts: route_facts.Facts) -> None:
    """A backend is a Service of the project, not of type ExternalName, with that port; unchecked
    when the cluster could not list the Services (the worker looks again before it applies)."""
    if facts.services is None:
        return
    found = facts.service(service)
    if found is None:
        errors.add(f"{at}.service", f"There is no Service {service} in this project.")
    elif found["type"] == "ExternalName":
        errors.add(
            f"{at}.service",
            f"Service {service} is of type ExternalName, which no gateway here proxies to: it could reach "
            "addresses outside this project. Pick a Service with pods behind it.",
        )
    elif not live.has_port(found["ports"], port):
        errors.add(f"{at}.port", f"Service {service} has no port {port}.")


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


def check_backends(errors: Errors, where: str, path: route_spec.PathSpec, ctx: Context) -> None:
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
    if problem := route_facts.split_problem(ctx.gateway, ctx.facts):
        errors.add(f"{where}.alternate_backends", problem)
    seen = {(path.service, path.port)}
    for k, backend in enumerate(path.alternates):
        at = f"{where}.alternate_backends.{k}"
        named = errors.check(f"{at}.service", validate_dns1123_label, backend.service)
        if errors.check(f"{at}.port", validate_port, backend.port) and named:
            check_in_project(errors, at, backend.service, backend.port, ctx.facts)
        errors.check(f"{at}.weight", validate_weight, backend.weight)
        if (backend.service, backend.port) in seen:
            errors.add(f"{at}.service", f"{backend.service}:{backend.port} is already a backend of this path.")
        seen.add((backend.service, backend.port))
    weights = [backend.weight for backend in path.backends]
    if all(weight == 0 for weight in weights):
        errors.add(
            f"{where}.weight", "Every Service of this path has weight 0: give one a weight, or no request is served."
        )


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


def save_rules(pairs: list[tuple[Route, route_spec.RouteSpec]], new: bool = False) -> None:
    """Replaces the rules and paths of each (route, spec) with the spec's (`new` routes have none
    yet), in a handful of statements however many routes there are. The hosts the worker derives
    (generated hosts, host claims) follow when it reconciles the routes."""
    routes = [route for route, _ in pairs]
    if not new:
        RouteRule.objects.filter(route__in=routes).delete()
        Route.objects.filter(pk__in=[route.pk for route in routes]).update(rules_changed=timezone.now())
    rules = RouteRule.objects.bulk_create(
        RouteRule(
            route=route,
            position=i,
            host_mode=rule.host_mode,
            host=rule.host,
            protocol=rule.protocol,
            tls_secret=rule.tls_secret,
        )
        for route, spec in pairs
        for i, rule in enumerate(spec.rules)
    )
    rule_specs = [rule for _, spec in pairs for rule in spec.rules]
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


def create_route(
    project, data: dict, alias: str = "", description: str = "", *, by=None, ctx: Context | None = None
) -> Route:
    """Creates a route as `decide` means it. `ctx` is the door's, when it read the facts already."""
    ctx = ctx or context(project, names=[data.get("name")], items=[data])
    spec = decide(ctx, data)
    with transaction.atomic():
        if problem := route_quota_problem(project, 1):
            raise ValidationError({"name": problem})
        if Route.objects.filter(project=project, name=spec.name).exists():  # created since the context was read
            raise ValidationError({"name": ValidationError(taken_message(spec.name), code="unique")})
        route = Route.objects.create(**new_row(project, ctx.gateway, spec, alias, description))
        finish_new_routes([(route, spec)], by)
        enqueue(reconcile_route, route.pk)
    return route


def create_routes(project, items: list[dict], *, by=None) -> list[tuple[Route, route_spec.RouteSpec]]:
    """Creates several routes of a project together, or none of them (as `kubectl apply -f` of
    many manifests, with every check create_route makes, against facts read once). `items` hold
    what create_route takes as `data`, plus `alias` and `description`. Problems are keyed
    routes.<index>.<field>. Returns each route with its spec as saved, so that the answer needs no
    reads."""
    if not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError({"routes": f"Give between 1 and {MAX_BATCH} routes."})
    ctx = context(project, names=[data.get("name") for data in items if isinstance(data, dict)], items=items)
    errors = Errors()
    specs, seen = [], set()
    for i, data in enumerate(items):
        try:
            specs.append(decide(ctx, data))
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.add(f"routes.{i}.{key}", *messages)
            continue
        if specs[-1].name in seen:
            errors.add(f"routes.{i}.name", f"{specs[-1].name} is given twice in this batch.")
        seen.add(specs[-1].name)
    errors.raise_any()
    with transaction.atomic():
        if problem := route_quota_problem(project, len(specs)):
            raise ValidationError({"routes": problem})
        if taken := Route.objects.filter(project=project, name__in=seen).values_list("name", flat=True).first():
            index = [spec.name for spec in specs].index(taken)
            raise ValidationError({f"routes.{index}.name": taken_message(taken)})
        rows = [
            Route(**new_row(project, ctx.gateway, spec, data.get("alias", ""), data.get("description", "")))
            for spec, data in zip(specs, items, strict=True)
        ]
        routes = Route.objects.bulk_create(rows)
        pairs = list(zip(routes, specs, strict=True))
        finish_new_routes(pairs, by)
        enqueue(reconcile_routes, [route.pk for route in routes])
    return pairs


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


def finish_new_routes(pairs: list[tuple[Route, route_spec.RouteSpec]], by) -> None:
    """What follows new routes' rows: their rules and paths and their audit entries, a handful of
    statements for any number of routes. The caller queues the routes' reconcile."""
    save_rules(pairs, new=True)
    AuditEntry.objects.bulk_create(
        _audit_entry(by, route, AuditEntry.ADDED, None, snapshot(route, spec)) for route, spec in pairs
    )


def locked(route: Route, expected_generation: int | None) -> Route:
    """The route's row, locked for this transaction; refuses an edit made from a stale copy."""
    route = Route.objects.select_for_update(of=("self",)).select_related("project", "gateway").get(pk=route.pk)
    if expected_generation is not None and expected_generation != route.generation:
        raise stale_edit("route", route.generation, expected_generation)
    return route


def update_route(
    route: Route,
    data: dict,
    alias: str | None = None,
    description: str | None = None,
    *,
    expected_generation: int | None = None,
    by=None,
    ctx: Context | None = None,
) -> Route:
    """Replaces the route's rules, annotations and labels (the name never changes) as `decide`
    means them. The facts are read before the row is locked."""
    ctx = ctx or context(route.project, route.gateway or serving_gateway(route.project))
    spec = decide(ctx, data, current=route)
    with transaction.atomic():
        route = locked(route, expected_generation)
        stored = route_spec.from_route(route)
        before = snapshot(route, stored)
        route.annotations, route.labels = spec.annotations, spec.labels
        if alias is not None:
            route.alias = alias
        if description is not None:
            route.description = description
        route.save(update_fields=["annotations", "labels", "alias", "description"])
        if stored.rules != spec.rules:  # else the rules keep their rows, and the worker's generated hosts
            save_rules([(route, spec)])
        _audit(by, route, AuditEntry.CHANGED, before, snapshot(route, spec))
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
