"""Pure renderers: gateway row -> the manifests of its ingress controller.

One function per flavor fills in what differs (RBAC, arguments, configuration, ports); the
rest is shared. Every object carries the console's ownership labels for the gateway.
"""

import copy
import hashlib
import json

import yaml

from console.cluster import OWNER, label_key, ownership_labels
from gateways import flavors

NAME = "kubeconsole-gateway"
SERVICE_PORTS = {"http": 80, "https": 443}

# The kinds a gateway creates, so that the reconcile can find what it no longer wants.
NAMESPACED_KINDS = [
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
]
CLUSTER_KINDS = [
    ("networking.k8s.io/v1", "IngressClass"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
]

READ = ["get", "list", "watch"]
TRAEFIK_CRDS = [
    "ingressroutes",
    "ingressroutetcps",
    "ingressrouteudps",
    "middlewares",
    "middlewaretcps",
    "serverstransports",
    "serverstransporttcps",
    "tlsoptions",
    "tlsstores",
    "traefikservices",
]
RBAC = "rbac.authorization.k8s.io"


def rule(groups, resources, verbs, names=None) -> dict:
    item = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        item["resourceNames"] = names
    return item


def selector(gateway) -> dict:
    return {label_key("gateway"): gateway.project.name}


def labels(gateway) -> dict:
    return {
        **ownership_labels(gateway.owner),
        **selector(gateway),
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/component": "ingress-controller",
    }


def metadata(gateway, name: str = NAME, namespaced: bool = True, **extra) -> dict:
    meta = {"name": name, "labels": labels(gateway), **extra}
    if namespaced:
        meta["namespace"] = gateway.namespace
    return meta


def cluster_name(gateway) -> str:
    return f"{NAME}-{gateway.project.name}"


# What differs by flavor.


def nginx_inc(gateway) -> dict:
    flavor = gateway.flavor_info
    config = {
        flavor.settings[key]: str(value) + ("s" if "timeout" in key else "") for key, value in gateway.config.items()
    }
    # HTTP/2 on the TLS listener, always: gRPC needs it (the controller drops a route's
    # grpc-services without it), and browsers get it too.
    config["http2"] = "true"
    if gateway.tracing:
        config.update(flavor.tracing)
    if gateway.external_address:
        # A NodePort Service has no load balancer's address to report on the Ingresses.
        config["external-status-address"] = gateway.external_address
    return {
        "controller": flavor.controller,
        "namespaced_rules": [
            rule([""], ["services", "endpoints", "secrets", "configmaps", "pods"], READ),
            rule([""], ["configmaps"], ["create", "update"]),
            # At start it labels its own pod with its and NGINX's versions.
            rule([""], ["pods"], ["update"]),
            rule([""], ["events"], ["create", "patch", "list"]),
            rule(["discovery.k8s.io"], ["endpointslices"], READ),
            rule(["networking.k8s.io"], ["ingresses"], READ),
            rule(["networking.k8s.io"], ["ingresses/status"], ["update"]),
            rule(["coordination.k8s.io"], ["leases"], [*READ, "create", "update"]),
        ],
        "cluster_rules": [
            rule(["networking.k8s.io"], ["ingressclasses"], READ),
            # At start it checks that the namespace it watches exists.
            rule([""], ["namespaces"], ["get"], names=[gateway.namespace]),
        ],
        "config": config,
        "args": [
            f"-nginx-configmaps=$(POD_NAMESPACE)/{NAME}",
            f"-ingress-class={gateway.ingress_class}",
            f"-watch-namespace={gateway.namespace}",
            f"-external-service={NAME}",
            "-report-ingress-status",
            "-enable-custom-resources=false",
            "-enable-snippets=false",
            f"-leader-election-lock-name={NAME}-leader",
            "-ready-status",
            "-ready-status-port=8081",
            "-enable-prometheus-metrics=false",
            # It would otherwise report the cluster's make-up to F5 every day.
            "-enable-telemetry-reporting=false",
        ],
        "container_ports": {"http": 80, "https": 443},
        "probe": {"httpGet": {"path": "/nginx-ready", "port": 8081}},
        "run_as_user": 101,
        # NGINX, started by the controller, binds ports 80 and 443 as uid 101: a capability would not
        # reach it (no privilege escalation), the pod's own network namespace may allow it.
        "sysctls": {"net.ipv4.ip_unprivileged_port_start": "0"},
        "volumes": [],
    }


def ingress_nginx(gateway) -> dict:
    flavor = gateway.flavor_info
    config = {flavor.settings[key]: str(value) for key, value in gateway.config.items()}
    if gateway.tracing:
        config.update(flavor.tracing)
    controller = label_key(f"ingress-nginx-{gateway.project.name}")
    return {
        "controller": controller,
        "namespaced_rules": [
            rule([""], ["configmaps", "pods", "secrets", "endpoints", "services"], READ),
            rule([""], ["events"], ["create", "patch"]),
            rule(["discovery.k8s.io"], ["endpointslices"], READ),
            rule(["networking.k8s.io"], ["ingresses"], READ),
            rule(["networking.k8s.io"], ["ingresses/status"], ["update"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"]),
        ],
        "cluster_rules": [
            rule(["networking.k8s.io"], ["ingressclasses"], READ),
            rule([""], ["namespaces"], ["get"], names=[gateway.namespace]),
        ],
        "config": config,
        "args": [
            "/nginx-ingress-controller",
            f"--controller-class={controller}",
            f"--ingress-class={gateway.ingress_class}",
            "--ingress-class-by-name=true",
            f"--watch-namespace={gateway.namespace}",
            f"--configmap=$(POD_NAMESPACE)/{NAME}",
            f"--publish-service=$(POD_NAMESPACE)/{NAME}",
            f"--election-id={NAME}-leader",
            "--watch-ingress-without-class=false",
            "--enable-metrics=false",
            # An ExternalName Service would let a tenant proxy to any name: another namespace's
            # Service, the API server, a metadata address (CVE-2021-25740).
            "--disable-svc-external-name=true",
        ],
        "container_ports": {"http": 80, "https": 443},
        "probe": {"httpGet": {"path": "/healthz", "port": 10254}},
        "run_as_user": 101,
        "volumes": [],
    }


STOPPING = {"lifeCycle": {"requestAcceptGraceTimeout": "3s"}}


def traefik(gateway) -> dict:
    flavor = gateway.flavor_info
    static = {
        # A console's tenants' controller never phones home: no version check, no usage report.
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        # A controller being replaced keeps taking requests for a moment after it is told to stop,
        # while its pod leaves the Service's endpoints: a rollout (a settings change, a switch of
        # the routes' API) drops none.
        "entryPoints": {
            "web": {"address": ":8000", "transport": STOPPING},
            "websecure": {"address": ":8443", "http": {"tls": {}}, "transport": STOPPING},
            "traefik": {"address": ":8080"},
        },
        "ping": {"entryPoint": "traefik"},
        "providers": {
            # Traefik holds every change this long before taking it up (2 s by default): a new route
            # should answer within a quarter second (bench/node.py measures it, and the CPU time
            # 200 routes in one batch cost the controller).
            "providersThrottleDuration": "100ms",
            "kubernetesIngress": {
                "ingressClass": gateway.ingress_class,
                "namespaces": [gateway.namespace],
                "ingressEndpoint": {"publishedService": f"{gateway.namespace}/{NAME}"},
                # Traefik's default, spelled out: an ExternalName Service could name anything.
                "allowExternalNameServices": False,
            },
            "kubernetesCRD": {
                "ingressClass": gateway.ingress_class,
                "namespaces": [gateway.namespace],
                "allowExternalNameServices": False,
                "allowCrossNamespace": False,
            },
        },
    }
    for key, value in gateway.config.items():
        section, group, field = flavor.settings[key].split(".")
        static.setdefault(section, {}).setdefault(group, {})[field] = f"{value}s"
    if gateway.tracing:
        static["tracing"] = {"otlp": {}}
    # What Traefik v3's informers list and watch (its reference RBAC), limited to the namespace but
    # for the cluster-scoped kinds: without any one of them it never syncs.
    namespaced_rules = [
        rule([""], ["services", "secrets", "configmaps"], READ),
        rule(["discovery.k8s.io"], ["endpointslices"], READ),
        rule(["networking.k8s.io"], ["ingresses"], READ),
        rule(["networking.k8s.io"], ["ingresses/status"], ["update"]),
        rule(["traefik.io"], TRAEFIK_CRDS, READ),
    ]
    cluster_rules = [
        rule(["networking.k8s.io"], ["ingressclasses"], READ),
        rule([""], ["nodes"], READ),
    ]
    if gateway.serves_gateway_api:
        static["providers"]["kubernetesGateway"] = {
            "namespaces": [gateway.namespace],
            # Every Traefik answers to the same controllerName: each takes only its own GatewayClass.
            "labelSelector": f"{OWNER}={gateway.owner}",
        }
        namespaced_rules += [
            rule([GATEWAY_GROUP], GATEWAY_API_RESOURCES, READ),
            rule([GATEWAY_GROUP], [f"{name}/status" for name in GATEWAY_API_STATUSES], ["update"]),
        ]
        # Traefik's Gateway provider watches every namespace (for listeners' namespace selectors)
        # and will not sync without it: the names of other projects' namespaces are readable to it.
        cluster_rules += [
            rule([GATEWAY_GROUP], ["gatewayclasses"], READ),
            # Its own GatewayClass's status only: another project's is not its to rewrite.
            rule([GATEWAY_GROUP], ["gatewayclasses/status"], ["update"], [gateway.ingress_class]),
            rule([""], ["namespaces"], ["list", "watch"]),
        ]
    return {
        "controller": flavor.controller,
        "namespaced_rules": namespaced_rules,
        "cluster_rules": cluster_rules,
        "config": {"traefik.yml": yaml.safe_dump(static, sort_keys=True)},
        "args": ["--configFile=/etc/traefik/traefik.yml"],
        "container_ports": {"http": 8000, "https": 8443},
        "probe": {"httpGet": {"path": "/ping", "port": 8080}},
        "run_as_user": 65532,
        "volumes": [("config", "/etc/traefik")],
    }


FLAVOR_PARTS = {flavors.NGINX_INC: nginx_inc, flavors.INGRESS_NGINX: ingress_nginx, flavors.TRAEFIK: traefik}


# The manifests.


def manifests(gateway, tls_hosts: dict[str, str] | None = None, keep_rules_of: str | None = None) -> list[dict]:
    """Every object an enabled gateway needs, in the order they should be applied; a gateway that
    serves the Gateway API also gets its GatewayClass and its Gateway, with an HTTPS listener per
    TLS host of its routes (`tls_hosts`: host -> secret). While it switches from the flavor
    `keep_rules_of`, whose controller still serves, its roles keep that flavor's rules too."""
    parts = FLAVOR_PARTS[gateway.flavor](gateway)
    if keep_rules_of and keep_rules_of != gateway.flavor:
        parts = with_rules_of(parts, FLAVOR_PARTS[keep_rules_of](as_flavor(gateway, keep_rules_of)))
    objects = [
        ingress_class(gateway, parts),
        service_account(gateway),
        role(gateway, parts),
        role_binding(gateway),
        cluster_role(gateway, parts),
        cluster_role_binding(gateway),
        config_map(gateway, parts),
        deployment(gateway, parts),
        service(gateway),
    ]
    if gateway.serves_gateway_api:
        objects += [gateway_class(gateway), gateway_object(gateway, tls_hosts or {})]
    return objects


def as_flavor(gateway, flavor: str):
    """A copy of the gateway as the `flavor` would render it (only the settings it has)."""
    other = copy.copy(gateway)
    other.flavor = flavor
    other.config = {key: value for key, value in gateway.config.items() if key in flavors.FLAVORS[flavor].settings}
    return other


def with_rules_of(parts: dict, earlier: dict) -> dict:
    """`parts` whose RBAC rules also grant what the `earlier` flavor's controller reads."""
    merged = dict(parts)
    for key in ("namespaced_rules", "cluster_rules"):
        merged[key] = parts[key] + [item for item in earlier[key] if item not in parts[key]]
    return merged


def ingress_class(gateway, parts) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": metadata(gateway, gateway.ingress_class, namespaced=False),
        "spec": {"controller": parts["controller"]},
    }


def service_account(gateway) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(gateway)}


def subject(gateway) -> list[dict]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": gateway.namespace}]


def role(gateway, parts) -> dict:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "Role",
        "metadata": metadata(gateway),
        "rules": parts["namespaced_rules"],
    }


