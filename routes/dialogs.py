"""A route's dialogs (Edit info, rules, annotations, YAML and Delete): how they open, what their
submit asked for, and a save over someone else's change, which re-opens the dialog on the current
route."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse

from console.forms import WizardState
from console.models import is_stale
from console.views import finish
from routes import services
from routes.forms import EDITOR_VERBS
from routes.models import Route

STALE = "Someone else changed this route while you had it open; here is the current version. Make your change again."

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
