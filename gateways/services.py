"""Gateway operations, each in one transaction; the wizard and the API call these alike."""

from django.db import transaction

from console.reconcile import changed, enqueue
from gateways.models import Gateway
from gateways.reconcile import reconcile_gateway


def gateway_of(project) -> Gateway | None:
    return Gateway.objects.filter(project=project).first()


@transaction.atomic
def configure_gateway(project, **settings) -> Gateway:
    """Enables the project's gateway, or changes it in place. Raises ValidationError on bad input."""
    unknown = set(settings) - set(Gateway.SETTINGS)
    if unknown:
        raise TypeError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
    gateway = Gateway.objects.select_for_update().filter(project=project).first()
    created = gateway is None
    if created:
        gateway = Gateway(project=project)
    for name, value in settings.items():
        setattr(gateway, name, value)
    gateway.enabled = True
    gateway.full_clean()
    gateway.save()
    if created:
        enqueue(reconcile_gateway, gateway.pk)
    else:
        changed(gateway)
    return gateway


@transaction.atomic
def disable_gateway(gateway: Gateway) -> Gateway:
    """Marks the gateway disabled; the worker removes exactly the objects it created."""
    gateway.enabled = False
    gateway.save(update_fields=["enabled"])
    changed(gateway)
    return gateway
