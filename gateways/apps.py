from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class GatewaysConfig(AppConfig):
    name = "gateways"
    verbose_name = "Gateways"

    def ready(self):
        checks.register(flavor_images_name_known_flavors)


def flavor_images_name_known_flavors(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """CONSOLE_FLAVOR_IMAGES names only flavors the console has: a misspelt one would go unused."""
    from gateways import flavors

    return [
        checks.Error(
            f"CONSOLE_FLAVOR_IMAGES names {key!r}, which is not a gateway flavor",
            hint=f"The flavors are {', '.join(flavors.FLAVORS)}.",
            id="gateways.E001",
        )
        for key in settings.CONSOLE_FLAVOR_IMAGES
        if key not in flavors.FLAVORS
    ]
