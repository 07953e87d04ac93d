"""The route wizard's and edit dialogs' forms, and how `services.decide`'s problems land on them.

The rules editor posts flat fields (rule-0-host, rule-0-path-1-service, ...); `rules_from_post`
turns them back into the API's shape, and `field_name` maps the services' dotted error paths
(rules.0.paths.1.service) onto those fields, so each error shows beside its input."""

import re

from django import forms
from django.core.exceptions import ValidationError

from console.forms import Action, KeyValueField
from routes import render as route_render
from routes import services
from routes import spec as route_spec
from routes.models import Route
from routes.validators import MOST_BACKENDS

RULE_FIELD = re.compile(r"^rule-(\d+)-(host_mode|host|protocol|tls_secret)$")
PATH_FIELD = re.compile(r"^rule-(\d+)-path-(\d+)-(path|path_type|service|port|weight)$")
BACKEND_FIELD = re.compile(r"^rule-(\d+)-path-(\d+)-backend-(\d+)-(service|port|weight)$")


def empty_path() -> dict:
    return {"path": "/", "path_type": "Prefix", "service": "", "port": "", "weight": "1", "alternate_backends": []}


def empty_backend() -> dict:
    return {"service": "", "port": "", "weight": "1"}


def empty_rule() -> dict:
    return {"host_mode": "auto", "host": "", "protocol": "http", "tls_secret": "", "paths": [empty_path()]}


def rules_from_post(post) -> list[dict]:
    rules: dict[int, dict] = {}
    for key, value in post.items():
        if match := RULE_FIELD.fullmatch(key):
            rules.setdefault(int(match[1]), {"paths": {}})[match[2]] = value.strip()
        elif match := PATH_FIELD.fullmatch(key):
            rule = rules.setdefault(int(match[1]), {"paths": {}})
            rule["paths"].setdefault(int(match[2]), {})[match[3]] = value.strip()
        elif match := BACKEND_FIELD.fullmatch(key):
            rule = rules.setdefault(int(match[1]), {"paths": {}})
            path = rule["paths"].setdefault(int(match[2]), {})
            path.setdefault("backends", {}).setdefault(int(match[3]), {})[match[4]] = value.strip()
    ordered = []
    for index in sorted(rules):
        rule = {**empty_rule(), **{k: v for k, v in rules[index].items() if k != "paths"}}
        rule["paths"] = [posted_path(rules[index]["paths"][j]) for j in sorted(rules[index]["paths"])]
        ordered.append(rule)
    return ordered


def posted_path(fields: dict) -> dict:
    backends = fields.pop("backends", {})
    return {
        **empty_path(),
        **fields,
        "alternate_backends": [{**empty_backend(), **backends[k]} for k in sorted(backends)],
    }


def field_name(dotted: str) -> str:
    """rules.0.paths.1.service -> rule-0-path-1-service; rules.0.host -> rule-0-host."""
    parts = dotted.split(".")
    if parts[0] != "rules" or len(parts) < 2:
        return dotted
    name = f"rule-{parts[1]}"
    if len(parts) >= 4 and parts[2] == "paths":
        name += f"-path-{parts[3]}"
        if len(parts) >= 7 and parts[4] == "alternate_backends":
            return f"{name}-backend-{parts[5]}-{parts[6]}"
        return f"{name}-{parts[4]}" if len(parts) > 4 else name
    return f"{name}-{parts[2]}" if len(parts) > 2 else name


WIZARD_STEPS = ["Basic Info", "Rules", "Advanced"]
STEP_OF_FIELD = {"name": 0, "alias": 0, "description": 0, "annotations": 2, "labels": 2}  # else the rules'

EDITOR_VERBS = {"add-rule", "remove-rule", "add-path", "remove-path", "add-backend", "remove-backend", "refresh"}


def edit_rules(rules: list[dict], action: Action) -> list[dict]:
    """Applies a rules-editor action whose indexes WizardState checked: add-rule, remove-rule (never
    the last), add-path, remove-path (never a rule's last), add-backend (up to MOST_BACKENDS
    Services on a path), remove-backend (the path's weight back to 1 with its last alternate gone),
    refresh (nothing)."""
    rules = [dict(rule, paths=[dict(path) for path in rule["paths"]]) for rule in rules]
    if action.verb in ("add-backend", "remove-backend"):
        path = rules[action.rule]["paths"][action.path]
        alternates = list(path.get("alternate_backends", []))
        if action.verb == "add-backend" and len(alternates) < MOST_BACKENDS - 1:
            alternates.append(empty_backend())
        elif action.verb == "remove-backend":
            alternates.pop(action.backend)
            if not alternates:
                path["weight"] = "1"
        path["alternate_backends"] = alternates
        return rules
    if action.verb == "add-rule":
        rules.append(empty_rule())
    elif action.verb == "remove-rule" and len(rules) > 1:
        rules.pop(action.rule)
    elif action.verb == "add-path":
        rules[action.rule]["paths"].append(empty_path())
    elif action.verb == "remove-path" and len(rules[action.rule]["paths"]) > 1:
        rules[action.rule]["paths"].pop(action.path)
    return rules