def role_binding(gateway) -> dict:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "RoleBinding",
        "metadata": metadata(gateway),
        "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": NAME},
        "subjects": subject(gateway),
    }


def cluster_role(gateway, parts) -> dict:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRole",
        "metadata": metadata(gateway, cluster_name(gateway), namespaced=False),
        "rules": parts["cluster_rules"],
    }


def cluster_role_binding(gateway) -> dict:
    return {
        "apiVersion": f"{RBAC}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(gateway, cluster_name(gateway), namespaced=False),
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": cluster_name(gateway)},
        "subjects": subject(gateway),
    }


def config_map(gateway, parts) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(gateway), "data": parts["config"]}


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def deployment(gateway, parts) -> dict:
    ports = parts["container_ports"]
    pod_labels = labels(gateway)
    env = [
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
    ]
    container = {
        "name": "controller",
        "image": gateway.controller_image,
        # A cluster that has the image (the local node has only images built here) must not pull it.
        "imagePullPolicy": "IfNotPresent",
        "args": parts["args"],
        "env": env,
        "ports": [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in ports.items()],
        # A controller answers its probe before it has taken up its routes: ready a moment later.
        # Probed every 2 s, a gateway is Ready within about 5 s of being enabled.
        "readinessProbe": {**parts["probe"], "initialDelaySeconds": 2, "periodSeconds": 2, "failureThreshold": 3},
        "livenessProbe": {**parts["probe"], "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 5},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "runAsNonRoot": True,
            "runAsUser": parts["run_as_user"],
            "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
        },
    }
    volumes = []
    if parts["volumes"]:
        container["volumeMounts"] = [{"name": name, "mountPath": path} for name, path in parts["volumes"]]
        volumes = [{"name": name, "configMap": {"name": NAME}} for name, _ in parts["volumes"]]
    pod_security = {"seccompProfile": {"type": "RuntimeDefault"}}
    if parts.get("sysctls"):
        pod_security["sysctls"] = [{"name": name, "value": value} for name, value in parts["sysctls"].items()]
    pod_spec = {
        "serviceAccountName": NAME,
        "securityContext": pod_security,
        "terminationGracePeriodSeconds": 30,
        "containers": [container],
    }
    if volumes:
        pod_spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(gateway),
        "spec": {
            "replicas": gateway.replicas,
            "selector": {"matchLabels": selector(gateway)},
            "template": {
                # A changed configuration restarts the controller, for flavors that read it only at start.
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {label_key("config-hash"): config_hash(parts["config"])},
                },
                "spec": pod_spec,
            },
        },
    }


