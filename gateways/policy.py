"""The annotation policy: which annotations a tenant may put on the objects the console creates.

One module for every door a tenant sends annotations through (the route wizard, Edit annotations,
Edit YAML, the route API, and the gateway's Service annotations in its wizard and API). It is an
allow-list for every key with a prefix, because the console is the last gate before the
controllers and any add-on that reads annotations (external-dns, cert-manager, cloud load balancers):

- keys under an ingress controller's prefix must be on that flavor's allow-list (or allowed by a
  platform admin, key by key) and pass its typed check, and must take effect where they are put;
- keys under `kubernetes.io`, `k8s.io` or a subdomain of either are reserved, except exact keys a
  platform admin allowed on gateway Services (the cloud load-balancer keys ship allowed);
- keys under any other prefix need a platform admin's allowance for that key or its prefix;
- keys without a prefix are allowed;
- some keys are never allowed, whatever is added, and some characters are refused in every value.
"""

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from console.cluster import PREFIX
from console.validators import is_number, validate_dns1123_subdomain, validate_qualified_name
from gateways import flavors

TRAEFIK_PREFIX = "traefik.ingress.kubernetes.io/"
CONTROLLER_PREFIXES = {
    "nginx.ingress.kubernetes.io/": flavors.INGRESS_NGINX,
    "nginx.org/": flavors.NGINX_INC,
    TRAEFIK_PREFIX: flavors.TRAEFIK,
}
KUBERNETES_DOMAINS = ("kubernetes.io", "k8s.io")
FORBIDDEN_CHARACTERS = set("\n\r{};'\"#$\\")
# Never allowed, whatever an allow-list says: configuration injection, authentication and
# TLS-to-backend plumbing, redirects and rewrites, regex paths, mirroring, aliases.
NEVER_ALLOWED = re.compile(
    r"(-snippets?$|^server-alias$|^auth-|^proxy-ssl-|^custom-headers$|^mirror-|redirect|rewrite|^use-regex$|"
    r"^app-root$|^default-backend$|^global-auth|^modsecurity|^router\.middlewares$)"
)
NAMESPACED_REFERENCE = re.compile(r"^[a-z0-9][-a-z0-9]*/[a-z0-9][-a-z0-9.]*$")
HOW_TO_ALLOW = "ask a platform admin to allow it (Django admin > Gateways > Annotation allowances)"

# Keys that pick an address, an address pool or another account's resource for a gateway's Service:
# a tenant could take an IP that another tenant's DNS points at. None ships allowed; a platform admin
# who allows one is told what it does.
ADDRESS_PICKING_KEYS = {
    "metallb.io/loadBalancerIPs": "takes whichever IP addresses it names, another tenant's included",
    "metallb.universe.tf/loadBalancerIPs": "takes whichever IP addresses it names, another tenant's included",
    "metallb.io/address-pool": "draws the address from any MetalLB pool, a reserved one included",
    "metallb.universe.tf/address-pool": "draws the address from any MetalLB pool, a reserved one included",
    "metallb.io/allow-shared-ip": "shares an address with any Service giving the same key",
    "metallb.universe.tf/allow-shared-ip": "shares an address with any Service giving the same key",
    "eip.openelb.kubesphere.io/v1alpha2": "takes an address from any OpenELB Eip, a reserved one included",
    "eip.openelb.kubesphere.io/v1alpha1": "takes an address from any OpenELB Eip, a reserved one included",
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "serves whichever ACM certificate ARN it names",
    "service.beta.kubernetes.io/aws-load-balancer-eip-allocations": "takes whichever Elastic IPs it names",
    "service.beta.kubernetes.io/azure-load-balancer-resource-group": "takes a public IP from any resource group",
    "service.beta.kubernetes.io/azure-load-balancer-ipv4": "takes whichever IP address it names",
    "service.beta.kubernetes.io/azure-pip-name": "takes whichever public IP it names",
    "service.beta.kubernetes.io/azure-dns-label-name": "takes a DNS name under the region's cloud domain",
    "networking.gke.io/load-balancer-ip-addresses": "takes whichever reserved IP addresses it names",
}

# Where an annotation goes: on a route's rendered object, or on a gateway's Service.
ROUTE = "route"
GATEWAY_SERVICE = "gateway-service"
TARGETS = [(ROUTE, "Routes"), (GATEWAY_SERVICE, "Gateway Services")]

# What a route is rendered as; Traefik reads different things from each.
INGRESS = "Ingress"
INGRESS_ROUTE = "IngressRoute"
Renders = str | Callable[[], str]


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


ONE_OF = "one-of"
ALLOWANCE_KINDS = [*VALUE_KINDS, ONE_OF]


@dataclass(frozen=True)
class Allowance:
    """A platform admin's allowance for a key or a prefix: the check its values get."""

    kind: str
    choices: tuple[str, ...] = ()

    def check(self, value: str) -> None:
        if self.kind == ONE_OF:
            one_of(*self.choices)(value)
        else:
            VALUE_KINDS[self.kind](value)


