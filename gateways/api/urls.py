from django.urls import path

from gateways.api import views

urlpatterns = [
    path(
        "projects/<slug:name>/gateway/",
        views.GatewayViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="api-project-gateway",
    ),
]
