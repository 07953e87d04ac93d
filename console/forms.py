"""Form pieces shared by the apps' wizards."""

import re
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError


class KeyValueWidget(forms.Widget):
    """Rows of key and value inputs, posted as NAME-key and NAME-value lists; the browser can add
    rows (static/console.js), the server reads them all back in order."""

    template_name = "partials/key_value_widget.html"

    def __init__(self, attrs=None, suggestions=None):
        super().__init__(attrs)
        self.suggestions = suggestions or []

    def value_from_datadict(self, data, files, name):
        keys = data.getlist(f"{name}-key") if hasattr(data, "getlist") else []
        values = data.getlist(f"{name}-value") if hasattr(data, "getlist") else []
        return list(zip(keys, values + [""] * (len(keys) - len(values)), strict=False))

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-key" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        pairs = value.items() if isinstance(value, dict) else (value or [])
        context["widget"]["pairs"] = [(key, val) for key, val in pairs]
        context["widget"]["suggestions"] = self.suggestions
        return context


class KeyValueField(forms.Field):
    """A dict of text keys to text values, entered as rows; blank rows are ignored."""

    widget = KeyValueWidget

    def __init__(self, *args, suggestions=None, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.suggestions = suggestions or []

    def to_python(self, value):
        if isinstance(value, dict):
            return dict(value)
        result = {}
        for key, val in value or []:
            key, val = key.strip(), val.strip()
            if not key and not val:
                continue
            if not key:
                raise ValidationError(f"The value '{val}' needs a key.", code="required")
            if key in result:
                raise ValidationError(f"'{key}' is given twice.", code="duplicate")
            result[key] = val
        return result

    def prepare_value(self, value):
        return value


@dataclass(frozen=True)
class Action:
    """A wizard or editor button: its verb and the rule and path it points at, if any."""

    verb: str
    rule: int | None = None
    path: int | None = None
    backend: int | None = None


ACTION = re.compile(
    r"(?P<verb>[a-z]+(?:-[a-z]+)?)"
    r"(?:-(?P<rule>[0-9]{1,3})(?:-(?P<path>[0-9]{1,3})(?:-(?P<backend>[0-9]{1,3}))?)?)?"
)
# Verbs that point at a rule, at a path of a rule, and at an alternate backend of a path.
RULE_VERBS = {"remove-rule", "add-path"}
PATH_VERBS = {"remove-path", "add-backend"}
BACKEND_VERBS = {"remove-backend"}


class WizardState(forms.Form):
    """Where a wizard or an edit dialog is and what its button asked for, read from the request and
    checked like any other input: a step the wizard has, an action the page offers (with indexes of
    rules and paths that exist), and the generation an edit form was opened at (0: before the object
    existed). Both wizards and the edit dialogs read their state through it."""

    step = forms.IntegerField(required=False, min_value=0)
    action = forms.CharField(required=False, max_length=32)
    generation = forms.IntegerField(required=False, min_value=0)

    def __init__(self, data, *, actions: set[str], default: str, steps: int = 1, rules: list[dict] | None = None):
        super().__init__(data)
        self.verbs, self.default, self.steps, self.rules = actions, default, steps, rules or []

    def clean_step(self) -> int:
        step = self.cleaned_data["step"] or 0
        if step >= self.steps:
            raise ValidationError(f"This wizard has no step {step + 1}; it starts again from the first.")
        return step

    def clean_action(self) -> Action:
        text = self.cleaned_data["action"] or self.default
        match = ACTION.fullmatch(text)
        verb = match["verb"] if match else ""
        indexes = tuple(int(match[part]) for part in ("rule", "path", "backend") if match and match[part] is not None)
        wanted = 3 if verb in BACKEND_VERBS else 2 if verb in PATH_VERBS else 1 if verb in RULE_VERBS else 0
        if verb not in self.verbs or len(indexes) != wanted:
            raise ValidationError(f"'{text}' is not something this form can do.")
        action = Action(verb, *indexes)
        if action.rule is not None and action.rule >= len(self.rules):
            raise ValidationError(f"There is no rule {action.rule + 1} (any more).")
        if action.path is not None and action.path >= len(self.rules[action.rule]["paths"]):
            raise ValidationError(f"Rule {action.rule + 1} has no path {action.path + 1} (any more).")
        if action.backend is not None:
            alternates = self.rules[action.rule]["paths"][action.path].get("alternate_backends", [])
            if action.backend >= len(alternates):
                raise ValidationError(f"That path has no alternate backend {action.backend + 1} (any more).")
        return action

    @property
    def problems(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]

    def value(self, name: str):
        """The checked value of a field, or its fallback when the request's was refused."""
        if self.is_valid() or name in self.cleaned_data:
            return self.cleaned_data[name]
        return {"step": 0, "action": Action(self.default), "generation": None}[name]
