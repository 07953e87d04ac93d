"""Form pieces shared by the apps' wizards."""

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
