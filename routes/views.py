"""Route pages: the list, the three-step Create wizard, the detail page with Click to visit,
and the Edit info / rules / annotations / YAML and Delete dialogs."""

import yaml
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from console import cluster
from console.forms import WizardState
from console.models import is_stale
from console.views import finish
from gateways.services import enabled_gateway
from routes import hosts, live, services, yaml_mapping
from routes import render as route_render
from routes import spec as route_spec
from routes.forms import (
    EDITOR_VERBS,
    AdvancedForm,
    AnnotationsForm,
    BasicForm,
    InfoForm,
    YamlForm,
    edit_rules,
    empty_rule,
    field_name,
    rules_from_post,
)
from routes.models import Route
from routes.validators import HOST_MODES, MOST_BACKENDS, PATH_TYPES, PROTOCOLS, TLS_PROTOCOLS, validate_route_name
from tenants import permissions as perms
from tenants.forms import ConfirmNameForm, add_service_errors
from tenants.models import Project
from tenants.views import project_context

WIZARD_STEPS = ["Basic Info", "Rules", "Advanced"]
WIZARD_VERBS = {"next", "back", "create", *EDITOR_VERBS}
STALE = "Someone else changed this route while you had it open; here is the current version. Make your change again."


# The list


ROUTES_PER_PAGE = 50


@login_required
def route_list(request, name):
    project = perms.in_reach(request.user, Project, "view_routes", name=name)
    search = request.GET.get("q", "").strip()
    routes = Route.objects.filter(project=project).search(search).listed(paths=False)
    page = Paginator(routes, ROUTES_PER_PAGE).get_page(request.GET.get("page"))
    context = project_context(request, project, "routes")
    context.update(
        routes=page,
        page=page,
        search=search,
        gateway=enabled_gateway(project),
        polling=any(not route.settled for route in page),
    )
    template = "routes/partials/route_rows.html" if request.htmx else "routes/route_list.html"
    return render(request, template, context)


# The rules editor, shared by the wizard and the Edit rules dialog


def live_choices(project):
    """The project's Services and TLS secrets for the pickers, and a warning when the cluster
    cannot be asked."""
    try:
        return live.services(project.namespace), live.tls_secrets(project.namespace), ""
    except cluster.ClusterError as error:
        return [], [], f"The cluster could not list this project's Services and secrets: {error.message}"


def rule_views(project, gateway, rules: list[dict], errors: dict, services_live, secrets_live) -> list[dict]:
    """What the editor shows for each rule: its values, pickers, generated host and warnings."""
    ports_of = {s["name"]: s["ports"] for s in services_live}
    views = []
    for i, rule in enumerate(rules):
        first_service = rule["paths"][0]["service"] if rule["paths"] else ""
        generated = hosts.auto_host(first_service, project.name, gateway) if rule["host_mode"] == "auto" else ""
        host = generated if rule["host_mode"] == "auto" else rule["host"]
        secret = next((s for s in secrets_live if s["name"] == rule["tls_secret"]), None)
        warnings = []
        if rule["protocol"] in TLS_PROTOCOLS and secret:
            if host and not live.covers(secret["dns_names"], host):
                warnings.append(f"The certificate of {secret['name']} does not cover {host}.")
            if live.expired(secret["not_after"]):
                warnings.append(f"The certificate of {secret['name']} expired on {secret['not_after'][:10]}.")
        views.append(
            {
                "index": i,
                "values": rule,
                "prefix": f"rule-{i}",
                "generated_host": generated,
                "needs_secret": rule["protocol"] in TLS_PROTOCOLS,
                "warnings": warnings,
                "errors": {
                    key: errors.get(f"rule-{i}-{key}", [])
                    for key in ("host_mode", "host", "protocol", "tls_secret", "paths")
                },
                "paths": [
                    path_view(f"rule-{i}-path-{j}", j, path, errors, ports_of) for j, path in enumerate(rule["paths"])
                ],
            }
        )
    return views


def path_view(prefix: str, index: int, path: dict, errors: dict, ports_of: dict) -> dict:
    """A path of the editor: its values, its Service's ports, its alternate backends and errors."""
    alternates = path.get("alternate_backends", [])
    share = shares([path.get("weight"), *(backend.get("weight") for backend in alternates)])
    return {
        "index": index,
        "values": path,
        "prefix": prefix,
        "ports": ports_of.get(path["service"], []),
        "errors": {
            key: errors.get(f"{prefix}-{key}", [])
            for key in ("path", "path_type", "service", "port", "weight", "alternate_backends")
        },
        "alternates": [
            {
                "index": k,
                "values": backend,
                "prefix": f"{prefix}-backend-{k}",
                "ports": ports_of.get(backend.get("service"), []),
                "errors": {key: errors.get(f"{prefix}-backend-{k}-{key}", []) for key in ("service", "port", "weight")},
                "share": share[k + 1],
            }
            for k, backend in enumerate(alternates)
        ],
        "can_add_backend": len(alternates) < MOST_BACKENDS - 1,
        "share": share[0],
    }


