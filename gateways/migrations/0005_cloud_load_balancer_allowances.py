"""The common cloud load-balancer keys, allowed on gateway Services, so that gateways keep asking
their cloud for an internal or a typed load balancer now that every prefixed key needs an allowance.
Keys that would let a tenant take an address or a name reserved for someone else (a public IP by
name, a shared-IP key, a DNS label) are left for a platform admin to decide."""

from django.db import migrations

SERVICE = "gateway-service"
BOOLEAN, TEXT, SECONDS, COUNT, ONE_OF, CIDRS = "boolean", "text", "seconds", "count", "one-of", "cidr-list"
AWS = "service.beta.kubernetes.io/aws-load-balancer-"
AZURE = "service.beta.kubernetes.io/azure-load-balancer-"
ALLOWANCES = [
    # AWS (the in-tree cloud provider and the AWS Load Balancer Controller)
    (f"{AWS}internal", BOOLEAN, ""),
    (f"{AWS}type", ONE_OF, "nlb,external"),
    (f"{AWS}scheme", ONE_OF, "internal,internet-facing"),
    (f"{AWS}nlb-target-type", ONE_OF, "ip,instance"),
    (f"{AWS}backend-protocol", ONE_OF, "http,https,ssl,tcp"),
    (f"{AWS}ssl-cert", TEXT, ""),
    (f"{AWS}ssl-ports", TEXT, ""),
    (f"{AWS}cross-zone-load-balancing-enabled", BOOLEAN, ""),
    (f"{AWS}connection-idle-timeout", SECONDS, ""),
    # Azure
    (f"{AZURE}internal", BOOLEAN, ""),
    (f"{AZURE}internal-subnet", TEXT, ""),
    (f"{AZURE}resource-group", TEXT, ""),
    (f"{AZURE}tcp-idle-timeout", COUNT, ""),
    # Google Cloud
    ("cloud.google.com/load-balancer-type", ONE_OF, "Internal,External"),
    ("cloud.google.com/l4-rbs", ONE_OF, "enabled"),
    ("networking.gke.io/load-balancer-type", ONE_OF, "Internal,External"),
    ("networking.gke.io/internal-load-balancer-allow-global-access", BOOLEAN, ""),
    # MetalLB (before and since v0.14)
    ("metallb.universe.tf/address-pool", TEXT, ""),
    ("metallb.universe.tf/loadBalancerIPs", CIDRS, ""),
    ("metallb.io/address-pool", TEXT, ""),
    ("metallb.io/loadBalancerIPs", CIDRS, ""),
    # OpenELB (KubeSphere)
    ("lb.kubesphere.io/v1alpha1", ONE_OF, "openelb"),
    ("protocol.openelb.kubesphere.io/v1alpha1", ONE_OF, "layer2,bgp,vip"),
    ("eip.openelb.kubesphere.io/v1alpha2", TEXT, ""),
]


def allow(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    for key, kind, choices in ALLOWANCES:
        allowance.objects.get_or_create(target=SERVICE, key=key, defaults={"kind": kind, "choices": choices})


def disallow(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    allowance.objects.filter(target=SERVICE, key__in=[key for key, _, _ in ALLOWANCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("gateways", "0004_allowance_targets")]

    operations = [migrations.RunPython(allow, disallow)]
