from django import forms
from django.core.exceptions import ValidationError

from tenants.models import Project, Workspace


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Puts a service's ValidationError on the form fields it names (others on the form itself)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class WorkspaceForm(forms.ModelForm):
    admin = forms.CharField(label="Workspace admin", help_text="Username of the first administrator of the workspace.")

    class Meta:
        model = Workspace
        fields = ["name", "alias", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class WorkspaceEditForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["alias", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["name", "alias", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ProjectEditForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ["alias", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class InviteForm(forms.Form):
    username = forms.CharField(label="Member")
    role = forms.ChoiceField()

    def __init__(self, *args, role_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices


class RoleForm(forms.Form):
    role = forms.ChoiceField()

    def __init__(self, *args, role_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(label="Initial password", widget=forms.PasswordInput, strip=False)
    platform_admin = forms.BooleanField(required=False, label="Platform admin")


class UserEditForm(forms.Form):
    email = forms.EmailField(required=False)
    is_active = forms.BooleanField(required=False, label="Active (may log in and use API tokens)")
    platform_admin = forms.BooleanField(required=False, label="Platform admin")


class ConfirmNameForm(forms.Form):
    """Deleting asks for the object's name, typed out."""

    name = forms.CharField(label="Type the name to confirm")

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_name(self):
        name = self.cleaned_data["name"]
        if name != self.expected:
            raise forms.ValidationError(f"Type '{self.expected}' exactly to confirm.")
        return name
