"""Kubernetes' own naming rules, as the API server applies them, for every app to share.

Error codes avoid the ones Django model fields translate into their own messages ("invalid").

Pure functions raising django.core.exceptions.ValidationError with a message a user can act on.
"""

import ipaddress
import re

from django.core.exceptions import ValidationError

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
QUALIFIED_NAME_MAX = 63
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
ANNOTATIONS_MAX_BYTES = 256 * 1024


def is_number(text: str) -> bool:
    """Whether text is a plain decimal number (0-9 only: str.isdigit also takes '¹' or '٣',
    which int() refuses or the API server does not expect)."""
    return text.isascii() and text.isdigit()


def validate_dns1123_subdomain(value: str, what: str = "name") -> None:
    """Lowercase labels separated by dots, at most 253 characters (a host name without wildcard)."""
    if not value:
        raise ValidationError(f"Enter a {what}.", code="required")
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        raise ValidationError(f"A {what} has at most 253 characters (this one has {len(value)}).", code="max_length")
    for label in value.split("."):
        if not label:
            raise ValidationError(f"A {what} cannot have an empty part between dots.", code="bad_value")
        if len(label) > 63 or not DNS1123_LABEL.fullmatch(label):
            raise ValidationError(
                f"'{label}' is not valid in a {what}: use lowercase letters, digits and '-', at most 63 "
                "characters between dots, starting and ending with a letter or digit.",
                code="bad_value",
            )


def is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def validate_address(value: str) -> None:
    """An IP address or a DNS name at which clients reach a gateway."""
    if is_ip_address(value):
        return
    validate_dns1123_subdomain(value, "host name or IP address")


def validate_qualified_name(key: str) -> None:
    """A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most
    63 characters of letters, digits, '-', '_' and '.', starting and ending alphanumeric."""
    if not key:
        raise ValidationError("Enter a key.", code="required")
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix:
            raise ValidationError(f"'{key}': the prefix before '/' is empty.", code="bad_value")
        try:
            validate_dns1123_subdomain(prefix, "key prefix")
        except ValidationError as error:
            raise ValidationError(f"'{key}': {error.messages[0]}", code="bad_value") from None
    if len(name) > QUALIFIED_NAME_MAX:
        raise ValidationError(
            f"'{key}': the name part has at most 63 characters (this one has {len(name)}).", code="max_length"
        )
    if not QUALIFIED_NAME.fullmatch(name):
        raise ValidationError(
            f"'{key}' is not a valid key: use letters, digits, '-', '_' and '.', starting and ending with a "
            "letter or digit, optionally behind a DNS prefix and '/'.",
            code="bad_value",
        )


def validate_label_value(value: str) -> None:
    if len(value) > QUALIFIED_NAME_MAX or not LABEL_VALUE.fullmatch(value):
        raise ValidationError(
            f"'{value}' is not a valid label value: at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit.",
            code="bad_value",
        )


def validate_annotations_size(annotations: dict[str, str]) -> None:
    # The policy says which keys or values are not text; their size is still counted.
    size = sum(len(str(key).encode()) + len(str(value).encode()) for key, value in annotations.items())
    if size > ANNOTATIONS_MAX_BYTES:
        raise ValidationError(
            f"Annotations may total at most 256 KiB; these have {size // 1024} KiB.", code="max_length"
        )


def validate_domain(value: str) -> None:
    validate_dns1123_subdomain(value, "domain")
