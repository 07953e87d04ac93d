from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from console import cluster
from console.forms import WizardState
from console.models import is_stale
from console.views import finish
from gateways import crds, flavors, rollout, services
from gateways.forms import GatewayForm
from gateways.models import Gateway, controller_image, suggested_default_domain
from tenants import permissions as perms
from tenants.forms import add_service_errors
from tenants.models import Project
from tenants.views import project_context


def page_context(request, project):
    context = project_context(request, project, "gateway")
    gateway = context["gateway"] = services.gateway_of(project)
    if gateway is not None and gateway.enabled:
        context["missing_crds"] = crds.missing(gateway)
    if gateway is not None and gateway.enabled and gateway.state != "Ready":
        context["pod_events"], context["pod_events_error"] = controller_events(gateway)
    return context


def controller_events(gateway) -> tuple[list[dict], str]:
    """What the kubelet and the scheduler said of the controller's pods lately, for a gateway that
    is not Ready; a note instead when the cluster cannot be asked."""
    try:
        return rollout.recent_events(gateway), ""
    except cluster.ClusterError as error:
        return [], f"The cluster could not list the controller's events: {error.message}"


@login_required
def gateway_page(request, name):
    project = perms.in_reach(request.user, Project, "view_gateway", name=name)
    context = page_context(request, project)
    template = "gateways/partials/gateway_status.html" if request.htmx else "gateways/gateway.html"
    return render(request, template, context)


WIZARD_VERBS = {"back", "next", "save"}
STALE = (
    "Someone else changed this gateway while you had it open; here are its current settings. Make your change again."
)


@login_required
def gateway_wizard(request, name):
    """Enable or edit the gateway, a step at a time (htmx swaps the wizard in the modal). The form
    carries the generation it was opened at, so a save over someone else's change is refused."""
    project = perms.in_reach(request.user, Project, "manage_gateway", name=name)
    gateway = services.gateway_of(project) or Gateway(project=project, generation=0)
    step, problems, generation = 0, [], gateway.generation
    if request.method == "POST":
        form = GatewayForm(request.POST, instance=Gateway(project=project, route_api=gateway.route_api))
        state = WizardState(request.POST, actions=WIZARD_VERBS, default="next", steps=len(GatewayForm.STEPS))
        state.is_valid()
        step, action, problems = state.value("step"), state.value("action"), state.problems
        if state.value("generation") is not None:
            generation = state.value("generation")
        valid = form.is_valid()
        if problems or form.step_errors(step):
            pass
        elif action.verb == "back":
            step = max(step - 1, 0)
        elif step < len(GatewayForm.STEPS) - 1:
            step += 1
        elif valid:
            try:
                services.configure_gateway(project, by=request.user, expected_generation=generation, **form.settings())
            except ValidationError as error:
                if not is_stale(error):
                    add_service_errors(form, error)
                else:
                    gateway = services.gateway_of(project) or Gateway(project=project, generation=0)
                    form, step, generation, problems = GatewayForm(instance=gateway), 0, gateway.generation, [STALE]
            else:
                return back_to_gateway(request, project)
        erring = form.first_step_with_errors()
        if erring is not None and erring < step:
            step = erring
    else:
        if gateway.pk is None:
            gateway.default_domain = suggested_default_domain(project)
        form = GatewayForm(instance=gateway)
    failing = mark_failing_flavors(form, gateway)
    context = {
        "project": project,
        "form": form,
        "step": step,
        "last_step": len(GatewayForm.STEPS) - 1,
        "editing": gateway.pk is not None and gateway.enabled,
        "flavor_notes": {key: flavor.note for key, flavor in flavors.FLAVORS.items() if flavor.note} | failing,
        "generation": generation,
        "problems": problems,
    }
    template = "gateways/partials/wizard.html" if request.htmx else "gateways/wizard_page.html"
    status = 409 if problems == [STALE] else 400 if problems or (form.is_bound and form.errors) else 200
    return render(request, template, context, status=status)


def mark_failing_flavors(form, gateway) -> dict[str, str]:
    """Marks the controllers whose image this cluster's nodes could not get (a gateway of the
    flavor is stuck on it), and does not offer one of them as a new gateway's default."""
    failing = Gateway.flavors_stuck_on_their_image()
    if not failing:
        return {}
    field = form.fields["flavor"]
    field.choices = [
        (key, f"{label} (its image is not available on this cluster)" if key in failing else label)
        for key, label in flavors.FLAVOR_CHOICES
    ]
    if not form.is_bound and not (gateway.pk and gateway.enabled) and form.initial.get("flavor") in failing:
        form.initial["flavor"] = next((key for key in flavors.FLAVORS if key not in failing), form.initial["flavor"])
    return {
        key: f"{flavors.FLAVORS[key].label}: a gateway here waits for its image {controller_image(key)}, "
        "which the cluster's nodes could not get."
        for key in failing
    }


def back_to_gateway(request, project):
    return finish(request, reverse("project-gateway", args=[project.name]))


@login_required
def gateway_disable(request, name):
    project = perms.in_reach(request.user, Project, "manage_gateway", name=name)
    gateway = services.gateway_of(project)
    if gateway is None or not gateway.enabled:
        return redirect("project-gateway", project.name)
    if request.method == "POST":
        services.disable_gateway(gateway, by=request.user)
        return back_to_gateway(request, project)
    template = "gateways/partials/disable_modal.html" if request.htmx else "gateways/disable_page.html"
    return render(request, template, {"project": project, "gateway": gateway})