class InfoForm(forms.Form):
    alias = forms.CharField(max_length=Route.longest("alias"), required=False)
    description = forms.CharField(
        max_length=Route.longest("description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class BasicForm(InfoForm):
    name = forms.CharField(
        max_length=Route.longest("name"), help_text="Lowercase letters, digits and '-'. Cannot be changed later."
    )
    field_order = ["name", "alias", "description"]


class AdvancedForm(forms.Form):
    annotations = KeyValueField(
        help_text="Pre-filled with what the rules' protocols need on this gateway; yours win over them."
    )
    labels = KeyValueField()


class AnnotationsForm(forms.Form):
    annotations = KeyValueField()


class YamlForm(forms.Form):
    manifest = forms.CharField(widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "false", "class": "code"}))


def on_the_editor(errors: dict[str, list[str]], key: str, messages: list[str]) -> None:
    """Puts a service's message on the rules editor: a rule's or path's beside its input, anything
    else (annotations a stricter policy now refuses, a gateway disabled meanwhile) above the rules,
    naming what it concerns."""
    if key.startswith("rules"):
        errors.setdefault(field_name(key), []).extend(messages)
    else:
        errors.setdefault("rules", []).extend(f"{key}: {message}" for message in messages)


class Wizard:
    """A submitted wizard: its forms, rules and the editor's errors, put where `decide`'s and the
    forms' problems belong."""

    def __init__(self, by, ctx, basic, rules, advanced):
        self.by, self.ctx, self.basic, self.rules, self.advanced = by, ctx, basic, rules, advanced
        self.errors: dict[str, list[str]] = {}

    def forms_valid(self) -> bool:
        return all([self.basic.is_valid(), self.advanced.is_valid()])

    def data(self) -> dict:
        basic = self.basic.cleaned_data if self.basic.is_valid() else {}
        advanced = self.advanced.cleaned_data if self.advanced.is_valid() else {}
        return {
            "name": basic.get("name", self.basic.data.get("name", "")),
            "rules": self.rules,
            "annotations": advanced.get("annotations", {}),
            "labels": advanced.get("labels", {}),
        }

    def valid_through(self, step: int) -> bool:
        """Whether the steps up to `step` hold no problem (a later step's are not shown yet)."""
        self.forms_valid()
        try:
            services.decide(self.ctx, self.data())
        except ValidationError as error:
            self.show(error, through=step)
        return self.first_step_with_errors() > step

    def create(self):
        data = self.data()
        try:
            return services.create_route(
                self.ctx.project,
                data,
                alias=self.basic.cleaned_data["alias"],
                description=self.basic.cleaned_data["description"],
                by=self.by,
                ctx=self.ctx,
            )
        except ValidationError as error:
            self.show(error)
        return None

    def show(self, error: ValidationError, through: int = 2) -> None:
        for key, messages in error.message_dict.items():
            step = STEP_OF_FIELD.get(key, 1)
            if step > through:
                continue
            form = {0: self.basic, 2: self.advanced}.get(step)
            if form is not None:
                if key not in form.errors:  # the form's own check said it first
                    form.add_error(key, messages)
            else:
                on_the_editor(self.errors, key, messages)

    def first_step_with_errors(self) -> int:
        if self.basic.errors:
            return 0
        if self.errors:
            return 1
        return 2 if self.advanced.errors else len(WIZARD_STEPS)


def prefilled(advanced: AdvancedForm, project, rules, gateway) -> AdvancedForm:
    """The Advanced step opens with the annotations the rules' protocols need; the user's own stay."""
    spec = route_spec.from_data({"name": "x", "rules": rules}, project.namespace)
    needed = route_render.protocol_annotations(spec, gateway.flavor)
    mine = advanced.cleaned_data.get("annotations", {}) if advanced.is_valid() else {}
    labels = advanced.cleaned_data.get("labels", {}) if advanced.is_valid() else {}
    return AdvancedForm(initial={"annotations": {**needed, **mine}, "labels": labels})
