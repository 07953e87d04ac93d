from django.db.models import prefetch_related_objects
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from routes import spec as route_spec
from routes.models import Route
from routes.spec import DEFAULT_WEIGHT
from routes.validators import HOST_MODES, MAX_BATCH, MOST_BACKENDS, MOST_WEIGHT, PATH_TYPES, PROTOCOLS


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1, "maximum": 65535}, {"type": "string"}]})
class PortField(serializers.Field):
    """A port number or a port name."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            raise serializers.ValidationError("A port is a number or a name.")
        return route_spec.port_value(data)

    def to_representation(self, value):
        return value


def annotations_field(**kwargs) -> serializers.DictField:
    """Annotation values as given, whitespace included, in every request that carries them."""
    return serializers.DictField(child=serializers.CharField(allow_blank=True, trim_whitespace=False), **kwargs)


def labels_field(**kwargs) -> serializers.DictField:
    return serializers.DictField(child=serializers.CharField(allow_blank=True), **kwargs)


WEIGHT_HELP = (
    f"0 to {MOST_WEIGHT}: the Service's share of the path's requests is its weight over the sum of the "
    "path's weights. Matters when the path has alternate backends."
)


class BackendSerializer(serializers.Serializer):
    service = serializers.CharField(allow_blank=True)
    port = PortField()
    weight = serializers.IntegerField(default=DEFAULT_WEIGHT, help_text=WEIGHT_HELP)


class PathSerializer(serializers.Serializer):
    path = serializers.CharField(default="/", allow_blank=True, trim_whitespace=False)
    path_type = serializers.CharField(default="Prefix", help_text=" or ".join(PATH_TYPES))
    service = serializers.CharField(allow_blank=True)
    port = PortField()
    weight = serializers.IntegerField(default=DEFAULT_WEIGHT, help_text=WEIGHT_HELP)
    alternate_backends = BackendSerializer(
        many=True,
        default=list,
        help_text=f"Up to {MOST_BACKENDS - 1} more Services splitting the path's requests by weight "
        "(Traefik gateways: IngressRoutes or the Gateway API).",
    )


class RuleSerializer(serializers.Serializer):
    host_mode = serializers.CharField(default="custom", help_text=" or ".join(HOST_MODES))
    host = serializers.CharField(default="", allow_blank=True, trim_whitespace=False)
    protocol = serializers.CharField(default="http", help_text=", ".join(PROTOCOLS))
    tls_secret = serializers.CharField(default="", allow_blank=True)
    paths = PathSerializer(many=True)
    generated_host = serializers.CharField(
        read_only=True, help_text="An auto rule's host, once the worker has derived it from the gateway."
    )


class RouteStatusSerializer(serializers.Serializer):
    state = serializers.CharField()
    observed_generation = serializers.IntegerField()
    conditions = serializers.ListField(child=serializers.DictField())
    urls = serializers.ListField(
        child=serializers.CharField(), help_text="Click-to-visit addresses; host:port for gRPC."
    )


class RouteSerializer(serializers.Serializer):
    """A route in JSON. On write, `status`, `created` and `gateway` are read-only; a `generation`
    sent with an update must be the route's current one, or the update answers 409."""

    name = serializers.CharField(allow_blank=True)
    alias = serializers.CharField(default="", allow_blank=True, max_length=Route.longest("alias"))
    description = serializers.CharField(default="", allow_blank=True, max_length=Route.longest("description"))
    gateway = serializers.SerializerMethodField()
    rules = RuleSerializer(many=True)
    annotations = annotations_field(default=dict)
    labels = labels_field(default=dict)
    generation = serializers.IntegerField(
        required=False, min_value=1, help_text="On update: the generation you edited; a stale one answers 409."
    )
    created = serializers.DateTimeField(read_only=True)
    status = serializers.SerializerMethodField()

    def get_gateway(self, route) -> str:
        return route.gateway.ingress_class if route.gateway_id else ""

    @extend_schema_field(RouteStatusSerializer)
    def get_status(self, route) -> dict:
        # Built as plain data: a serializer per route would copy its fields for every row of a list.
        return {
            "state": route.state,
            "observed_generation": route.observed_generation,
            "conditions": route.conditions,
            "urls": [entry["url"] for entry in route.urls if entry.get("url")],
        }

    def to_representation(self, route: Route):
        # Just-saved routes' specs come with them (context["specs"], by primary key), saving the
        # reads of their rules; the worker has not derived their generated hosts yet.
        spec = self.context.get("specs", {}).get(route.pk)
        if spec is None:  # one read of the rules (and paths) for the spec and the generated hosts alike
            prefetch_related_objects([route], "rules__paths")
        data = route_spec.to_data(spec or route_spec.from_route(route))
        generated = [""] * len(data["rules"]) if spec else [rule.generated_host for rule in route.rules.all()]
        for rule, host in zip(data["rules"], generated, strict=True):
            rule["generated_host"] = host
        return {
            "name": route.name,
            "alias": route.alias,
            "description": route.description,
            "gateway": self.get_gateway(route),
            "rules": data["rules"],
            "annotations": data["annotations"],
            "labels": data["labels"],
            "generation": route.generation,
            "created": self.fields["created"].to_representation(route.created),
            "status": self.get_status(route),
        }


class RouteBatchSerializer(serializers.Serializer):
    """Routes of one project, created together or not at all."""

    routes = RouteSerializer(
        many=True,
        allow_empty=False,
        max_length=MAX_BATCH,
        help_text=f"1 to {MAX_BATCH} routes. Problems are keyed routes.<index>.<field>; none is created then.",
    )


class RoutePatchSerializer(RouteSerializer):
    name = serializers.CharField(required=False)
    rules = RuleSerializer(many=True, required=False)
    annotations = annotations_field(required=False)
    labels = labels_field(required=False)
    alias = serializers.CharField(required=False, allow_blank=True, max_length=Route.longest("alias"))
    description = serializers.CharField(required=False, allow_blank=True, max_length=Route.longest("description"))


class ServicePortSerializer(serializers.Serializer):
    name = serializers.CharField()
    port = serializers.IntegerField()
    protocol = serializers.CharField()


class ServiceSerializer(serializers.Serializer):
    name = serializers.CharField()
    ports = ServicePortSerializer(many=True)


class SecretSerializer(serializers.Serializer):
    name = serializers.CharField()
    dns_names = serializers.ListField(child=serializers.CharField())
    not_after = serializers.CharField(allow_null=True)


class ManifestSerializer(serializers.Serializer):
    manifests = serializers.ListField(child=serializers.DictField(), help_text="The objects as they will be applied.")
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="What a Gateway API preview could not settle (named ports)."
    )