def shares(weights: list) -> list[str]:
    """Each weight's share of the requests, as the editor shows it beside the weights ("80%")."""
    numbers = [route_spec.number_value(weight) for weight in weights]
    if not all(isinstance(n, int) for n in numbers) or not sum(numbers):
        return ["" for _ in weights]
    return [f"{round(100 * n / sum(numbers))}%" for n in numbers]


def rules_errors(project, gateway, rules: list[dict], services_live) -> dict[str, list[str]]:
    """The rules' problems by editor field: the services' checks, plus the wizard's own rule that
    every Service and port must exist already."""
    spec = route_spec.from_data({"name": "x", "rules": rules}, project.namespace)
    errors: dict[str, list[str]] = {}
    try:
        services.validate_spec(spec, gateway)
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            if key.startswith("rules"):
                errors.setdefault(field_name(key), []).extend(messages)
    ports_of = {s["name"]: s["ports"] for s in services_live}
    for i, rule in enumerate(spec.rules):
        for j, path in enumerate(rule.paths):
            for k, backend in enumerate(path.backends):
                at = f"rule-{i}-path-{j}" + (f"-backend-{k - 1}" if k else "")
                if not backend.service or errors.get(f"{at}-service"):
                    continue
                if backend.service not in ports_of:
                    errors.setdefault(f"{at}-service", []).append(
                        f"There is no Service {backend.service} in this project."
                    )
                elif not any(
                    p["port"] == backend.port or (p["name"] and p["name"] == backend.port)
                    for p in ports_of[backend.service]
                ):
                    errors.setdefault(f"{at}-port", []).append(f"Service {backend.service} has no port {backend.port}.")
    return errors


def on_the_editor(errors: dict[str, list[str]], key: str, messages: list[str]) -> None:
    """Puts a service's message on the rules editor: a rule's or path's beside its input, anything
    else (annotations a stricter policy now refuses, a gateway disabled meanwhile) above the rules,
    naming what it concerns."""
    if key.startswith("rules"):
        errors.setdefault(field_name(key), []).extend(messages)
    else:
        errors.setdefault("rules", []).extend(f"{key}: {message}" for message in messages)


def editor_context(project, gateway, rules, errors):
    services_live, secrets_live, trouble = live_choices(project)
    return {
        "rules": rule_views(project, gateway, rules, errors, services_live, secrets_live),
        "can_split": services.split_problem(gateway) is None,
        "services_live": services_live,
        "secrets_live": secrets_live,
        "live_trouble": trouble,
        "rule_errors": errors.get("rules", []),
        "host_modes": HOST_MODES,
        "protocols": PROTOCOLS,
        "path_types": PATH_TYPES,
    }


def advanced_errors(form: AdvancedForm, spec, gateway) -> None:
    try:
        services.validate_spec(spec, gateway, check_cluster=False)
    except ValidationError as error:
        for key in ("annotations", "labels"):
            for message in error.message_dict.get(key, []):
                form.add_error(key, message)


# The Create wizard


@login_required
def route_create(request, name):
    project = perms.in_reach(request.user, Project, "create_route", name=name)
    gateway = enabled_gateway(project)
    if gateway is None:
        return redirect("project-routes", project.name)
    step, errors, problems = 0, {}, []
    if request.method == "POST":
        basic, advanced = BasicForm(request.POST), AdvancedForm(request.POST)
        rules = rules_from_post(request.POST) or [empty_rule()]
        state = WizardState(request.POST, actions=WIZARD_VERBS, default="next", steps=len(WIZARD_STEPS), rules=rules)
        step, action, problems = state.value("step"), state.value("action"), state.problems
        if problems:
            pass  # shown above the step, nothing else is done
        elif action.verb in EDITOR_VERBS:
            rules = edit_rules(rules, action)
        elif action.verb == "back":
            step = max(step - 1, 0)
        else:
            valid = step_valid(
                project, gateway, basic, rules, advanced, errors, through=step if action.verb == "next" else 2
            )
            if valid and action.verb == "next" and step < len(WIZARD_STEPS) - 1:
                step += 1
                if step == 2:
                    advanced = prefilled(advanced, project, rules, gateway)
            elif valid and action.verb == "create":
                created = create(request.user, project, gateway, basic, rules, advanced, errors)
                if created:
                    return finish(request, reverse("route-detail", args=[project.name, created.name]))
                step = first_step_with_errors(basic, advanced, errors)
    else:
        basic, advanced, rules = BasicForm(), AdvancedForm(), [empty_rule()]
    context = project_context(request, project, "routes")
    context.update(
        editor_context(project, gateway, rules, errors),
        gateway=gateway,
        basic=basic,
        advanced=advanced,
        step=step,
        steps=WIZARD_STEPS,
        last_step=len(WIZARD_STEPS) - 1,
        problems=problems,
    )
    status = 400 if problems or errors or basic.errors or advanced.errors else 200
    template = "routes/partials/wizard.html" if request.htmx else "routes/wizard.html"
    return render(request, template, context, status=status)


