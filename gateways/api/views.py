"""GET, PUT (enable or update) and DELETE (disable) a project's gateway."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from gateways import services
from gateways.api.serializers import GatewaySerializer
from gateways.models import Gateway
from tenants.api.views import visible_project


class GatewayView(APIView):
    serializer_class = GatewaySerializer

    @extend_schema(responses=GatewaySerializer)
    def get(self, request, name):
        project = visible_project(request, name, "view_gateway")
        gateway = services.gateway_of(project) or Gateway(project=project, enabled=False)
        return Response(GatewaySerializer(gateway).data)

    @extend_schema(request=GatewaySerializer, responses=GatewaySerializer)
    def put(self, request, name):
        project = visible_project(request, name, "manage_gateway")
        serializer = GatewaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        gateway = services.configure_gateway(project, by=request.user, **serializer.validated_data)
        return Response(GatewaySerializer(gateway).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=GatewaySerializer)
    def delete(self, request, name):
        project = visible_project(request, name, "manage_gateway")
        gateway = services.gateway_of(project)
        if gateway is None or not gateway.enabled:
            return Response({"detail": "The gateway is not enabled."}, status=status.HTTP_404_NOT_FOUND)
        services.disable_gateway(gateway, by=request.user)
        return Response(GatewaySerializer(gateway).data, status=status.HTTP_202_ACCEPTED)
