from django import forms

from console.forms import KeyValueField
from gateways import flavors
from gateways.models import Gateway


class GatewayForm(forms.ModelForm):
    """The Enable/Edit Gateway wizard: one form, shown a step at a time. Each step is validated on
    the server before the next; the last submit validates everything again."""

    STEPS = [
        ("Access", ["access_mode", "flavor", "route_api", "replicas"]),
        ("Controller", ["service_annotations", "tracing", "config"]),
        ("Addresses", ["default_domain", "external_address"]),
    ]

    service_annotations = KeyValueField(
        label="Service annotations",
        help_text="Added to the gateway's Service, e.g. your cloud's load-balancer settings.",
    )
    config = KeyValueField(
        label="Controller settings",
        suggestions=list(flavors.SETTINGS_HELP),
        help_text="Allowed: " + flavors.settings_help(),
    )

    class Meta:
        model = Gateway
        fields = Gateway.SETTINGS
        widgets = {"access_mode": forms.RadioSelect, "flavor": forms.RadioSelect, "route_api": forms.RadioSelect}
        labels = {"tracing": "Trace requests (OpenTelemetry)"}
        help_texts = {
            "tracing": "The controller starts an OpenTelemetry trace for each request it forwards and passes the "
            "trace context on to the backend. " + flavors.tracing_help(),
            "default_domain": "Generated route hosts become <service>-<project>.<default domain>. The domain becomes "
            "this project's own: no other project may use a name in it.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Left out of a submit (a client that predates it), it keeps what the gateway serves now.
        self.fields["route_api"].required = False

    def clean_route_api(self) -> str:
        return self.cleaned_data.get("route_api") or self.instance.route_api

    def step_errors(self, last_step: int) -> bool:
        """Whether any field of the steps up to `last_step` has an error."""
        fields = {name for _, names in self.STEPS[: last_step + 1] for name in names}
        return any(name in fields for name in self.errors) or bool(self.non_field_errors())

    def first_step_with_errors(self) -> int | None:
        """The first step showing a field with an error, if any: a later step hides it."""
        erring = (index for index, (_, names) in enumerate(self.STEPS) if any(name in self.errors for name in names))
        return next(erring, None)

    def steps(self):
        return [(title, [self[name] for name in names]) for title, names in self.STEPS]

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