def step_valid(project, gateway, basic, rules, advanced, errors, through: int) -> bool:
    ok = True
    if basic.is_valid():
        name = basic.cleaned_data["name"]
        try:
            validate_route_name(name)
        except ValidationError as error:
            basic.add_error("name", error)
        if Route.objects.filter(project=project, name=name).exists():
            basic.add_error("name", f"A route named {name} already exists in this project.")
    if basic.errors:
        return False
    if through >= 1:
        errors.update(rules_errors(project, gateway, rules, live_choices(project)[0]))
        ok = not errors
    if through >= 2 and ok:
        if advanced.is_valid():
            spec = route_spec.from_data(
                {"name": basic.cleaned_data["name"], "rules": rules, **advanced.cleaned_data}, project.namespace
            )
            advanced_errors(advanced, spec, gateway)
        ok = not advanced.errors
    return ok


def prefilled(advanced: AdvancedForm, project, rules, gateway) -> AdvancedForm:
    """The Advanced step opens with the annotations the rules' protocols need; the user's own stay."""
    spec = route_spec.from_data({"name": "x", "rules": rules}, project.namespace)
    needed = route_render.protocol_annotations(spec, gateway.flavor)
    mine = advanced.cleaned_data.get("annotations", {}) if advanced.is_valid() else {}
    labels = advanced.cleaned_data.get("labels", {}) if advanced.is_valid() else {}
    return AdvancedForm(initial={"annotations": {**needed, **mine}, "labels": labels})


def user_annotations(annotations: dict, rules, project, gateway) -> dict:
    """Annotations minus those the protocols imply with the same value: those are not stored,
    so that they follow later rule changes."""
    spec = route_spec.from_data({"name": "x", "rules": rules}, project.namespace)
    implied = route_render.protocol_annotations(spec, gateway.flavor)
    return {k: v for k, v in annotations.items() if implied.get(k) != v}


def create(by, project, gateway, basic, rules, advanced, errors):
    data = {
        "name": basic.cleaned_data["name"],
        "rules": rules,
        "annotations": user_annotations(advanced.cleaned_data["annotations"], rules, project, gateway),
        "labels": advanced.cleaned_data["labels"],
    }
    try:
        return services.create_route(
            project,
            data,
            alias=basic.cleaned_data["alias"],
            description=basic.cleaned_data["description"],
            by=by,
        )
    except ValidationError as error:
        for key, messages in error.message_dict.items():
            if key == "name":
                basic.add_error("name", messages)
            elif key in ("annotations", "labels"):
                advanced.add_error(key, messages)
            else:
                on_the_editor(errors, key, messages)
    return None


def first_step_with_errors(basic, advanced, errors) -> int:
    if basic.errors:
        return 0
    if errors:
        return 1
    return 2


# The detail page


def rule_rows(route: Route) -> list[dict]:
    """A row per rule path, with its Click-to-visit address or why there is none."""
    urls = list(route.urls)
    reason = unavailable_reason(route)
    rows, index = [], 0
    for rule in route.rules.all():
        for path in rule.paths.all():
            entry = urls[index] if index < len(urls) else {}
            index += 1
            url = entry.get("url", "") if not reason else ""
            why = reason or ("" if url else no_url_reason(rule))
            rows.append({"rule": rule, "path": path, "url": url, "dial": rule.protocol == "grpc", "why": why})
    return rows


