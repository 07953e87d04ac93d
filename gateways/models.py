from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from console import hostnames, quotas
from console.models import ReconciledModel
from console.validators import validate_address, validate_domain
from gateways import bound_routes, flavors, policy
from gateways.validators import MAX_REPLICAS, validate_config, validate_replicas, validate_service_annotations
from tenants.models import Project


def suggested_default_domain(project) -> str:
    """The default domain a gateway of `project` gets where the platform names a domain
    (CONSOLE_DEFAULT_DOMAIN) and the request names none: <project>.<platform domain>; "" without a
    platform domain, or when that name is not free for the project."""
    if not settings.CONSOLE_DEFAULT_DOMAIN:
        return ""
    domain = f"{project.name}.{settings.CONSOLE_DEFAULT_DOMAIN}"
    try:
        validate_domain(domain)
    except ValidationError:
        return ""
    return "" if Gateway(project=project, default_domain=domain).default_domain_problem() else domain


def controller_image(flavor: str) -> str:
    """The image a flavor's controller runs: the platform's (CONSOLE_FLAVOR_IMAGES), else the pinned one."""
    return settings.CONSOLE_FLAVOR_IMAGES.get(flavor) or flavors.FLAVORS[flavor].image


class Gateway(ReconciledModel):
    """An ingress controller serving routes, with its own identity.

    Today a gateway belongs to one project (KubeSphere's project gateway); `scope` leaves room for
    workspace or cluster gateways that several projects attach to. Routes point at a gateway and
    bind to it through its IngressClass.
    """

    # What a tenant sets; everything else is identity or the cluster's answer.
    SETTINGS = [
        "access_mode",
        "flavor",
        "route_api",
        "replicas",
        "service_annotations",
        "tracing",
        "config",
        "default_domain",
        "external_address",
    ]
    SCOPE_PROJECT = "project"
    SCOPES = [(SCOPE_PROJECT, "Project")]

    scope = models.CharField(max_length=16, choices=SCOPES, default=SCOPE_PROJECT, editable=False)
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="gateway")
    enabled = models.BooleanField(default=True)
    access_mode = models.CharField(max_length=16, choices=flavors.ACCESS_MODES, default=flavors.NODE_PORT)
    flavor = models.CharField(max_length=16, choices=flavors.FLAVOR_CHOICES, default=flavors.NGINX_INC)
    route_api = models.CharField(
        "Routes as",
        max_length=16,
        choices=flavors.ROUTE_APIS,
        default=flavors.INGRESS_API,
        help_text="Gateway API: routes become HTTPRoutes and GRPCRoutes attached to a Gateway (Traefik only).",
    )
    replicas = models.PositiveSmallIntegerField(default=1, validators=[validate_replicas])
    service_annotations = models.JSONField(
        default=dict, blank=True, validators=[validate_service_annotations], help_text="Annotations of the Service."
    )
    tracing = models.BooleanField(default=False)
    config = models.JSONField(default=dict, blank=True, help_text="Controller settings from the allow-list.")
    default_domain = models.CharField(
        max_length=253,
        blank=True,
        validators=[validate_domain],
        help_text="Generated route hosts become <service>-<project>.<default domain>.",
    )
    external_address = models.CharField(
        max_length=253,
        blank=True,
        validators=[validate_address],
        help_text="The address to show for NodePort access, when nodes are not reachable at their own.",
    )
    created = models.DateTimeField(auto_now_add=True)
    # What the cluster reported at the last reconcile.
    addresses = models.JSONField(default=list, blank=True, editable=False)
    node_ports = models.JSONField(default=dict, blank=True, editable=False)
    ready_replicas = models.PositiveSmallIntegerField(default=0, editable=False)
    # A Gateway API gateway's listeners as its controller reports them (gateways/listeners.py).
    listeners = models.JSONField(default=list, blank=True, editable=False)
    # What the last apply put in the cluster, per object: identity, metadata.generation and fingerprint
    # (console/cluster.py applied_record), for the periodic pass to spot drift from one list per kind.
    applied = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["project__name"]

    def __str__(self) -> str:
        return f"gateway of {self.project}"

    def clean(self):
        errors = {}
        if self.route_api == flavors.GATEWAY_API and self.flavor in flavors.FLAVORS:
            if not self.flavor_info.gateway_controller:
                errors["route_api"] = [
                    f"{self.flavor_info.label} does not implement the Gateway API; choose Traefik, or Ingress."
                ]
        if self.tracing and self.flavor in flavors.FLAVORS and not self.flavor_info.tracing:
            errors["tracing"] = [self.flavor_info.no_tracing]
        cannot_split = self.flavor in flavors.FLAVORS and self.flavor != flavors.TRAEFIK
        if cannot_split and self.pk and (split := self.split_paths()):
            errors["flavor"] = [
                f"{split} paths of this project's routes split traffic between Services by weight, "
                f"which {self.flavor_info.label} cannot express through an Ingress; give each path one Service first."
            ]
        most = quotas.limit(quotas.GATEWAY_REPLICAS)
        if isinstance(self.replicas, int) and most < self.replicas <= MAX_REPLICAS:  # past it, the range says so
            errors["replicas"] = [f"At most {most} replicas: a limit the platform sets."]
        if self.default_domain and (problem := self.default_domain_problem()):
            errors["default_domain"] = [problem]
        try:
            validate_config(self.flavor, self.config)
        except ValidationError as error:
            errors["config"] = error.messages
        if self.flavor in flavors.FLAVORS and isinstance(self.service_annotations, dict):
            # The Service's annotations pass the same policy as a route's (gateways/policy.py).
            problems = policy.check_annotations(
                self.service_annotations, self.flavor, AnnotationAllowance.as_policy(), target=policy.GATEWAY_SERVICE
            )
            if problems:
                errors["service_annotations"] = problems
        if errors:
            raise ValidationError(errors)

    def default_domain_problem(self) -> str | None:
        """Why the default domain cannot be this project's own, or None: another project's gateway
        has it, or one above or below it, or another project's routes ask for a name under it (or a
        wildcard covering it). Says that the domain is taken, never by whom."""
        domain = self.default_domain
        platform = settings.CONSOLE_DEFAULT_DOMAIN
        if platform and hostnames.is_under(platform, domain):
            return "This domain takes in the platform's domain, under which every project has a domain of its own."
        if platform and hostnames.is_under(domain, platform):
            own = f"{self.project.name}.{platform}"
            if not hostnames.is_under(domain, own):
                return f"Under the platform's domain, this project's default domain is {own} or a name under it."
        around = Q(default_domain__in=hostnames.suffixes(domain)) | Q(default_domain__endswith=f".{domain}")
        others = Gateway.objects.exclude(project_id=self.project_id)
        if others.filter(around).exists():
            return "Another project's gateway generates its hosts in this domain, or one above or below it."
        if bound_routes.ROUTES.hosts_asked_elsewhere(self.project_id, domain):
            return (
                "Another project's routes already use host names in this domain; "
                "a default domain must be this project's own."
            )
        return None

    def split_paths(self) -> int:
        """How many paths of the gateway's routes split traffic between Services (weighted backends)."""
        return bound_routes.ROUTES.split_paths(self.pk)

    @property
    def listener_rows(self) -> list[dict]:
        """The Gateway's listeners as the page and the API show them (gateways/listeners.py)."""
        from gateways.listeners import rows

        return rows(self.listeners, self.applied.get("tls_hosts", {}))

    @property
    def namespace(self) -> str:
        return self.project.namespace

    @property
    def owner(self) -> str:
        """The value of the ownership label on everything this gateway creates."""
        return f"gateway-{self.pk}"

    @property
    def ingress_class(self) -> str:
        return f"kubeconsole-{self.project.name}"

    @classmethod
    def flavors_stuck_on_their_image(cls) -> set[str]:
        """The flavors of enabled gateways whose new controller waits for an image the nodes could
        not get: what the console can tell of an image's availability without asking the nodes."""
        stuck = cls.objects.filter(enabled=True, ready_reason="ImageNotAvailable")
        return set(stuck.values_list("flavor", flat=True))

    @property
    def flavor_info(self) -> flavors.Flavor:
        return flavors.FLAVORS[self.flavor]

    @property
    def controller_image(self) -> str:
        return controller_image(self.flavor)

    @property
    def serves_gateway_api(self) -> bool:
        return self.route_api == flavors.GATEWAY_API

    @property
    def state(self) -> str:
        if not self.enabled:
            return "Disabled"
        return super().state


