"""Turns environment variables into the console's configuration.

Pure functions over a mapping, so settings.py is the only module that reads
os.environ and the parsing can be tested without touching the process.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from django.core.exceptions import ValidationError

from console.validators import validate_domain

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
MODES = ("development", "production")
# The limits a platform sets, with their defaults (console/quotas.py).
QUOTA_DEFAULTS = {
    "projects_per_self_provisioner": 10,
    "routes_per_project": 1000,
    "rules_per_route": 50,
    "gateway_replicas": 5,
}


class ConfigError(ValueError):
    """An environment variable holds a value the console cannot use."""


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def parse_int(name: str, value: str | None, default: int, minimum: int = 1) -> int:
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {number}")
    return number


def parse_list(value: str | None, default: list[str]) -> list[str]:
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_mapping(name: str, value: str | None) -> dict[str, str]:
    """`key=value,key=value` into a dict; each key once, none empty."""
    mapping: dict[str, str] = {}
    for item in parse_list(value, []):
        key, equals, entry = (part.strip() for part in item.partition("="))
        if not equals or not key or not entry:
            raise ConfigError(f"{name} must be a comma-separated list of key=value, not {item!r}")
        if key in mapping:
            raise ConfigError(f"{name} names {key!r} twice")
        mapping[key] = entry
    return mapping


def parse_domain(name: str, value: str | None) -> str:
    """A DNS name (lower case, at most 200 characters: a project's name goes in front of it), or ""."""
    domain = (value or "").strip().rstrip(".")
    if not domain:
        return ""
    try:
        validate_domain(domain)
    except ValidationError as error:
        raise ConfigError(f"{name} is not a domain name: {error.messages[0]}") from None
    if len(domain) > 200 or "." not in domain:
        raise ConfigError(f"{name} must be a domain of two labels or more and at most 200 characters")
    return domain


@dataclass(frozen=True)
class Config:
    mode: str
    debug: bool
    https: bool
    secret_key: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    database: dict
    redis_url: str
    kubeconfig: str | None
    in_cluster: bool
    local_cluster_dir: Path
    resync_seconds: int
    cluster_timeout_seconds: int
    server_timing: bool
    reserved_namespaces: list[str]
    tenants_may_add_platform_admins: bool
    token_days: int
    quotas: dict
    flavor_images: dict
    default_domain: str

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @classmethod
    def from_env(cls, env: Mapping[str, str], base_dir: Path) -> "Config":
        mode = env.get("CONSOLE_MODE", "development").strip().lower()
        if mode not in MODES:
            raise ConfigError(f"CONSOLE_MODE must be one of {', '.join(MODES)}, not {mode!r}")
        production = mode == "production"
        secret_key = env.get("DJANGO_SECRET_KEY", "")
        if production and len(secret_key) < 50:
            raise ConfigError("DJANGO_SECRET_KEY must be set to at least 50 random characters in production")
        default_hosts = [] if production else ["127.0.0.1", "localhost", "testserver"]
        database_url = env.get("DATABASE_URL") or f"sqlite:///{base_dir / 'db.sqlite3'}"
        try:
            database = dj_database_url.parse(database_url, conn_max_age=60, conn_health_checks=True)
        except ValueError as error:
            raise ConfigError(f"DATABASE_URL is not a database URL: {error}") from None
        return cls(
            mode=mode,
            debug=parse_bool("DJANGO_DEBUG", env.get("DJANGO_DEBUG"), default=not production),
            https=parse_bool("CONSOLE_HTTPS", env.get("CONSOLE_HTTPS"), default=production),
            secret_key=secret_key or "development-only-insecure-key-do-not-use-in-production",
            allowed_hosts=parse_list(env.get("DJANGO_ALLOWED_HOSTS"), default_hosts),
            csrf_trusted_origins=parse_list(env.get("DJANGO_CSRF_TRUSTED_ORIGINS"), []),
            database=database,
            redis_url=env.get("REDIS_URL") or "redis://127.0.0.1:6379/0",
            kubeconfig=env.get("KUBECONFIG") or None,
            in_cluster=bool(env.get("KUBERNETES_SERVICE_HOST")),
            local_cluster_dir=Path(env.get("CONSOLE_LOCAL_CLUSTER_DIR") or base_dir / ".state" / "controlplane"),
            resync_seconds=parse_int("CONSOLE_RESYNC_SECONDS", env.get("CONSOLE_RESYNC_SECONDS"), 30),
            cluster_timeout_seconds=parse_int(
                "CONSOLE_CLUSTER_TIMEOUT_SECONDS", env.get("CONSOLE_CLUSTER_TIMEOUT_SECONDS"), 10
            ),
            server_timing=parse_bool("CONSOLE_SERVER_TIMING", env.get("CONSOLE_SERVER_TIMING"), default=False),
            reserved_namespaces=parse_list(env.get("CONSOLE_RESERVED_NAMESPACES"), []),
            tenants_may_add_platform_admins=parse_bool(
                "CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS", env.get("CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS"), False
            ),
            token_days=parse_int("CONSOLE_TOKEN_DAYS", env.get("CONSOLE_TOKEN_DAYS"), 30),
            quotas={
                name: parse_int(f"CONSOLE_QUOTA_{name.upper()}", env.get(f"CONSOLE_QUOTA_{name.upper()}"), default)
                for name, default in QUOTA_DEFAULTS.items()
            },
            flavor_images=parse_mapping("CONSOLE_FLAVOR_IMAGES", env.get("CONSOLE_FLAVOR_IMAGES")),
            default_domain=parse_domain("CONSOLE_DEFAULT_DOMAIN", env.get("CONSOLE_DEFAULT_DOMAIN")),
        )

    def cluster_source(self) -> tuple[str, str | None]:
        """Where the cluster client gets its credentials: ("kubeconfig", path),
        ("in-cluster", None), or ("local", path of the local control plane's kubeconfig)."""
        if self.kubeconfig:
            return "kubeconfig", self.kubeconfig.split(":")[0]
        if self.in_cluster:
            return "in-cluster", None
        return "local", str(self.local_cluster_dir / "kubeconfig")
