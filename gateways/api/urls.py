from django.urls import path

from gateways.api import views

urlpatterns = [
    path("projects/<slug:name>/gateway/", views.GatewayView.as_view(), name="api-project-gateway"),
]
