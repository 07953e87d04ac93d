from django.contrib import admin

from console.admin import ReadOnlyAdmin
from gateways.models import AnnotationAllowance, Gateway


@admin.register(Gateway)
class GatewayAdmin(ReadOnlyAdmin):
    list_display = ["project", "enabled", "access_mode", "flavor", "replicas", "generation", "observed_generation"]


@admin.register(AnnotationAllowance)
class AnnotationAllowanceAdmin(admin.ModelAdmin):
    """Platform admins extend a flavor's annotation allow-list here."""

    list_display = ["flavor", "key", "kind", "created"]
    list_filter = ["flavor"]
