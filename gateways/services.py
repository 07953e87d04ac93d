"""Gateway operations, each in one transaction; the wizard and the API call these alike."""

from django.db import transaction

from console.models import stale_edit
from console.reconcile import changed, enqueue
from gateways.models import Gateway, suggested_default_domain
from gateways.reconcile import reconcile_gateway
from tenants import audit
from tenants.models import AuditEntry


def gateway_of(project) -> Gateway | None:
    return Gateway.objects.filter(project=project).first()


def enabled_gateway(project) -> Gateway | None:
    """The project's gateway when it is enabled (what new routes bind to), else None."""
    return Gateway.objects.filter(project=project, enabled=True).select_related("project").first()


def snapshot(gateway: Gateway) -> dict:
    """The gateway as the audit log keeps it."""
    return {"enabled": gateway.enabled, **{name: getattr(gateway, name) for name in Gateway.SETTINGS}}


def _audit(by, gateway: Gateway, before: dict | None) -> None:
    after = snapshot(gateway)
    action = AuditEntry.ADDED if before is None else AuditEntry.CHANGED
    audit.record(
        by, AuditEntry.GATEWAY, action, gateway.ingress_class, before=before, after=after, project=gateway.project
    )


@transaction.atomic
def configure_gateway(project, *, by=None, expected_generation: int | None = None, **settings) -> Gateway:
    """Enables the project's gateway, or changes it in place. Raises ValidationError on bad input,
    and on an edit made from a stale copy: `expected_generation` is the generation the caller read
    (0 when there was no gateway yet)."""
    unknown = set(settings) - set(Gateway.SETTINGS)
    if unknown:
        raise TypeError(f"unknown gateway settings: {', '.join(sorted(unknown))}")
    gateway = Gateway.objects.select_for_update().filter(project=project).first()
    current = gateway.generation if gateway else 0
    if expected_generation is not None and expected_generation != current:
        raise stale_edit("gateway", current, expected_generation)
    created = gateway is None
    before = None if created else snapshot(gateway)
    if created:
        gateway = Gateway(project=project)
    for name, value in settings.items():
        setattr(gateway, name, value)
    if created and "default_domain" not in settings:
        gateway.default_domain = suggested_default_domain(project)
    gateway.enabled = True
    gateway.full_clean()
    gateway.save()
    _audit(by, gateway, before)
    if created:
        enqueue(reconcile_gateway, gateway.pk)
    else:
        changed(gateway)
    return gateway


@transaction.atomic
def disable_gateway(gateway: Gateway, *, by=None) -> Gateway:
    """Marks the gateway disabled; the worker removes exactly the objects it created."""
    before = snapshot(gateway)
    gateway.enabled = False
    gateway.save(update_fields=["enabled"])
    _audit(by, gateway, before)
    changed(gateway)
    return gateway
