from django.contrib import admin, messages

from console.admin import ReadOnlyAdmin
from console.reconcile import reconcile_carrying
from gateways.models import AnnotationAllowance, Gateway
from gateways.policy import ADDRESS_PICKING_KEYS
from tenants import audit
from tenants.models import AuditEntry


def allowance(obj: AnnotationAllowance) -> dict:
    """An allowance as the audit log keeps it."""
    return {"target": obj.target, "kind": obj.kind, "choices": obj.choices}


@admin.register(Gateway)
class GatewayAdmin(ReadOnlyAdmin):
    list_display = ["project", "enabled", "access_mode", "flavor", "replicas", "generation", "observed_generation"]


@admin.register(AnnotationAllowance)
class AnnotationAllowanceAdmin(admin.ModelAdmin):
    """Platform admins allow annotation keys (or prefixes) on routes or gateway Services here."""

    list_display = ["key", "target", "kind", "choices", "created"]
    list_filter = ["target", "kind"]
    search_fields = ["key"]
    fieldsets = [
        (
            None,
            {
                "fields": ["target", "key", "kind", "choices"],
                "description": "Keys that pick an address, a pool or another account's resource let any tenant "
                "take what is someone else's; none ships allowed: "
                + "; ".join(f"{key} {what}" for key, what in ADDRESS_PICKING_KEYS.items())
                + ". Prefer one-of with the values tenants may use.",
            },
        )
    ]

    def save_model(self, request, obj, form, change):
        before = allowance(AnnotationAllowance.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        action = AuditEntry.CHANGED if change else AuditEntry.ADDED
        audit.record(request.user, AuditEntry.ALLOWANCE, action, obj.key, before=before, after=allowance(obj))
        if change:  # a narrower check may refuse values stored under the old one
            reconcile_carrying(obj.key)
        picks = [key for key in ADDRESS_PICKING_KEYS if key == obj.key or key.startswith(obj.key.rstrip("/") + "/")]
        for key in picks:
            messages.warning(
                request,
                f"Every tenant may now set {key}, which {ADDRESS_PICKING_KEYS[key]}. "
                "Limit its values with one-of unless every tenant may have any of them.",
            )

    def delete_model(self, request, obj):
        audit.record(request.user, AuditEntry.ALLOWANCE, AuditEntry.REMOVED, obj.key, before=allowance(obj))
        super().delete_model(request, obj)
        reconcile_carrying(obj.key)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(request.user, AuditEntry.ALLOWANCE, AuditEntry.REMOVED, obj.key, before=allowance(obj))
            reconcile_carrying(obj.key)
        super().delete_queryset(request, queryset)
