from django.apps import AppConfig


class RoutesConfig(AppConfig):
    name = "routes"
    verbose_name = "Routes"

    def ready(self):
        from routes import for_gateways

        for_gateways.register()