class AnnotationAllowance(models.Model):
    """A key, or every key under a prefix, that a platform admin allowed on routes or on gateway
    Services, with the check its values get. Keys the policy never allows stay refused whatever is
    added here; keys under kubernetes.io and k8s.io can only be allowed one by one, on gateway Services."""

    target = models.CharField(max_length=16, choices=policy.TARGETS, default=policy.ROUTE)
    key = models.CharField(
        max_length=317,
        help_text="A whole key (cert-manager.io/cluster-issuer, nginx.org/proxy-buffers) or a prefix ending in '/' "
        "(example.com/).",
    )
    kind = models.CharField(
        max_length=16,
        choices=[(kind, kind) for kind in policy.ALLOWANCE_KINDS],
        help_text="The check values get; one-of takes the choices below.",
    )
    choices = models.CharField(
        max_length=1024, blank=True, help_text="For one-of: the values allowed, comma-separated."
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target", "key"]
        constraints = [models.UniqueConstraint(fields=["target", "key"], name="one_allowance_per_target_key")]

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.key} ({self.kind})"

    @property
    def choice_list(self) -> tuple[str, ...]:
        return tuple(choice.strip() for choice in self.choices.split(",") if choice.strip())

    def clean(self):
        problems = policy.check_allowance(self.target, self.key, self.kind, self.choice_list)
        if problems:
            raise ValidationError(problems)

    @classmethod
    def as_policy(cls) -> policy.Allowances:
        """{target: {key or prefix: Allowance}} for gateways.policy."""
        allowances: policy.Allowances = {}
        for allowance in cls.objects.all():
            allowances.setdefault(allowance.target, {})[allowance.key] = policy.Allowance(
                allowance.kind, allowance.choice_list
            )
        return allowances
