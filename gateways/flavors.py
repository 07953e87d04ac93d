"""The ingress controllers a gateway can run, and what differs between them.

Pure data, used by the model's choices, the validators, the renderers and the wizard.
"""

from dataclasses import dataclass, field

NODE_PORT = "NodePort"
LOAD_BALANCER = "LoadBalancer"
ACCESS_MODES = [(NODE_PORT, "NodePort"), (LOAD_BALANCER, "LoadBalancer")]

# What a gateway's routes become: Ingresses (or a Traefik gateway's IngressRoutes), or Gateway API
# HTTPRoutes and GRPCRoutes attached to a Gateway, for flavors whose controller implements it.
INGRESS_API = "ingress"
GATEWAY_API = "gateway-api"
ROUTE_APIS = [(INGRESS_API, "Ingress"), (GATEWAY_API, "Gateway API (HTTPRoute, GRPCRoute)")]

NGINX_INC = "nginx-inc"
INGRESS_NGINX = "ingress-nginx"
TRAEFIK = "traefik"

# Controller settings a tenant may set, in the console's own words; each flavor maps them to
# its configuration (or does not support them).
SETTING_CONNECT_TIMEOUT = "connect-timeout"
SETTING_READ_TIMEOUT = "read-timeout"
SETTING_SEND_TIMEOUT = "send-timeout"
SETTING_BODY_SIZE = "body-size"
SETTINGS_HELP = {
    SETTING_CONNECT_TIMEOUT: "Seconds to wait for a connection to a backend (1-3600).",
    SETTING_READ_TIMEOUT: "Seconds to wait for a backend's response (1-3600).",
    SETTING_SEND_TIMEOUT: "Seconds to wait while sending a request to a backend (1-3600).",
    SETTING_BODY_SIZE: "Largest request body, e.g. 10m, 512k or 1024 (bytes); 0 means no limit.",
}


@dataclass(frozen=True)
class Flavor:
    key: str
    label: str
    image: str
    controller: str  # the IngressClass spec.controller this flavor answers to
    settings: dict[str, str]  # console setting -> the controller's ConfigMap key
    tracing: dict[str, str] = field(default_factory=dict)  # ConfigMap entries that turn tracing on
    no_tracing: str = ""  # why a flavor without `tracing` entries cannot trace, in a tenant's words
    note: str = ""
    gateway_controller: str = ""  # its GatewayClass controllerName, for flavors that implement the Gateway API


FLAVORS = {
    flavor.key: flavor
    for flavor in [
        Flavor(
            key=NGINX_INC,
            label="F5 NGINX Ingress Controller",
            image="nginx/nginx-ingress:5.5.4",  # built here by scripts/images/nginx-inc.sh
            controller="nginx.org/ingress-controller",
            settings={
                SETTING_CONNECT_TIMEOUT: "proxy-connect-timeout",
                SETTING_READ_TIMEOUT: "proxy-read-timeout",
                SETTING_SEND_TIMEOUT: "proxy-send-timeout",
                SETTING_BODY_SIZE: "client-max-body-size",
            },
            # NGINX traces only through its OpenTelemetry module and an exporter's address: Debian's
            # NGINX, which the image built here runs, has no such module.
            no_tracing=(
                "F5 NGINX Ingress Controller cannot trace requests here: NGINX needs its OpenTelemetry "
                "module, which the NGINX this console runs does not have."
            ),
        ),
        Flavor(
            key=TRAEFIK,
            label="Traefik",
            image="traefik:v3.6.12",  # the newest v3 the Go module proxy builds (scripts/images)
            controller="traefik.io/ingress-controller",
            settings={
                SETTING_CONNECT_TIMEOUT: "serversTransport.forwardingTimeouts.dialTimeout",
                SETTING_READ_TIMEOUT: "serversTransport.forwardingTimeouts.responseHeaderTimeout",
            },
            tracing={"tracing": "true"},
            gateway_controller="traefik.io/gateway-controller",
        ),
        Flavor(
            key=INGRESS_NGINX,
            label="ingress-nginx (retired)",
            image="registry.k8s.io/ingress-nginx/controller:v1.14.1",
            controller="k8s.io/ingress-nginx",
            settings={
                SETTING_CONNECT_TIMEOUT: "proxy-connect-timeout",
                SETTING_READ_TIMEOUT: "proxy-read-timeout",
                SETTING_SEND_TIMEOUT: "proxy-send-timeout",
                SETTING_BODY_SIZE: "proxy-body-size",
            },
            tracing={"enable-opentelemetry": "true"},
            note=(
                "ingress-nginx was retired upstream in March 2026 and gets no further security fixes. "
                "It is offered for clusters that already run it; the console's own tests do not run it."
            ),
        ),
    ]
}
FLAVOR_CHOICES = [(flavor.key, flavor.label) for flavor in FLAVORS.values()]


def lacking(setting: str) -> list[str]:
    """The labels of the flavors that do not support `setting`."""
    return [flavor.label for flavor in FLAVORS.values() if setting not in flavor.settings]


def tracing_help() -> str:
    """Which flavors cannot trace, for the tracing checkbox's help."""
    refusing = [flavor.label for flavor in FLAVORS.values() if not flavor.tracing]
    return f"Not on {', '.join(refusing)}." if refusing else ""


def settings_help() -> str:
    """Each setting the console allows, what it means, and the flavors that refuse it."""
    return " ".join(
        f"{key}: {text}" + (f" Not on {', '.join(lacking(key))}." if lacking(key) else "")
        for key, text in SETTINGS_HELP.items()
    )
