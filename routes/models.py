from django.db import models
from django.utils import timezone

from console.models import ReconciledModel
from console.validators import is_number
from gateways.models import Gateway
from routes import validators
from tenants.models import Project


class RouteQuerySet(models.QuerySet):
    def search(self, text: str):
        """Routes whose name, alias or a rule's host contains every word of `text`: the list page's
        search box and the API's ?search= alike."""
        found = self
        for word in text.split():
            matching = Route.objects.filter(
                models.Q(name__icontains=word)
                | models.Q(alias__icontains=word)
                | models.Q(rules__host__icontains=word)
                | models.Q(rules__generated_host__icontains=word)
            )
            found = found.filter(pk__in=matching.values("pk"))
        return found

    def with_rules(self):
        return self.prefetch_related("rules__paths")

    def listed(self, paths: bool = True):
        """Routes as lists show them: with their rules (and paths), their gateway's name, and
        without what only the worker reads (the apply record, addresses) or, for the gateway shown
        on every row, anything but its name. A page of 50 decodes 150 fewer JSON values."""
        return (
            self.prefetch_related("rules__paths" if paths else "rules")
            .select_related("gateway__project")
            .defer(*WORKER_FIELDS, *(f"gateway__{field}" for field in GATEWAY_WORKER_FIELDS))
        )


WORKER_FIELDS = ("applied", "load_balancer")
GATEWAY_WORKER_FIELDS = ("applied", "config", "service_annotations", "addresses", "node_ports", "conditions")


class Route(ReconciledModel):
    """An Ingress (or a Traefik IngressRoute) of a project, bound to a gateway."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="routes")
    gateway = models.ForeignKey(Gateway, null=True, on_delete=models.SET_NULL, related_name="routes")
    name = models.CharField(max_length=63, validators=[validators.validate_route_name])
    alias = models.CharField(max_length=63, blank=True)
    description = models.TextField(max_length=1024, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # When the rules were last saved: the age of a host claim the worker makes for them, so that
    # the older request holds a host whichever run the worker takes first.
    rules_changed = models.DateTimeField(default=timezone.now, editable=False)
    deletion_requested = models.BooleanField(default=False, editable=False)
    # What the cluster answered: the Click-to-visit addresses and the Ingress's load-balancer status.
    urls = models.JSONField(default=list, blank=True, editable=False)
    load_balancer = models.JSONField(default=list, blank=True, editable=False)
    # What the last apply put in the cluster: the rendered manifests' digest and, per object, its
    # uid and metadata.generation. Lets a reconcile skip an unchanged apply and delete what it no
    # longer renders without listing, and the periodic pass spot drift from one list per kind.
    applied = models.JSONField(default=dict, blank=True, editable=False)
    # Drift the periodic pass found and no apply has answered yet: the pass adds one, and a reconcile
    # that applies sets it back to 0 only if it is still the count it read. A column of its own, as
    # a reconcile running meanwhile rewrites `applied` from the copy it read.
    reapply = models.PositiveIntegerField(default=0, editable=False)

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="route_name_unique_in_project")]

    def __str__(self) -> str:
        return f"{self.project}/{self.name}"

    @classmethod
    def longest(cls, field: str) -> int:
        """A field's limit, for the forms and serializers that take it."""
        return cls._meta.get_field(field).max_length

    @property
    def namespace(self) -> str:
        return self.project.namespace

    OWNER_PREFIX = "route-"

    @property
    def owner(self) -> str:
        return f"{self.OWNER_PREFIX}{self.pk}"

    @classmethod
    def pk_of_owner(cls, owner: str) -> int | None:
        """The primary key of the route an ownership label value names, or None."""
        number = owner.removeprefix(cls.OWNER_PREFIX)
        return int(number) if owner.startswith(cls.OWNER_PREFIX) and is_number(number) else None

    @property
    def state(self) -> str:
        """Ready, Pending, Not admitted, Gateway disabled, Deleting or Error, for lists."""
        if self.deletion_requested:
            return "Deleting"
        admitted = self.condition("Admitted")
        if admitted and admitted["status"] == "False" and self.in_sync:
            return "Not admitted"
        ready = self.condition("Ready")
        if ready and ready["reason"] == "GatewayDisabled" and self.in_sync:
            return "Gateway disabled"
        return super().state


class RouteRule(models.Model):
    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField()
    host_mode = models.CharField(max_length=8, choices=[(m, m) for m in validators.HOST_MODES], default="custom")
    host = models.CharField(max_length=253, blank=True)  # what the user asked: empty for auto rules
    # An auto rule's host, derived from the gateway's address or domain: the worker alone writes it.
    generated_host = models.CharField(max_length=253, blank=True, editable=False)
    protocol = models.CharField(max_length=8, choices=[(p, p) for p in validators.PROTOCOLS], default="http")
    tls_secret = models.CharField(max_length=253, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.protocol}://{self.served_host or '(generated)'}"

    @property
    def served_host(self) -> str:
        """The host the gateway serves the rule at: the user's, or the generated one once known."""
        return self.generated_host if self.host_mode == "auto" else self.host


# The served host in a query (RouteRule.served_host).
SERVED_HOST = models.Case(models.When(host_mode="auto", then=models.F("generated_host")), default=models.F("host"))


class RoutePath(models.Model):
    rule = models.ForeignKey(RouteRule, on_delete=models.CASCADE, related_name="paths")
    position = models.PositiveSmallIntegerField()
    path = models.CharField(max_length=1024, default="/")
    path_type = models.CharField(max_length=8, choices=[(t, t) for t in validators.PATH_TYPES], default="Prefix")
    service = models.CharField(max_length=63)
    port_number = models.PositiveIntegerField(null=True, blank=True)
    port_name = models.CharField(max_length=15, blank=True)
    # The service's share when the path splits traffic: weight / the sum of its backends' weights.
    weight = models.PositiveSmallIntegerField(default=1)
    # Further Services of a split path: [{"service", "port", "weight"}] (spec.BackendSpec).
    alternate_backends = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.path} -> {self.service}:{self.port}"

    @property
    def port(self):
        return self.port_number if self.port_number is not None else self.port_name


class HostClaim(models.Model):
    """A route asking for a host and path within an ingress class. The oldest claim holds the
    host+path (OpenShift's rule); its age is when the route first asked for it."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="claims")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    ingress_class = models.CharField(max_length=253)
    host = models.CharField(max_length=253)
    path = models.CharField(max_length=1024)
    claimed_at = models.DateTimeField()

    class Meta:
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["route", "ingress_class", "host", "path"], name="one_claim_per_route_host_path"
            )
        ]
        indexes = [models.Index(fields=["host", "claimed_at"])]

    def __str__(self) -> str:
        return f"{self.host}{self.path} by {self.route}"
