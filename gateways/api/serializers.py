from rest_framework import serializers

from gateways import flavors
from gateways.models import Gateway

LISTENER_FIELDS = ("name", "protocol", "host", "tls_secret", "attached_routes", "conditions")


class GatewayStatusSerializer(serializers.Serializer):
    observed_generation = serializers.IntegerField()
    conditions = serializers.ListField(child=serializers.DictField())
    ingress_class = serializers.CharField()
    addresses = serializers.ListField(child=serializers.CharField())
    node_ports = serializers.DictField(child=serializers.IntegerField())
    ready_replicas = serializers.IntegerField()
    listeners = serializers.ListField(
        child=serializers.DictField(),
        help_text="Gateway API gateways: the Gateway's listeners as the controller reports them "
        "(name, protocol, host, tls_secret, attached_routes, conditions).",
    )


class GatewaySerializer(serializers.ModelSerializer):
    """PUT enables or updates; a setting left out takes its default."""

    access_mode = serializers.ChoiceField(choices=flavors.ACCESS_MODES, default=flavors.NODE_PORT)
    flavor = serializers.ChoiceField(choices=flavors.FLAVOR_CHOICES, default=flavors.NGINX_INC)
    route_api = serializers.ChoiceField(
        choices=flavors.ROUTE_APIS,
        default=flavors.INGRESS_API,
        help_text="gateway-api: routes become HTTPRoutes and GRPCRoutes (Traefik only).",
    )
    replicas = serializers.IntegerField(default=1)
    service_annotations = serializers.DictField(child=serializers.CharField(allow_blank=True), default=dict)
    tracing = serializers.BooleanField(default=False)
    config = serializers.DictField(child=serializers.CharField(), default=dict)
    default_domain = serializers.CharField(allow_blank=True, default="")
    external_address = serializers.CharField(allow_blank=True, default="")
    generation = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="On PUT: the generation you edited (0: there was no gateway); a stale one answers 409.",
    )
    status = serializers.SerializerMethodField()

    class Meta:
        model = Gateway
        fields = ["enabled", *Gateway.SETTINGS, "generation", "status"]
        read_only_fields = ["enabled"]

    def get_status(self, gateway) -> GatewayStatusSerializer:
        return GatewayStatusSerializer(
            {
                "observed_generation": gateway.observed_generation,
                "conditions": gateway.conditions,
                "ingress_class": gateway.ingress_class if gateway.enabled else "",
                "addresses": gateway.addresses,
                "node_ports": gateway.node_ports,
                "ready_replicas": gateway.ready_replicas,
                "listeners": [{key: row[key] for key in LISTENER_FIELDS} for row in gateway.listener_rows],
            }
        ).data
