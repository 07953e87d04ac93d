"""The routes API: viewsets (the tenancy API's pattern), thin over routes.services, with the
permission table's checks."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from console.api import QuerySetSearch, expected_generation, valid
from gateways.models import Gateway
from routes import live, services, yaml_mapping
from routes import spec as route_spec
from routes.api.serializers import (
    ManifestSerializer,
    RouteBatchSerializer,
    RoutePatchSerializer,
    RouteSerializer,
    SecretSerializer,
    ServiceSerializer,
)
from routes.models import Route
from tenants import permissions as perms
from tenants.models import Project


def fresh(route: Route) -> Route:
    return Route.objects.with_rules().select_related("project", "gateway__project").get(pk=route.pk)


def answer(route: Route, status_code: int = status.HTTP_200_OK) -> Response:
    """The route in JSON, with its generation as ETag for a later If-Match."""
    route = fresh(route)
    return Response(RouteSerializer(route).data, status=status_code, headers={"ETag": f'"{route.generation}"'})


# A project's routes: list, create (one, or up to 500 with batch_create), read, replace, patch,
# delete, and the manifests the worker applies. (A docstring here would describe every operation.)
class RouteViewSet(viewsets.GenericViewSet):
    serializer_class = RouteSerializer
    lookup_field, lookup_url_kwarg = "name", "route"
    filter_backends = [QuerySetSearch, OrderingFilter]
    ordering_fields = ["name", "created"]

    def get_queryset(self):
        project = perms.in_reach(self.request.user, Project, "view_routes", name=self.kwargs["name"])
        return Route.objects.filter(project=project).listed().select_related("project")

    @extend_schema(operation_id="v1_projects_routes_list", responses=RouteSerializer(many=True))
    def list(self, request, name):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(RouteSerializer(page, many=True).data)

    def create(self, request, name):
        project = perms.in_reach(request.user, Project, "create_route", name=name)
        data = valid(RouteSerializer, request)
        route = services.create_route(
            project, data, alias=data["alias"], description=data["description"], by=request.user
        )
        return answer(route, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="v1_projects_routes_batch_create",
        request=RouteBatchSerializer,
        responses={201: RouteBatchSerializer},
    )
    def batch_create(self, request, name):
        """Creates up to 500 routes of a project in one request, all or none (AIP-233's batchCreate)."""
        project = perms.in_reach(request.user, Project, "create_route", name=name)
        created = services.create_routes(project, valid(RouteBatchSerializer, request)["routes"], by=request.user)
        specs = {route.pk: spec for route, spec in created}
        answered = RouteSerializer([route for route, _ in created], many=True, context={"specs": specs}).data
        return Response({"routes": answered}, status=status.HTTP_201_CREATED)

    def retrieve(self, request, name, route):
        return answer(services.route_in_reach(request.user, name, route, "view_routes"))

    def update(self, request, name, route):
        found = services.route_in_reach(request.user, name, route, "edit_route")
        data = valid(RouteSerializer, request)
        updated = services.update_route(
            found,
            data,
            alias=data["alias"],
            description=data["description"],
            expected_generation=expected_generation(request, data),
            by=request.user,
        )
        return answer(updated)

    @extend_schema(request=RoutePatchSerializer, responses=RouteSerializer)
    def partial_update(self, request, name, route):
        found = services.route_in_reach(request.user, name, route, "edit_route")
        data = valid(RoutePatchSerializer, request, partial=True)
        alias, description = data.get("alias"), data.get("description")
        expected = expected_generation(request, data)
        if {"name", "rules", "annotations", "labels"} & set(data):
            current = route_spec.to_data(route_spec.from_route(found))
            merged = {**current, **{k: v for k, v in data.items() if k in ("name", "rules", "annotations", "labels")}}
            found = services.update_route(
                found, merged, alias=alias, description=description, expected_generation=expected, by=request.user
            )
        else:
            found = services.update_info(
                found,
                alias=found.alias if alias is None else alias,
                description=found.description if description is None else description,
                expected_generation=expected,
                by=request.user,
            )
        return answer(found)

    def destroy(self, request, name, route):
        found = services.route_in_reach(request.user, name, route, "delete_route")
        services.delete_route(found, by=request.user)
        # The worker may delete the row as soon as this commits: answer from the route in hand.
        return Response(RouteSerializer(found).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses=ManifestSerializer,
        parameters=[
            OpenApiParameter(
                "as", str, enum=["applied", "gateway-api"], description="gateway-api: the HTTPRoutes and GRPCRoutes"
            )
        ],
    )
    def manifest(self, request, name, route):
        """The Ingress (or IngressRoutes) as the worker will apply them; with ?as=gateway-api, the
        route as Gateway API objects instead (a preview), with notes on what it could not settle."""
        found = services.route_in_reach(request.user, name, route, "view_routes")
        shown_as = request.query_params.get("as", "applied")
        if shown_as not in ("applied", "gateway-api"):
            raise ValidationError({"as": ['"applied" (the default) or "gateway-api".']})
        gateway = found.gateway or Gateway(project=found.project, enabled=False)
        if shown_as == "gateway-api" or gateway.serves_gateway_api:
            manifests, notes = yaml_mapping.gateway_api_preview(found)
            return Response({"manifests": manifests, "notes": notes})
        manifests = yaml_mapping.manifests_of(found, gateway, yaml_mapping.edited_form(gateway))
        return Response({"manifests": manifests, "notes": []})


class ServiceViewSet(viewsets.ViewSet):
    @extend_schema(responses=ServiceSerializer(many=True))
    def list(self, request, name):
        project = perms.in_reach(request.user, Project, "list_services", name=name)
        return Response(ServiceSerializer(live.services(project.namespace), many=True).data)


class SecretViewSet(viewsets.ViewSet):
    @extend_schema(responses=SecretSerializer(many=True))
    def list(self, request, name):
        project = perms.in_reach(request.user, Project, "list_secrets", name=name)
        return Response(SecretSerializer(live.tls_secrets(project.namespace), many=True).data)
