"""Route pages: the list, the three-step Create wizard, the detail page with Click to visit,
and the Edit info / rules / annotations / YAML and Delete dialogs."""

import yaml
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse

from console.forms import WizardState
from console.models import is_stale
from console.views import finish
from gateways.services import enabled_gateway
from routes import facts as route_facts
from routes import live, presenters, services, yaml_mapping
from routes import render as route_render
from routes import spec as route_spec
from routes.dialogs import dialog, dialog_state, edit_dialog, reopened
from routes.forms import (
    EDITOR_VERBS,
    WIZARD_STEPS,
    AdvancedForm,
    AnnotationsForm,
    BasicForm,
    InfoForm,
    Wizard,
    YamlForm,
    edit_rules,
    empty_rule,
    on_the_editor,
    prefilled,
    rules_from_post,
)
from routes.models import Route
from routes.presenters import editor_context
from tenants import permissions as perms
from tenants.forms import ConfirmNameForm, add_service_errors
from tenants.models import Project
from tenants.views import project_context

WIZARD_VERBS = {"next", "back", "create", *EDITOR_VERBS}


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


# The Create wizard: each step shows the problems `services.decide` finds in its fields.


@login_required
def route_create(request, name):
    project = perms.in_reach(request.user, Project, "create_route", name=name)
    gateway = enabled_gateway(project)
    if gateway is None:
        return redirect("project-routes", project.name)
    facts = route_facts.read(project.namespace, gateway)  # once, for the pickers and the checks
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
            name = request.POST.get("name", "")
            ctx = services.context(project, gateway, facts, names=[name, name.strip()])
            wizard = Wizard(request.user, ctx, basic, rules, advanced)
            if action.verb == "create" and wizard.forms_valid():
                created = wizard.create()
                if created:
                    return finish(request, reverse("route-detail", args=[project.name, created.name]))
            elif action.verb == "next" and wizard.valid_through(step) and step < len(WIZARD_STEPS) - 1:
                step += 1
                advanced = prefilled(advanced, project, rules, gateway) if step == 2 else advanced
            step = min(step, wizard.first_step_with_errors())
            errors = wizard.errors
    else:
        basic, advanced, rules = BasicForm(), AdvancedForm(), [empty_rule()]
    context = project_context(request, project, "routes")
    context.update(
        editor_context(project, gateway, rules, errors, facts),
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


# The detail page


@login_required
def route_detail(request, name, route):
    found = services.route_in_reach(request.user, name, route, "view_routes")
    context = project_context(request, found.project, "routes")
    context.update(route=found, rows=presenters.rule_rows(found), gateway=found.gateway)
    if request.htmx:
        return render(request, "routes/partials/route_status.html", context)
    context["events"], context["events_trouble"] = live.route_events(found)
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
    facts = route_facts.read(found.namespace, gateway)  # once, for the pickers and the checks

    def context_for(current, rules=None, errors=None):
        rules = rules or route_spec.to_data(route_spec.from_route(current))["rules"]
        return {"route": current, **editor_context(current.project, gateway, rules, errors or {}, facts)}

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
        data = {"rules": rules, "annotations": found.annotations, "labels": found.labels}
        try:
            ctx = services.context(found.project, gateway, facts)  # refuses without an enabled gateway
            services.update_route(found, data, expected_generation=state.value("generation"), by=request.user, ctx=ctx)
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
        edited = {"rules": rules, "annotations": data["annotations"], "labels": found.labels}
        services.update_route(found, edited, expected_generation=generation, by=request.user)

    def show_error(form, error):
        for key, messages in error.message_dict.items():
            form.add_error("annotations", [m if key == "annotations" else f"{key}: {m}" for m in messages])

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
