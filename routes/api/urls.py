from django.urls import path

from routes.api import views

LIST = {"get": "list", "post": "create"}
ITEM = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}

urlpatterns = [
    path("projects/<slug:name>/routes/", views.RouteViewSet.as_view(LIST), name="api-routes"),
    path(
        "projects/<slug:name>/routes:batchCreate",
        views.RouteViewSet.as_view({"post": "batch_create"}),
        name="api-routes-batch",
    ),
    path("projects/<slug:name>/routes/<slug:route>/", views.RouteViewSet.as_view(ITEM), name="api-route"),
    path(
        "projects/<slug:name>/routes/<slug:route>/manifest/",
        views.RouteViewSet.as_view({"get": "manifest"}),
        name="api-route-manifest",
    ),
    path("projects/<slug:name>/services/", views.ServiceViewSet.as_view({"get": "list"}), name="api-services"),
    path("projects/<slug:name>/secrets/", views.SecretViewSet.as_view({"get": "list"}), name="api-secrets"),
]
