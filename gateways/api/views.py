"""GET, PUT (enable or update) and DELETE (disable) a project's gateway."""

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.response import Response

from console.api import expected_generation, valid
from gateways import services
from gateways.api.serializers import GatewaySerializer
from gateways.models import Gateway, suggested_default_domain
from tenants import permissions as perms
from tenants.models import Project


def answer(gateway: Gateway, status_code: int = status.HTTP_200_OK) -> Response:
    """The gateway in JSON, with its generation as ETag for a later If-Match."""
    return Response(GatewaySerializer(gateway).data, status=status_code, headers={"ETag": f'"{gateway.generation}"'})


# A project's one gateway: read it, enable or change it (PUT), disable it (DELETE).
class GatewayViewSet(viewsets.ViewSet):
    @extend_schema(responses=GatewaySerializer)
    def retrieve(self, request, name):
        project = perms.in_reach(request.user, Project, "view_gateway", name=name)
        return answer(services.gateway_of(project) or Gateway(project=project, enabled=False, generation=0))

    @extend_schema(request=GatewaySerializer, responses=GatewaySerializer)
    def update(self, request, name):
        project = perms.in_reach(request.user, Project, "manage_gateway", name=name)
        settings = valid(GatewaySerializer, request)
        if "default_domain" not in request.data:  # left out: the project's part of the platform's domain
            settings["default_domain"] = suggested_default_domain(project)
        expected = expected_generation(request, {"generation": settings.pop("generation", None)})
        gateway = services.configure_gateway(project, by=request.user, expected_generation=expected, **settings)
        return answer(gateway, status.HTTP_202_ACCEPTED)

    @extend_schema(responses=GatewaySerializer)
    def destroy(self, request, name):
        project = perms.in_reach(request.user, Project, "manage_gateway", name=name)
        gateway = services.gateway_of(project)
        if gateway is None or not gateway.enabled:
            return Response({"detail": "The gateway is not enabled."}, status=status.HTTP_404_NOT_FOUND)
        services.disable_gateway(gateway, by=request.user)
        return answer(gateway, status.HTTP_202_ACCEPTED)
