"""Take back the shipped allowances for keys that pick an address, an address pool or another
account's resource: a tenant could take an IP that another tenant's DNS points at, or a certificate
or resource group that is not theirs. A platform admin may still allow them (the admin warns what
each does)."""

from django.db import migrations

SERVICE = "gateway-service"
# What 0005 shipped for them, to put back on reversal.
SHIPPED = {
    "service.beta.kubernetes.io/aws-load-balancer-ssl-cert": "text",
    "service.beta.kubernetes.io/azure-load-balancer-resource-group": "text",
    "metallb.universe.tf/address-pool": "text",
    "metallb.universe.tf/loadBalancerIPs": "cidr-list",
    "metallb.io/address-pool": "text",
    "metallb.io/loadBalancerIPs": "cidr-list",
    "eip.openelb.kubesphere.io/v1alpha2": "text",
}


def drop(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    allowance.objects.filter(target=SERVICE, key__in=sorted(SHIPPED)).delete()


def restore(apps, schema_editor):
    allowance = apps.get_model("gateways", "AnnotationAllowance")
    for key, kind in SHIPPED.items():
        allowance.objects.get_or_create(target=SERVICE, key=key, defaults={"kind": kind})


class Migration(migrations.Migration):
    dependencies = [("gateways", "0008_gateway_listeners")]

    operations = [migrations.RunPython(drop, restore)]
