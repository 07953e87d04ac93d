"""Pure checks on tenant names, shared by forms, serializers and models."""

from django.core.exceptions import ValidationError

from console.validators import DNS1123_LABEL

DNS1123_LABEL_MAX = 63
# Namespaces the platform itself uses; a project may never take them over.
RESERVED_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
RESERVED_PREFIXES = ("kube-",)


def validate_dns1123_label(value: str) -> None:
    if not value:
        raise ValidationError("Enter a name.", code="required")
    if len(value) > DNS1123_LABEL_MAX:
        raise ValidationError(f"At most {DNS1123_LABEL_MAX} characters (this one has {len(value)}).", code="max_length")
    if not DNS1123_LABEL.match(value):
        raise ValidationError(
            "Use lowercase letters, digits and '-', starting and ending with a letter or digit.",
            code="bad_value",
        )


def validate_project_name(value: str) -> None:
    validate_dns1123_label(value)
    if value in RESERVED_NAMESPACES or value.startswith(RESERVED_PREFIXES):
        raise ValidationError(f"'{value}' is reserved for the cluster's own namespaces.", code="reserved")
