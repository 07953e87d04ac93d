from django.urls import path

from gateways import views

urlpatterns = [
    path("projects/<slug:name>/gateway/", views.gateway_page, name="project-gateway"),
    path("projects/<slug:name>/gateway/wizard/", views.gateway_wizard, name="project-gateway-wizard"),
    path("projects/<slug:name>/gateway/disable/", views.gateway_disable, name="project-gateway-disable"),
]
