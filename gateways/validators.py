"""Pure checks on a gateway's settings, shared by the wizard, the API and the model."""

from django.core.exceptions import ValidationError

from console.validators import is_number, validate_annotations_size
from gateways import flavors, policy

MIN_REPLICAS, MAX_REPLICAS = 1, 10
SECONDS = (1, 3600)
ANNOTATION_VALUE_MAX = 4096


def validate_replicas(value: int) -> None:
    if not MIN_REPLICAS <= value <= MAX_REPLICAS:
        raise ValidationError(f"Replicas must be between {MIN_REPLICAS} and {MAX_REPLICAS}.", code="range")


def validate_service_annotations(annotations) -> None:
    """Shape and size; keys and values pass the annotation policy in Gateway.clean, which knows
    the flavor."""
    if not isinstance(annotations, dict):
        raise ValidationError("Annotations must be key/value pairs.", code="bad_value")
    for key, value in annotations.items():
        if not isinstance(value, str):
            raise ValidationError(f"The value of '{key}' must be text.", code="bad_value")
        if len(value) > ANNOTATION_VALUE_MAX:
            raise ValidationError(
                f"The value of '{key}' has {len(value)} characters; at most {ANNOTATION_VALUE_MAX} are allowed.",
                code="max_length",
            )
    validate_annotations_size(annotations)


def validate_setting(flavor: flavors.Flavor, key: str, value) -> None:
    if key not in flavors.SETTINGS_HELP:
        allowed = ", ".join(flavors.SETTINGS_HELP)
        raise ValidationError(f"'{key}' is not a setting the console allows. Allowed: {allowed}.", code="not_allowed")
    if key not in flavor.settings:
        raise ValidationError(f"{flavor.label} does not support the setting '{key}'.", code="not_supported")
    text = str(value)
    if key == flavors.SETTING_BODY_SIZE:
        policy.body_size(text)
        return
    if not is_number(text) or not SECONDS[0] <= int(text) <= SECONDS[1]:
        raise ValidationError(
            f"'{key}' must be a whole number of seconds from 1 to 3600, not '{text}'.", code="bad_value"
        )


def validate_config(flavor_key: str, config) -> None:
    if not isinstance(config, dict):
        raise ValidationError("Settings must be key/value pairs.", code="bad_value")
    flavor = flavors.FLAVORS.get(flavor_key)
    if flavor is None:
        return  # the flavor field reports an unknown flavor
    for key, value in config.items():
        validate_setting(flavor, key, value)