def service(gateway) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(gateway, annotations=dict(gateway.service_annotations)),
        "spec": {
            "type": gateway.access_mode,
            "selector": selector(gateway),
            "ports": [
                {"name": name, "port": port, "targetPort": name, "protocol": "TCP"}
                for name, port in SERVICE_PORTS.items()
            ],
        },
    }


# The Gateway API (gateway.networking.k8s.io, standard channel). A gateway serving it has a
# GatewayClass for its controller and a Gateway in the project's namespace: a plain HTTP listener
# for every host, and an HTTPS listener per TLS host of the project's routes, which terminates TLS
# with the route's secret. Routes attach to the listener their protocol needs (routes/render.py).
# Listener ports are the controller's own: Traefik matches a listener to the entry point on its port.

GATEWAY_GROUP = "gateway.networking.k8s.io"
GATEWAY_API = f"{GATEWAY_GROUP}/v1"
GATEWAY_API_NAMESPACED_KINDS = [(GATEWAY_API, "Gateway")]
GATEWAY_API_CLUSTER_KINDS = [(GATEWAY_API, "GatewayClass")]
# What Traefik's Gateway provider watches in the namespace, and the statuses it writes.
GATEWAY_API_RESOURCES = ["gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies"]
GATEWAY_API_STATUSES = ["gateways", "httproutes", "grpcroutes"]
HTTP_LISTENER = "http"
MOST_LISTENERS = 64  # the Gateway's limit


