from django.urls import path

from routes import views

urlpatterns = [
    path("projects/<slug:name>/routes/", views.route_list, name="project-routes"),
    path("projects/<slug:name>/routes/new/", views.route_create, name="route-create"),
    path("projects/<slug:name>/routes/<slug:route>/", views.route_detail, name="route-detail"),
    path("projects/<slug:name>/routes/<slug:route>/edit-info/", views.route_edit_info, name="route-edit-info"),
    path("projects/<slug:name>/routes/<slug:route>/edit-rules/", views.route_edit_rules, name="route-edit-rules"),
    path(
        "projects/<slug:name>/routes/<slug:route>/edit-annotations/",
        views.route_edit_annotations,
        name="route-edit-annotations",
    ),
    path("projects/<slug:name>/routes/<slug:route>/edit-yaml/", views.route_edit_yaml, name="route-edit-yaml"),
    path("projects/<slug:name>/routes/<slug:route>/delete/", views.route_delete, name="route-delete"),
    path(
        "projects/<slug:name>/routes/<slug:route>/gateway-api/",
        views.route_gateway_api_preview,
        name="route-gateway-api",
    ),
]
