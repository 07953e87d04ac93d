from django.contrib import admin

from console.admin import ReadOnlyAdmin
from gateways.models import AnnotationAllowance, Gateway


@admin.register(Gateway)
class GatewayAdmin(ReadOnlyAdmin):
    list_display = ["project", "enabled", "access_mode", "flavor", "replicas", "generation", "observed_generation"]


@admin.register(AnnotationAllowance)
class AnnotationAllowanceAdmin(admin.ModelAdmin):
    """Platform admins allow annotation keys (or prefixes) on routes or gateway Services here."""

    list_display = ["key", "target", "kind", "choices", "created"]
    list_filter = ["target", "kind"]
    search_fields = ["key"]