# {target: {exact key, or a prefix ending in "/": Allowance}}
Allowances = dict[str, dict[str, Allowance]]


def domain_of(key: str) -> str:
    """The prefix of a key without its '/' ("" for a key without a prefix)."""
    return key.rpartition("/")[0]


def is_under(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith(f".{parent}")


def is_kubernetes_domain(domain: str) -> bool:
    return any(is_under(domain, parent) for parent in KUBERNETES_DOMAINS)


def is_external_dns(domain: str) -> bool:
    """external-dns.alpha.kubernetes.io and any other home of external-dns's keys."""
    return "external-dns" in domain.split(".")


def controller_of(key: str) -> tuple[str, str] | None:
    """(flavor, key without the controller prefix) for a controller key, else None."""
    for prefix, flavor in CONTROLLER_PREFIXES.items():
        if key.startswith(prefix):
            return flavor, key[len(prefix) :]
    return None


def allowance_for(key: str, allowances: Allowances | None, target: str, exact_only: bool = False) -> Allowance | None:
    """The allowance for `key` on `target`: one for the exact key, else one for its prefix."""
    granted = (allowances or {}).get(target, {})
    if key in granted:
        return granted[key]
    return None if exact_only else granted.get(f"{domain_of(key)}/")


def run_check(key: str, check: Callable[[str], None], value: str) -> None:
    try:
        check(value)
    except ValidationError as error:
        raise ValidationError(f"'{key}': {error.messages[0]}") from None


def check_annotation(
    key: str,
    value: str,
    flavor: str,
    allowances: Allowances | None = None,
    target: str = ROUTE,
    renders: Renders = INGRESS,
) -> None:
    """Raises ValidationError, naming the key, unless a tenant may set `key: value` on `target` (a
    route rendered as `renders`, or a gateway's Service) of a gateway running `flavor`. `allowances`
    hold what platform admins allowed (AnnotationAllowance.as_policy()). `renders` may be a function
    that asks the cluster: it is called only for a Traefik key that passed every other check."""
    validate_qualified_name(key)
    refuse_by_key(key)  # a key that is never allowed says so first, whatever its value holds
    if not isinstance(value, str):
        raise ValidationError(f"The value of '{key}' must be text.")
    bad = sorted(FORBIDDEN_CHARACTERS & set(value))
    if bad:
        shown = ", ".join(repr(char) for char in bad)
        raise ValidationError(f"The value of '{key}' contains characters that are never allowed: {shown}.")
    domain = domain_of(key)
    if not domain:
        return
    controller = controller_of(key)
    if controller is not None:
        check_controller_key(key, value, flavor, controller[0], controller[1], allowances, target, renders)
        return
    if is_kubernetes_domain(domain):
        allowance = allowance_for(key, allowances, target, exact_only=True) if target == GATEWAY_SERVICE else None
        if allowance is None:
            raise ValidationError(reserved_message(key, target))
        run_check(key, allowance.check, value)
        return
    allowance = allowance_for(key, allowances, target)
    if allowance is None:
        where = "on routes" if target == ROUTE else "on gateway Services"
        raise ValidationError(f"'{key}' is not allowed {where}: to use keys under {domain}/, {HOW_TO_ALLOW}.")
    run_check(key, allowance.check, value)


def refuse_by_key(key: str) -> None:
    """Raises for keys no tenant may ever set, whatever their value: external-dns's, the console's
    own, and controller keys such as snippets."""
    domain = domain_of(key)
    if domain and is_external_dns(domain):
        raise ValidationError(
            f"'{key}' is never allowed: external-dns would publish DNS records for whatever host it names, "
            "around the console's host claims."
        )
    if domain and is_under(domain, PREFIX):
        raise ValidationError(f"'{key}' is reserved for the console.")
    controller = controller_of(key)
    if controller is not None and NEVER_ALLOWED.search(controller[1]):
        raise ValidationError(f"'{key}' is never allowed: it could change how the gateway serves other routes.")


def reserved_message(key: str, target: str) -> str:
    reserved = f"'{key}' is reserved for Kubernetes (keys under kubernetes.io, k8s.io and their subdomains)"
    if target == GATEWAY_SERVICE:
        return f"{reserved}; to set it on the gateway's Service, {HOW_TO_ALLOW} for gateway Services."
    return f"{reserved} and cannot be set on a route."


def check_controller_key(
    key: str,
    value: str,
    flavor: str,
    owner: str,
    name: str,
    allowances: Allowances | None,
    target: str,
    renders: Renders,
) -> None:
    if owner != flavor:
        raise ValidationError(
            f"'{key}' is for {flavors.FLAVORS[owner].label}, but this gateway runs {flavors.FLAVORS[flavor].label}."
        )
    if NAMESPACED_REFERENCE.fullmatch(value):
        raise ValidationError(f"'{key}' may not refer to another namespace ('{value}').")
    built_in = ALLOWED[flavor].get(name)
    allowance = None if built_in else allowance_for(key, allowances, target, exact_only=True)
    if built_in is None and allowance is None:
        raise ValidationError(
            f"'{key}' is not on the allow-list for {flavors.FLAVORS[flavor].label}; to use it, {HOW_TO_ALLOW}."
        )
    run_check(key, built_in or allowance.check, value)
    if target == GATEWAY_SERVICE:
        raise ValidationError(
            f"'{key}' has no effect on the gateway's Service: {flavors.FLAVORS[flavor].label} reads it from "
            "routes. Set it on a route, or use the gateway's controller settings."
        )
    if flavor == flavors.TRAEFIK:
        check_traefik_effect(key, name, built_in is not None, renders)


# Traefik keys the console turns into IngressRoute fields (routes/render.py), since IngressRoutes
# do not read annotations.
TRAEFIK_INGRESS_ROUTE_FIELDS = {
    "router.entrypoints": "spec.entryPoints",
    "router.tls": "spec.tls",
    "router.priority": "spec.routes[].priority",
    "service.serversscheme": "spec.routes[].services[].scheme",
    "service.sticky.cookie": "spec.routes[].services[].sticky.cookie",
    "service.sticky.cookie.name": "spec.routes[].services[].sticky.cookie.name",
}


def check_traefik_effect(key: str, name: str, built_in: bool, renders: Renders) -> None:
    """An allowed Traefik key must take effect on what the route becomes, never be dropped."""
    renders = renders() if callable(renders) else renders
    if renders == INGRESS and name.startswith("service."):
        raise ValidationError(
            f"'{key}' has no effect on an Ingress: Traefik reads service.* settings from the backend Service, "
            "which is yours, not the console's. Set it there, or on a cluster that serves Traefik's "
            "IngressRoute, where the console renders it."
        )
    if renders == INGRESS_ROUTE and not built_in:
        rendered = ", ".join(f"{TRAEFIK_PREFIX}{field}" for field in TRAEFIK_INGRESS_ROUTE_FIELDS)
        raise ValidationError(
            f"'{key}' would have no effect: this gateway's routes become Traefik IngressRoutes, which do not "
            f"read annotations, and the console renders only these keys on them: {rendered}."
        )


def check_annotations(
    annotations: dict,
    flavor: str,
    allowances: Allowances | None = None,
    target: str = ROUTE,
    renders: Renders = INGRESS,
) -> list[str]:
    """Every problem with a set of annotations, one message each (empty when all are fine)."""
    problems = []
    for key, value in annotations.items():
        try:
            check_annotation(key, value, flavor, allowances, target, renders)
        except ValidationError as error:
            problems.extend(error.messages)
    return problems


def refused_now(
    annotations: dict, flavor: str, allowances: Allowances, target: str = ROUTE, renders: Renders = INGRESS
) -> dict[str, str]:
    """{key: why} of stored annotations the policy refuses now (an allowance was taken back, a key
    became refused): the worker leaves them out of what it applies and says so on the object."""
    refused = {}
    for key, value in annotations.items():
        try:
            check_annotation(key, value, flavor, allowances, target, renders)
        except ValidationError as error:
            refused[key] = error.messages[0]
    return refused


def refused_condition_message(refused: dict[str, str]) -> str:
    listed = " ".join(f"{key}: {why}" for key, why in refused.items())
    return f"Not applied, as the annotation policy no longer allows them ({listed}) Remove them at the next edit."


def check_allowance(target: str, key: str, kind: str, choices: tuple[str, ...]) -> dict[str, str]:
    """What is wrong with an allowance a platform admin is about to add, by field ({} when nothing)."""
    problems = {}
    prefix_only = key.endswith("/")
    try:
        if prefix_only:
            validate_dns1123_subdomain(key[:-1], "key prefix")
        else:
            validate_qualified_name(key)
    except ValidationError as error:
        return {"key": error.messages[0]}
    domain = key[:-1] if prefix_only else domain_of(key)
    controller = controller_of(key)
    if not domain:
        problems["key"] = "Keys without a prefix are allowed already; give a prefixed key or a prefix ending in '/'."
    elif is_external_dns(domain):
        problems["key"] = (
            "external-dns keys are never allowed: they would publish DNS for any host, around host claims."
        )
    elif is_under(domain, PREFIX):
        problems["key"] = "The console's own keys cannot be allowed."
    elif controller is not None and prefix_only:
        problems["key"] = "A controller's keys are allowed one by one: give the whole key."
    elif controller is not None and NEVER_ALLOWED.search(controller[1]):
        problems["key"] = f"'{key}' is never allowed, whatever is added."
    elif controller is None and is_kubernetes_domain(domain) and (prefix_only or target != GATEWAY_SERVICE):
        problems["key"] = "Keys under kubernetes.io and k8s.io can only be allowed one by one, for gateway Services."
    if kind not in ALLOWANCE_KINDS:
        problems["kind"] = f"Choose one of {', '.join(ALLOWANCE_KINDS)}."
    elif kind == ONE_OF and not choices:
        problems["choices"] = "List the values allowed, separated by commas."
    return problems