def https_listener(host: str) -> str:
    """The HTTPS listener of a TLS host: a name that is valid and stable whatever the host is (a
    wildcard, 253 characters)."""
    return "https-" + hashlib.sha256(host.encode()).hexdigest()[:12]


def gateway_class(gateway) -> dict:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "GatewayClass",
        "metadata": metadata(gateway, gateway.ingress_class, namespaced=False),
        "spec": {
            "controllerName": gateway.flavor_info.gateway_controller,
            "description": f"The gateway of project {gateway.project.name}.",
        },
    }


def gateway_listeners(gateway, tls_hosts: dict[str, str]) -> list[dict]:
    """The HTTP listener, and an HTTPS one per TLS host (`tls_hosts`: host -> secret name)."""
    ports = FLAVOR_PARTS[gateway.flavor](gateway)["container_ports"]
    same_namespace = {"namespaces": {"from": "Same"}}
    listeners = [{"name": HTTP_LISTENER, "protocol": "HTTP", "port": ports["http"], "allowedRoutes": same_namespace}]
    for host, secret in sorted(tls_hosts.items()):
        listeners.append(
            {
                "name": https_listener(host),
                "protocol": "HTTPS",
                "port": ports["https"],
                "hostname": host,
                "tls": {"mode": "Terminate", "certificateRefs": [{"group": "", "kind": "Secret", "name": secret}]},
                "allowedRoutes": same_namespace,
            }
        )
    return listeners


def gateway_object(gateway, tls_hosts: dict[str, str]) -> dict:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": metadata(gateway),
        "spec": {"gatewayClassName": gateway.ingress_class, "listeners": gateway_listeners(gateway, tls_hosts)},
    }