def unavailable_reason(route: Route) -> str:
    if route.deletion_requested:
        return "The route is being deleted."
    if route.gateway is None or not route.gateway.enabled:
        return "The project's gateway is disabled."
    admitted = route.condition("Admitted")
    if admitted and admitted["status"] == "False":
        return f"Not admitted: {admitted['message']}"
    if not route.in_sync:
        return "Waiting for the cluster to apply the latest change."
    return ""


def no_url_reason(rule) -> str:
    if rule.host.startswith("*."):
        return "A wildcard host cannot be visited; use one of the names it covers."
    if not rule.host:
        return "The host is generated once the gateway has an address."
    return "The gateway has no address or port for this protocol yet."


def route_events(route: Route) -> tuple[list[dict], str]:
    selector = f"involvedObject.name={route.name},involvedObject.kind=Ingress"
    try:
        events = cluster.request(
            "GET", cluster.kind_of("v1", "Event").path(route.namespace), query=[("fieldSelector", selector)]
        ).get("items", [])
    except cluster.ClusterError as error:
        return [], f"Events could not be read: {error.message}"
    events.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "", reverse=True)
    return events[:10], ""


@login_required
def route_detail(request, name, route):
    found = services.route_in_reach(request.user, name, route, "view_routes")
    context = project_context(request, found.project, "routes")
    context.update(route=found, rows=rule_rows(found), gateway=found.gateway)
    if request.htmx:
        return render(request, "routes/partials/route_status.html", context)
    context["events"], context["events_trouble"] = route_events(found)
    return render(request, "routes/route_detail.html", context)


@login_required
def route_gateway_api_preview(request, name, route):
    """The route as Gateway API objects, read-only: what serving it through the Gateway API would
    apply, whatever its gateway serves today."""
    found = services.route_in_reach(request.user, name, route, "view_routes")
    manifests, notes = yaml_mapping.gateway_api_preview(found)
    text = yaml.safe_dump_all(manifests, sort_keys=False)
    return render(request, "routes/partials/gateway_api_preview.html", {"route": found, "text": text, "notes": notes})


# The dialogs


DIALOGS = {
    "edit_info.html": ("Edit Info", "route-edit-info", {}),
    # The rules editor gets the room the wizard's rules step has.
    "edit_rules.html": ("Edit Rules", "route-edit-rules", {"size": "rules-editor"}),
    "edit_annotations.html": ("Edit Annotations", "route-edit-annotations", {"size": "wide"}),
    "edit_yaml.html": ("Edit YAML", "route-edit-yaml", {"size": "wide"}),
    "delete.html": ("Delete Route", "route-delete", {"danger": True, "submit": "Delete"}),
}


def dialog(request, template, context, status=200):
    """A route's dialog. Edit forms carry the generation they were opened at (the route's, unless
    the context holds the one a refused submit brought), so that a save can tell it is stale."""
    title, url_name, extra = DIALOGS[template]
    route = context["route"]
    action = reverse(url_name, args=[route.project.name, route.name])
    context = {**context, **extra, "title": f"{title}: {route.name}", "action": action}
    if context.get("generation") is None:
        context["generation"] = route.generation
    return render(request, f"routes/partials/{template}", context, status=status)


def dialog_state(request, rules: list[dict] | None = None) -> WizardState:
    """What an edit dialog's submit asked for: Save (or a rules-editor action) and the generation."""
    actions = {"save", *EDITOR_VERBS} if rules is not None else {"save"}
    state = WizardState(request.POST, actions=actions, default="save", rules=rules)
    state.is_valid()
    return state


def reopened(request, name, route_name, template, context_for):
    """The dialog again, after someone else's change won: the current route, its current values
    and generation, and the message saying so. Nothing of the refused submit was written."""
    current = services.route_in_reach(request.user, name, route_name, "edit_route")
    return dialog(request, template, {**context_for(current), "problems": [STALE]}, status=409)


def edit_dialog(request, found: Route, template: str, context_for, save, show_error):
    """The route's form dialogs (Edit info, annotations, YAML): `context_for(route, data)` builds the
    dialog with its "form", `save(form_data, expected_generation)` stores it, `show_error(form,
    error)` puts a service's refusal on the form. A save over someone else's change re-opens the
    dialog on the current route."""
    context = context_for(found, request.POST or None)
    form = context["form"]
    if request.method == "POST":
        state = dialog_state(request)
        context.update(generation=state.value("generation"), problems=state.problems)
        if form.is_valid() and not state.problems:
            try:
                save(form.cleaned_data, state.value("generation"))
            except ValidationError as error:
                if is_stale(error):
                    return reopened(request, found.project.name, found.name, template, context_for)
                show_error(form, error)
            else:
                return finish(request, reverse("route-detail", args=[found.project.name, found.name]))
    bad = form.errors or context.get("problems")
    return dialog(request, template, context, status=400 if bad else 200)


