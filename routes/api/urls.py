from django.urls import path

from routes.api import views

urlpatterns = [
    path("projects/<slug:name>/routes/", views.RouteListView.as_view(), name="api-routes"),
    path("projects/<slug:name>/routes:batchCreate", views.RouteBatchCreateView.as_view(), name="api-routes-batch"),
    path("projects/<slug:name>/routes/<slug:route>/", views.RouteDetailView.as_view(), name="api-route"),
    path(
        "projects/<slug:name>/routes/<slug:route>/manifest/",
        views.RouteManifestView.as_view(),
        name="api-route-manifest",
    ),
    path("projects/<slug:name>/services/", views.ServiceListView.as_view(), name="api-services"),
    path("projects/<slug:name>/secrets/", views.SecretListView.as_view(), name="api-secrets"),
]
