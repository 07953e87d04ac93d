"""The annotation policy: which annotations a tenant may put on the objects the console creates.

One module for every place a tenant sends annotations (route wizard, route and gateway API,
Edit YAML, gateway Service annotations and settings). Keys under an ingress controller's prefix
must be on that flavor's allow-list and pass its typed check; dangerous keys are never allowed;
reserved prefixes belong to Kubernetes and the console; some characters are refused everywhere.
"""

import ipaddress
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError

from console.cluster import PREFIX
from console.validators import is_number, validate_qualified_name
from gateways import flavors

CONTROLLER_PREFIXES = {
    "nginx.ingress.kubernetes.io/": flavors.INGRESS_NGINX,
    "nginx.org/": flavors.NGINX_INC,
    "traefik.ingress.kubernetes.io/": flavors.TRAEFIK,
}
RESERVED_PREFIXES = ("kubernetes.io/", "k8s.io/", f"{PREFIX}/")
FORBIDDEN_CHARACTERS = set("\n\r{};'\"#$\\")
# Never allowed, whatever an allow-list says: configuration injection, authentication and
# TLS-to-backend plumbing, redirects and rewrites, regex paths, mirroring, aliases.
NEVER_ALLOWED = re.compile(
    r"(-snippets?$|^server-alias$|^auth-|^proxy-ssl-|^custom-headers$|^mirror-|redirect|rewrite|^use-regex$|"
    r"^app-root$|^default-backend$|^global-auth|^modsecurity|^router\.middlewares$)"
)
NAMESPACED_REFERENCE = re.compile(r"^[a-z0-9][-a-z0-9]*/[a-z0-9][-a-z0-9.]*$")


# Typed checks for allowed values.


def seconds(value: str) -> None:
    number = value[:-1] if value.endswith("s") else value
    if not is_number(number) or not 1 <= int(number) <= 3600:
        raise ValidationError(f"'{value}' must be a number of seconds from 1 to 3600.")


def body_size(value: str) -> None:
    if not re.fullmatch(r"[0-9]{1,4}[kmKM]?", value):
        raise ValidationError(f"'{value}' is not a body size: up to four digits, optionally followed by k or m.")


def boolean(value: str) -> None:
    if value not in ("true", "false"):
        raise ValidationError(f"'{value}' must be true or false.")


