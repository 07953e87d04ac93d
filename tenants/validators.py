"""Pure checks on tenant names, shared by forms, serializers and models."""

from django.conf import settings
from django.core.exceptions import ValidationError

from console.validators import DNS1123_LABEL

DNS1123_LABEL_MAX = 63
# Namespaces the platform itself uses, or the well-known add-ons a platform installs (and this console
# itself, in its chart's namespace): a project may never take them, or it would own what is installed
# there later. Platforms add their own with CONSOLE_RESERVED_NAMESPACES.
RESERVED_NAMESPACES = {
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "kube-console",
    "cert-manager",
    "monitoring",
    "prometheus",
    "grafana",
    "logging",
    "istio-system",
    "linkerd",
    "ingress-nginx",
    "nginx-ingress",
    "traefik",
    "metallb-system",
    "openelb-system",
    "argocd",
    "flux-system",
    "gatekeeper-system",
    "kyverno",
    "velero",
    "tigera-operator",
    "calico-system",
    "cilium",
    "local-path-storage",
    "kubernetes-dashboard",
    "kubesphere-system",
    "kubesphere-monitoring-system",
    "kubesphere-logging-system",
    "kubesphere-controls-system",
    "kubegems",
    "kubegems-installer",
    "cattle-system",
    "openshift",
}
RESERVED_PREFIXES = ("kube-", "openshift-", "cattle-")


def validate_dns1123_label(value: str) -> None:
    if not value:
        raise ValidationError("Enter a name.", code="required")
    if len(value) > DNS1123_LABEL_MAX:
        raise ValidationError(f"At most {DNS1123_LABEL_MAX} characters (this one has {len(value)}).", code="max_length")
    if not DNS1123_LABEL.fullmatch(value):
        raise ValidationError(
            "Use lowercase letters, digits and '-', starting and ending with a letter or digit.",
            code="bad_value",
        )


def validate_project_name(value: str) -> None:
    validate_dns1123_label(value)
    reserved = RESERVED_NAMESPACES | set(settings.CONSOLE_RESERVED_NAMESPACES)
    if value in reserved or value.startswith(RESERVED_PREFIXES):
        raise ValidationError(
            f"'{value}' is reserved for the cluster's own namespaces and the platform's add-ons.", code="reserved"
        )