@login_required
def route_edit_info(request, name, route):
    found = services.route_in_reach(request.user, name, route, "edit_route")

    def context_for(current, data=None):
        initial = {"alias": current.alias, "description": current.description}
        return {"route": current, "form": InfoForm(data, initial=initial)}

    def save(data, generation):
        services.update_info(found, by=request.user, expected_generation=generation, **data)

    return edit_dialog(request, found, "edit_info.html", context_for, save, add_service_errors)


@login_required
def route_edit_rules(request, name, route):
    found = services.route_in_reach(request.user, name, route, "edit_route")
    gateway = found.gateway or enabled_gateway(found.project)

    def context_for(current, rules=None, errors=None):
        rules = rules or route_spec.to_data(route_spec.from_route(current))["rules"]
        return {"route": current, **editor_context(current.project, gateway, rules, errors or {})}

    if request.method != "POST":
        return dialog(request, "edit_rules.html", context_for(found))
    rules = rules_from_post(request.POST) or [empty_rule()]
    state = dialog_state(request, rules)
    errors: dict[str, list[str]] = {}
    action = state.value("action")
    if state.problems:
        pass
    elif action.verb in EDITOR_VERBS:
        rules = edit_rules(rules, action)
    else:
        errors = rules_errors(found.project, gateway, rules, live_choices(found.project)[0])
        if not errors:
            data = {"rules": rules, "annotations": found.annotations, "labels": found.labels}
            try:
                services.update_route(found, data, expected_generation=state.value("generation"), by=request.user)
            except ValidationError as error:
                if is_stale(error):
                    return reopened(request, name, route, "edit_rules.html", context_for)
                for key, messages in error.message_dict.items():
                    on_the_editor(errors, key, messages)
            else:
                return finish(request, reverse("route-detail", args=[name, found.name]))
    context = {**context_for(found, rules, errors), "generation": state.value("generation"), "problems": state.problems}
    return dialog(request, "edit_rules.html", context, status=400 if errors or state.problems else 200)


@login_required
def route_edit_annotations(request, name, route):
    found = services.route_in_reach(request.user, name, route, "edit_route")
    gateway = found.gateway or enabled_gateway(found.project)

    def context_for(current, data=None):
        implied = route_render.protocol_annotations(route_spec.from_route(current), gateway.flavor) if gateway else {}
        form = AnnotationsForm(data, initial={"annotations": {**implied, **current.annotations}})
        return {"route": current, "form": form}

    def save(data, generation):
        rules = route_spec.to_data(route_spec.from_route(found))["rules"]
        annotations = user_annotations(data["annotations"], rules, found.project, gateway)
        changed = {"rules": rules, "annotations": annotations, "labels": found.labels}
        services.update_route(found, changed, expected_generation=generation, by=request.user)

    def show_error(form, error):
        for message in error.message_dict.get("annotations", error.messages):
            form.add_error("annotations", message)

    return edit_dialog(request, found, "edit_annotations.html", context_for, save, show_error)


@login_required
def route_edit_yaml(request, name, route):
    found = services.route_in_reach(request.user, name, route, "edit_route")
    gateway = found.gateway or enabled_gateway(found.project)
    shown_as = yaml_mapping.edited_form(gateway)

    def context_for(current, data=None):
        shown = yaml_mapping.manifest_yaml(current, gateway, shown_as)
        return {"route": current, "form": YamlForm(data, initial={"manifest": shown}), "shown_as": shown_as}

    def save(data, generation):
        edited = yaml_mapping.route_data(data["manifest"], found, gateway, shown_as)
        if not services.same_route(found, edited):
            services.update_route(found, edited, expected_generation=generation, by=request.user)

    def show_error(form, error):
        for key, messages in error.message_dict.items():
            form.add_error("manifest", [m if key == "manifest" else f"{key}: {m}" for m in messages])

    return edit_dialog(request, found, "edit_yaml.html", context_for, save, show_error)


@login_required
def route_delete(request, name, route):
    found = services.route_in_reach(request.user, name, route, "delete_route")
    form = ConfirmNameForm(request.POST or None, expected=found.name)
    if request.method == "POST" and form.is_valid():
        services.delete_route(found, by=request.user)
        return finish(request, reverse("project-routes", args=[name]))
    return dialog(request, "delete.html", {"route": found, "form": form}, status=400 if form.errors else 200)