def one_of(*choices: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        if value not in choices:
            raise ValidationError(f"'{value}' must be one of: {', '.join(choices)}.")

    return check


def bounded(low: int, high: int) -> Callable[[str], None]:
    def check(value: str) -> None:
        if not is_number(value) or not low <= int(value) <= high:
            raise ValidationError(f"'{value}' must be a whole number from {low} to {high}.")

    return check


def cidr_list(value: str) -> None:
    for item in value.split(","):
        try:
            ipaddress.ip_network(item.strip(), strict=False)
        except ValueError:
            raise ValidationError(f"'{item.strip()}' is not an IP address or CIDR range.") from None


def cookie_name(value: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise ValidationError(f"'{value}' is not a cookie name: up to 64 letters, digits, '_' and '-'.")


def service_list(value: str) -> None:
    for item in value.split(","):
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", item.strip()) or len(item.strip()) > 63:
            raise ValidationError(f"'{item.strip()}' is not a Service name of this project.")


def text(value: str) -> None:
    if len(value) > 1024:
        raise ValidationError("At most 1024 characters.")


VALUE_KINDS = {
    "seconds": seconds,
    "body-size": body_size,
    "boolean": boolean,
    "count": bounded(1, 10000),
    "cidr-list": cidr_list,
    "cookie-name": cookie_name,
    "service-list": service_list,
    "text": text,
}

# The allow-lists: controller key (without prefix) -> its check.
ALLOWED = {
    flavors.INGRESS_NGINX: {
        "proxy-connect-timeout": seconds,
        "proxy-read-timeout": seconds,
        "proxy-send-timeout": seconds,
        "proxy-body-size": body_size,
        "proxy-buffering": one_of("on", "off"),
        "backend-protocol": one_of("HTTP", "HTTPS", "GRPC", "GRPCS"),
        "enable-cors": boolean,
        "whitelist-source-range": cidr_list,
        "allowlist-source-range": cidr_list,
        "denylist-source-range": cidr_list,
        "limit-rps": bounded(1, 10000),
        "limit-rpm": bounded(1, 100000),
        "limit-connections": bounded(1, 10000),
        "affinity": one_of("cookie"),
        "session-cookie-name": cookie_name,
        "session-cookie-max-age": bounded(1, 31536000),
        "load-balance": one_of("round_robin", "ewma"),
    },
    flavors.NGINX_INC: {
        "proxy-connect-timeout": seconds,
        "proxy-read-timeout": seconds,
        "proxy-send-timeout": seconds,
        "client-max-body-size": body_size,
        "proxy-buffering": boolean,
        "websocket-services": service_list,
        "grpc-services": service_list,
        "ssl-services": service_list,
        "lb-method": one_of("round_robin", "least_conn", "ip_hash", "random two least_conn"),
        "max-fails": bounded(0, 100),
        "fail-timeout": seconds,
        "keepalive": bounded(0, 10000),
    },
    flavors.TRAEFIK: {
        "router.entrypoints": one_of("web", "websecure", "web,websecure"),
        "router.tls": boolean,
        "router.priority": bounded(1, 10000),
        "service.serversscheme": one_of("http", "https", "h2c"),
        "service.sticky.cookie": boolean,
        "service.sticky.cookie.name": cookie_name,
    },
}


def controller_of(key: str) -> tuple[str, str] | None:
    """(flavor, key without the controller prefix) for a controller key, else None."""
    for prefix, flavor in CONTROLLER_PREFIXES.items():
        if key.startswith(prefix):
            return flavor, key[len(prefix) :]
    return None


def check_annotation(key: str, value: str, flavor: str, extra_allowed: dict | None = None) -> None:
    """Raises ValidationError, naming the key, unless a tenant may set `key: value` on an object
    served by a gateway of `flavor`. `extra_allowed` holds what a platform admin added:
    {flavor: {key without prefix: value kind}}."""
    validate_qualified_name(key)
    if not isinstance(value, str):
        raise ValidationError(f"The value of '{key}' must be text.")
    bad = sorted(FORBIDDEN_CHARACTERS & set(value))
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise ValidationError(f"The value of '{key}' contains characters that are never allowed: {shown}.")
    if key.startswith(RESERVED_PREFIXES):
        raise ValidationError(f"'{key}' is reserved for Kubernetes and the console.")
    controller = controller_of(key)
    if controller is None:
        return
    owner, name = controller
    if NEVER_ALLOWED.search(name):
        raise ValidationError(f"'{key}' is never allowed: it could change how the gateway serves other routes.")
    if owner != flavor:
        raise ValidationError(
            f"'{key}' is for {flavors.FLAVORS[owner].label}, but this gateway runs {flavors.FLAVORS[flavor].label}."
        )
    if NAMESPACED_REFERENCE.match(value):
        raise ValidationError(f"'{key}' may not refer to another namespace ('{value}').")
    check = ALLOWED[flavor].get(name)
    if check is None and extra_allowed:
        kind = extra_allowed.get(flavor, {}).get(name)
        check = VALUE_KINDS.get(kind) if kind else None
    if check is None:
        raise ValidationError(f"'{key}' is not on the allow-list for {flavors.FLAVORS[flavor].label}.")
    try:
        check(value)
    except ValidationError as error:
        raise ValidationError(f"'{key}': {error.messages[0]}") from None


def check_annotations(annotations: dict, flavor: str, extra_allowed: dict | None = None) -> list[str]:
    """Every problem with a set of annotations, one message each (empty when all are fine)."""
    problems = []
    for key, value in annotations.items():
        try:
            check_annotation(key, value, flavor, extra_allowed)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems
