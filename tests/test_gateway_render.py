"""The gateway renderer, per flavor and access mode, compared field by field with manifests
written out here."""

import pytest
import yaml

from gateways import render
from gateways.models import Gateway
from tenants.models import Project, Workspace

LABELS = {
    "kubeconsole.io/managed-by": "kube-console",
    "kubeconsole.io/owner": "gateway-3",
    "kubeconsole.io/gateway": "shop",
    "app.kubernetes.io/name": "kubeconsole-gateway",
    "app.kubernetes.io/component": "ingress-controller",
}
META = {"name": "kubeconsole-gateway", "namespace": "shop", "labels": LABELS}
CLUSTER_META = {"name": "kubeconsole-gateway-shop", "labels": LABELS}
READ = ["get", "list", "watch"]
SUBJECTS = [{"kind": "ServiceAccount", "name": "kubeconsole-gateway", "namespace": "shop"}]


def gateway(**settings) -> Gateway:
    project = Project(pk=5, name="shop", workspace=Workspace(name="ws"))
    return Gateway(pk=3, project=project, **settings)


def by_kind(manifests: list[dict]) -> dict[str, dict]:
    return {manifest["kind"]: manifest for manifest in manifests}


def test_nginx_inc_nodeport_gateway_renders_every_object():
    manifests = render.manifests(
        gateway(config={"read-timeout": "120", "body-size": "10m"}, external_address="203.0.113.7")
    )
    assert [m["kind"] for m in manifests] == [
        "IngressClass",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
    ]
    objects = by_kind(manifests)
    assert objects["IngressClass"] == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "kubeconsole-shop", "labels": LABELS},
        "spec": {"controller": "nginx.org/ingress-controller"},
    }
    assert objects["ServiceAccount"] == {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": META}
    assert objects["Role"] == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": META,
        "rules": [
            {"apiGroups": [""], "resources": ["services", "endpoints", "secrets", "configmaps", "pods"], "verbs": READ},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "update"]},
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["update"]},
            {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch", "list"]},
            {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
            {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": READ},
            {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": [*READ, "create", "update"]},
        ],
    }
    assert objects["RoleBinding"] == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": META,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "kubeconsole-gateway"},
        "subjects": SUBJECTS,
    }
    assert objects["ClusterRole"] == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": CLUSTER_META,
        "rules": [
            {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": READ},
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": ["shop"]},
        ],
    }
    assert objects["ClusterRoleBinding"] == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": CLUSTER_META,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kubeconsole-gateway-shop"},
        "subjects": SUBJECTS,
    }
    assert objects["ConfigMap"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": META,
        "data": {
            "http2": "true",
            "proxy-read-timeout": "120s",
            "client-max-body-size": "10m",
            "external-status-address": "203.0.113.7",
        },
    }
    deployment = objects["Deployment"]
    assert deployment["metadata"] == META
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"] == {"matchLabels": {"kubeconsole.io/gateway": "shop"}}
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"] == LABELS
    assert list(template["metadata"]["annotations"]) == ["kubeconsole.io/config-hash"]
    pod = template["spec"]
    assert pod["serviceAccountName"] == "kubeconsole-gateway"
    assert pod["securityContext"] == {
        "seccompProfile": {"type": "RuntimeDefault"},
        "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
    }
    assert "volumes" not in pod
    [container] = pod["containers"]
    assert container["image"] == "nginx/nginx-ingress:5.5.4"
    assert container["args"] == [
        "-nginx-configmaps=$(POD_NAMESPACE)/kubeconsole-gateway",
        "-ingress-class=kubeconsole-shop",
        "-watch-namespace=shop",
        "-external-service=kubeconsole-gateway",
        "-report-ingress-status",
        "-enable-custom-resources=false",
        "-enable-snippets=false",
        "-leader-election-lock-name=kubeconsole-gateway-leader",
        "-ready-status",
        "-ready-status-port=8081",
        "-enable-prometheus-metrics=false",
        "-enable-telemetry-reporting=false",
    ]
    assert container["ports"] == [
        {"name": "http", "containerPort": 80, "protocol": "TCP"},
        {"name": "https", "containerPort": 443, "protocol": "TCP"},
    ]
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/nginx-ready", "port": 8081},
        "initialDelaySeconds": 2,
        "periodSeconds": 2,
        "failureThreshold": 3,
    }
    assert container["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "runAsUser": 101,
        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
    }
    assert objects["Service"] == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {**META, "annotations": {}},
        "spec": {
            "type": "NodePort",
            "selector": {"kubeconsole.io/gateway": "shop"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"},
            ],
        },
    }


def test_load_balancer_gateway_carries_the_service_annotations():
    service = by_kind(
        render.manifests(
            gateway(
                access_mode="LoadBalancer",
                service_annotations={"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"},
            )
        )
    )["Service"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"] == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}


def test_ingress_nginx_gateway_has_its_own_controller_class_and_namespace_read():
    objects = by_kind(
        render.manifests(gateway(flavor="ingress-nginx", config={"body-size": "8m", "send-timeout": "30"}))
    )
    assert objects["IngressClass"]["spec"] == {"controller": "kubeconsole.io/ingress-nginx-shop"}
    assert objects["ClusterRole"]["rules"] == [
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": READ},
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"], "resourceNames": ["shop"]},
    ]
    assert objects["Role"]["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps", "pods", "secrets", "endpoints", "services"], "verbs": READ},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    ]
    assert objects["ConfigMap"]["data"] == {"proxy-body-size": "8m", "proxy-send-timeout": "30"}
    [container] = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.k8s.io/ingress-nginx/controller:v1.14.1"
    assert container["args"] == [
        "/nginx-ingress-controller",
        "--controller-class=kubeconsole.io/ingress-nginx-shop",
        "--ingress-class=kubeconsole-shop",
        "--ingress-class-by-name=true",
        "--watch-namespace=shop",
        "--configmap=$(POD_NAMESPACE)/kubeconsole-gateway",
        "--publish-service=$(POD_NAMESPACE)/kubeconsole-gateway",
        "--election-id=kubeconsole-gateway-leader",
        "--watch-ingress-without-class=false",
        "--enable-metrics=false",
        "--disable-svc-external-name=true",
    ]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 10254}


def test_traefik_gateway_reads_its_static_configuration_from_the_config_map():
    objects = by_kind(render.manifests(gateway(flavor="traefik", config={"connect-timeout": "5"}, replicas=2)))
    assert objects["IngressClass"]["spec"] == {"controller": "traefik.io/ingress-controller"}
    # What Traefik v3's informers list: without any of it, it never syncs (proven on the local node).
    assert objects["Role"]["rules"] == [
        {"apiGroups": [""], "resources": ["services", "secrets", "configmaps"], "verbs": READ},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": READ},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"], "verbs": ["update"]},
        {
            "apiGroups": ["traefik.io"],
            "resources": [
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
            ],
            "verbs": READ,
        },
    ]
    assert objects["ClusterRole"]["rules"] == [
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": READ},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": READ},
    ]
    assert yaml.safe_load(objects["ConfigMap"]["data"]["traefik.yml"]) == {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            "web": {"address": ":8000", "transport": {"lifeCycle": {"requestAcceptGraceTimeout": "3s"}}},
            "websecure": {
                "address": ":8443",
                "http": {"tls": {}},
                "transport": {"lifeCycle": {"requestAcceptGraceTimeout": "3s"}},
            },
            "traefik": {"address": ":8080"},
        },
        "ping": {"entryPoint": "traefik"},
        "providers": {
            "providersThrottleDuration": "100ms",
            "kubernetesIngress": {
                "ingressClass": "kubeconsole-shop",
                "namespaces": ["shop"],
                "ingressEndpoint": {"publishedService": "shop/kubeconsole-gateway"},
                "allowExternalNameServices": False,
            },
            "kubernetesCRD": {
                "ingressClass": "kubeconsole-shop",
                "namespaces": ["shop"],
                "allowExternalNameServices": False,
                "allowCrossNamespace": False,
            },
        },
        "serversTransport": {"forwardingTimeouts": {"dialTimeout": "5s"}},
    }
    deployment = objects["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "config", "configMap": {"name": "kubeconsole-gateway"}}]
    [container] = pod["containers"]
    assert (container["image"], container["imagePullPolicy"]) == ("traefik:v3.6.12", "IfNotPresent")
    assert container["args"] == ["--configFile=/etc/traefik/traefik.yml"]
    assert container["volumeMounts"] == [{"name": "config", "mountPath": "/etc/traefik"}]
    assert container["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "https", "containerPort": 8443, "protocol": "TCP"},
    ]


def test_a_changed_configuration_changes_the_pod_template():
    first = by_kind(render.manifests(gateway(flavor="traefik")))["Deployment"]
    second = by_kind(render.manifests(gateway(flavor="traefik", config={"read-timeout": "30"})))["Deployment"]
    key = "kubeconsole.io/config-hash"
    assert (
        first["spec"]["template"]["metadata"]["annotations"][key]
        != (second["spec"]["template"]["metadata"]["annotations"][key])
    )


@pytest.mark.parametrize("flavor", ["nginx-inc", "ingress-nginx", "traefik"])
def test_every_namespaced_object_stays_in_the_projects_namespace(flavor):
    for manifest in render.manifests(gateway(flavor=flavor)):
        if manifest["kind"] in ("IngressClass", "ClusterRole", "ClusterRoleBinding"):
            assert "namespace" not in manifest["metadata"]
        else:
            assert manifest["metadata"]["namespace"] == "shop"
        assert manifest["metadata"]["labels"]["kubeconsole.io/owner"] == "gateway-3"


def test_a_gateway_switching_flavors_keeps_the_earlier_controllers_rules_while_it_serves():
    switching = gateway(flavor="nginx-inc", config={"send-timeout": "30"})  # a setting Traefik has not
    plain = by_kind(render.manifests(switching))
    kept = by_kind(render.manifests(switching, keep_rules_of="traefik"))
    traefiks = {"apiGroups": ["traefik.io"], "resources": render.TRAEFIK_CRDS, "verbs": render.READ}
    assert traefiks in kept["Role"]["rules"] and traefiks not in plain["Role"]["rules"]
    assert {"apiGroups": [""], "resources": ["nodes"], "verbs": render.READ} in kept["ClusterRole"]["rules"]
    assert all(rule in kept["Role"]["rules"] for rule in plain["Role"]["rules"])  # its own rules too
    assert kept["Deployment"] == plain["Deployment"] and kept["ConfigMap"] == plain["ConfigMap"]
    assert by_kind(render.manifests(switching, keep_rules_of="nginx-inc")) == plain
